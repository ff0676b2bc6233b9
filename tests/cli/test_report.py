"""`microbuy report`: a month seeded through storage, its figures recomputed here from the seeding."""
from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import storage
import storage.decisions
import storage.requests
from microbuy.cli import main
from policies import load_policy
from workflow.judging import judge, record

REPO = Path(__file__).resolve().parents[2]
ESDC = REPO / "policies" / "esdc.yml"
EXAMPLES = REPO / "policies" / "examples"
MONTH = "2025-10"
# The month of moments (submissions, decisions) is the pack's: Toronto's.
TORONTO = ZoneInfo("America/Toronto")
START, END = datetime(2025, 10, 1, tzinfo=TORONTO), datetime(2025, 11, 1, tzinfo=TORONTO)
THRESHOLD = Decimal("1000")  # the report's pack lowers the disclosure threshold so a request is over it
SCRIPT = "<script>alert(1)</script>"


def utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = utc(10, 1, 0)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seeded:
    """What the test did to one request, from which it computes the expected figures."""
    reference: str
    cost_centre: str
    category: str
    supplier: str
    total: Decimal
    indigenous: Optional[bool]
    submitted: datetime
    status: str = "submitted"
    decided: Optional[datetime] = None
    paid: Optional[Decimal] = None
    purchased_on: Optional[date] = None
    id: int = 0
    route: tuple = ()
    requester: str = ""


class Month:
    """Seeds requests through workflow.judging and storage at the times the test chooses."""

    def __init__(self, db_url: str, clock: Clock):
        self.sessions = storage.make_session_factory(storage.make_engine(db_url))
        self.clock = clock
        self.policy = load_policy(ESDC)
        self.seeded: list[Seeded] = []

    def submit(self, name: str, at: datetime, **changes) -> Seeded:
        data = {**json.loads((EXAMPLES / name).read_text()), "needed_by": (at.date() + timedelta(days=60)).isoformat(),
                **changes}
        data = {key: value for key, value in data.items() if value is not None}
        self.clock.now = at
        with self.sessions.begin() as session:
            parsed, evaluation = judge(session, self.policy, data, at.date())
            stored = record(session, self.policy, parsed, evaluation)
            item = Seeded(stored.reference, stored.cost_centre, stored.category, stored.supplier, stored.total,
                          data.get("supplier_indigenous"), at, id=stored.id, route=tuple(stored.route),
                          requester=stored.requester)
        self.seeded.append(item)
        return item

    def decide(self, item: Seeded, outcome: str, *times: datetime) -> None:
        """One decision per step of the route, at the given times; the last is the final one."""
        for step, at in enumerate(times):
            self.clock.now = at
            with self.sessions.begin() as session:
                storage.record_decision(session, item.id, revision=1, step=step,
                                        approver=item.route[step]["approvers"][0], outcome=outcome)
        item.decided, item.status = times[-1], "approved" if outcome == "approved" else outcome

    def purchase(self, item: Seeded, paid: str, on: date) -> None:
        with self.sessions.begin() as session:
            storage.mark_purchased(session, item.id, actor=item.requester, amount_paid=Decimal(paid), purchased_on=on)
        item.paid, item.purchased_on, item.status = Decimal(paid), on, "purchased"

    def cancel(self, item: Seeded, at: datetime) -> None:
        self.clock.now = at
        with self.sessions.begin() as session:
            storage.cancel_request(session, item.id, actor=item.requester, reason="no longer needed")
        item.status = "cancelled"


@pytest.fixture
def month(sqlite_url, monkeypatch) -> Month:
    clock = Clock()
    for module in (storage.requests, storage.decisions):
        monkeypatch.setattr(module, "utcnow", clock)
    m = Month(sqlite_url, clock)
    markers = dict(attest_standalone=True)  # the same supplier again: the stand-alone attestation
    late_september = m.submit("whiteboard_markers.json", utc(9, 28, 10), **markers)
    m.decide(late_september, "approved", utc(10, 1, 9))
    bought = m.submit("whiteboard_markers.json", utc(10, 2, 9), **markers)
    m.decide(bought, "approved", utc(10, 2, 15))
    m.purchase(bought, "190.00", date(2025, 10, 5))
    code = m.submit("open_source_fix.json", utc(10, 6, 10))  # Indigenous supplier; manager, then finance
    m.decide(code, "approved", utc(10, 6, 12), utc(10, 7, 10))
    m.purchase(code, f"{code.total}", date(2025, 10, 9))
    refused = m.submit("whiteboard_markers.json", utc(10, 12, 8), supplier="Grand & Toy", **markers)
    m.decide(refused, "rejected", utc(10, 13, 20))
    m.submit("whiteboard_markers.json", utc(10, 20, 9), cost_centre="100300", supplier=SCRIPT)  # waits
    other = m.submit("whiteboard_markers.json", utc(10, 15, 8), cost_centre="100300", supplier="Bureau en Gros",
                     supplier_indigenous=None)
    m.decide(other, "approved", utc(10, 15, 10))
    m.purchase(other, "100.00", date(2025, 10, 16))
    dropped = m.submit("whiteboard_markers.json", utc(10, 25, 9), **markers)
    m.cancel(dropped, utc(10, 26, 9))
    m.submit("whiteboard_markers.json", utc(11, 3, 9), supplier="=Evil Supplies", **markers)  # next month, waits
    # 22:30 on 31 October in Toronto, already November in UTC: October's, and it waits.
    m.submit("whiteboard_markers.json", utc(11, 1, 2).replace(minute=30), supplier="Late Evening Supplies", **markers)
    return m


def run(args, db_url):
    return CliRunner().invoke(main, args, env={"DATABASE_URL": db_url, "MICROBUY_POLICY": str(ESDC)},
                              catch_exceptions=False)


@pytest.fixture
def pack(tmp_path) -> Path:
    text = ESDC.read_text()
    assert text.count("threshold: 10000") == 1
    path = tmp_path / "pack.yml"
    path.write_text(text.replace("threshold: 10000", f"threshold: {THRESHOLD}"))
    return path


def read_csv(path: Path, month: str = MONTH) -> dict:
    table = {}
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        assert row["month"] == month
        key = (row["cost_centre"], row["measure"], row["key"])
        assert key not in table, key
        table[key] = row
    return table


# --- the figures, computed from what the test seeded ----------------------------------------------
def tenth(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def in_month(moment) -> bool:
    return moment is not None and START <= moment < END


def expected(items: list[Seeded]) -> dict:
    """(measure, key) -> value as the CSV shows it."""
    submitted = [i for i in items if in_month(i.submitted)]
    approved = [i for i in items if in_month(i.decided) and i.status in ("approved", "purchased")]
    bought = [i for i in items if i.purchased_on and START.date() <= i.purchased_on < END.date()]
    decision_hours = [Decimal((i.decided - i.submitted) // timedelta(minutes=1)) / 60
                      for i in items if in_month(i.decided)]
    outcome = {"purchased": "approved", "approved": "approved", "rejected": "rejected", "cancelled": "cancelled",
               "submitted": "pending"}
    spent = sum((i.paid for i in bought), Decimal(0))
    indigenous = sum((i.paid for i in bought if i.indigenous is True), Decimal(0))
    figures = {
        ("spend_approved", ""): f"{sum((i.total for i in approved), Decimal(0)):.2f}",
        ("requests_approved", ""): str(len(approved)),
        ("spend_purchased", ""): f"{spent:.2f}",
        ("requests_purchased", ""): str(len(bought)),
        ("requests_submitted", ""): str(len(submitted)),
        ("decisions", ""): str(len(decision_hours)),
        ("decision_hours_median", ""): tenth(statistics.median(decision_hours)) if decision_hours else "",
        ("decision_hours_max", ""): tenth(max(decision_hours)) if decision_hours else "",
        ("waiting", ""): str(sum(i.status == "submitted" for i in items)),
        ("indigenous_spend", ""): f"{indigenous:.2f}",
        ("indigenous_unknown_spend", ""): f"{sum((i.paid for i in bought if i.indigenous is None), Decimal(0)):.2f}",
        ("indigenous_share", ""): tenth(indigenous * 100 / spent) if spent else "",
        ("over_disclosure_threshold", ""): str(sum(i.total > THRESHOLD for i in submitted)),
    }
    figures.update({("requests_by_category", k): str(v) for k, v in Counter(i.category for i in submitted).items()})
    figures.update({("requests_by_outcome", k): str(v)
                    for k, v in Counter(outcome[i.status] for i in submitted).items()})
    figures.update({("over_disclosure_threshold_request", i.reference): f"{i.total:.2f}"
                    for i in submitted if i.total > THRESHOLD})
    return figures


def test_csv_figures_match_the_seeded_month(month, sqlite_url, pack, tmp_path):
    before = datetime.now(timezone.utc)
    result = run(["report", "--month", MONTH, "--policy", str(pack), "-o", str(tmp_path / "out")], sqlite_url)
    after = datetime.now(timezone.utc)
    assert result.exit_code == 0, result.stderr
    table = read_csv(tmp_path / "out" / f"report-{MONTH}.csv")
    groups = {"100200": [i for i in month.seeded if i.cost_centre == "100200"],
              "100300": [i for i in month.seeded if i.cost_centre == "100300"], "all": month.seeded}
    for centre, items in groups.items():
        want = expected(items)
        got = {(measure, key): row["value"] for (cc, measure, key), row in table.items()
               if cc == centre and not measure.startswith("waiting")}
        assert got == {k: v for k, v in want.items() if k[0] != "waiting"}, centre
        assert table[(centre, "waiting", "")]["value"] == want[("waiting", "")]
        for item in (i for i in items if i.status == "submitted"):  # waited from submission to the report
            waited = Decimal(table[(centre, "waiting_request", item.reference)]["value"])
            low, high = ((moment - item.submitted) / timedelta(hours=1) for moment in (before, after))
            assert Decimal(str(low)) - 1 < waited < Decimal(str(high)) + 1
    # The seeding covers each kind of figure, so none of the checks above is vacuous.
    assert table[("100200", "decision_hours_median", "")]["value"] not in ("", "0.0")
    assert table[("all", "indigenous_share", "")]["value"] not in ("", "0.0")
    assert table[("100200", "over_disclosure_threshold", "")]["value"] == "1"
    assert table[("100200", "requests_by_outcome", "cancelled")]["value"] == "1"
    assert table[("100200", "spend_purchased", "")]["unit"] == "CAD"
    assert table[("100300", "waiting", "")]["cost_centre_name"] == "Benefits Delivery Modernization"


def test_csv_neutralises_formulas(month, sqlite_url, tmp_path):
    run(["report", "--month", MONTH, "-o", str(tmp_path)], sqlite_url)
    table = read_csv(tmp_path / f"report-{MONTH}.csv")
    evil = next(i for i in month.seeded if i.supplier.startswith("="))
    assert table[("100200", "waiting_request", evil.reference)]["label"] == "'=Evil Supplies"


def test_html_shows_the_figures_and_escapes_suppliers(month, sqlite_url, pack, tmp_path):
    result = run(["report", "--month", MONTH, "--policy", str(pack), "-o", str(tmp_path)], sqlite_url)
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / f"report-{MONTH}.html").read_text(encoding="utf-8")
    bought = [i for i in month.seeded if i.paid is not None]
    spent = sum(i.paid for i in bought)
    indigenous = sum(i.paid for i in bought if i.indigenous is True)
    assert f"${spent:,.2f}" in page
    assert f"{tenth(indigenous * 100 / spent)}%" in page
    over = next(i for i in month.seeded if i.total > THRESHOLD and in_month(i.submitted))
    assert over.reference in page and f"${over.total:,.2f}" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()  # neither the supplier nor any script of our own
    assert "<svg" in page and "<rect" in page and "Office supplies" in page
    assert "src=" not in page and "<link" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_one_cost_centre(month, sqlite_url, tmp_path):
    result = run(["report", "--month", MONTH, "--cost-centre", "100300", "-o", str(tmp_path)], sqlite_url)
    assert result.exit_code == 0, result.stderr
    table = read_csv(tmp_path / f"report-{MONTH}.csv")
    assert {cc for cc, _, _ in table} == {"100300"}
    assert table[("100300", "requests_submitted", "")]["value"] == "2"


def test_an_empty_month_has_every_measure_at_zero(sqlite_url, tmp_path):
    result = run(["report", "--month", "2024-02", "-o", str(tmp_path)], sqlite_url)
    assert result.exit_code == 0, result.stderr
    table = read_csv(tmp_path / "report-2024-02.csv", "2024-02")
    assert table[("all", "spend_purchased", "")]["value"] == "0.00"
    assert table[("all", "decision_hours_median", "")]["value"] == ""
    assert "Nothing this month." in (tmp_path / "report-2024-02.html").read_text()


@pytest.mark.parametrize("args, code, says", [
    (["--month", "2025-13"], 2, "YYYY-MM"),
    (["--month", "2025-10", "--policy", "/nonexistent/pack.yml"], 3, "cannot read the file"),
])
def test_exit_codes(sqlite_url, tmp_path, args, code, says):
    result = run(["report", *args, "-o", str(tmp_path)], sqlite_url)
    assert result.exit_code == code and says in result.stderr
    assert list(tmp_path.glob("report-*")) == []


def test_without_a_database(tmp_path):
    result = run(["report", "--month", MONTH, "-o", str(tmp_path)], f"sqlite:///{tmp_path / 'absent.db'}")
    assert result.exit_code == 4 and "microbuy db upgrade" in result.stderr
