"""`microbuy policy diff`: stored requests judged again under a draft, on a seeded database."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
import storage.decisions
import storage.requests
import workflow
from microbuy.cli import main
from policies import load_policy
from workflow.judging import judge, record

REPO = Path(__file__).resolve().parents[2]
ESDC = REPO / "policies" / "esdc.yml"
EXAMPLES = REPO / "policies" / "examples"
TODAY = workflow.today(load_policy())  # the one clock: the pack's time zone's date, as the command uses


class Clock:
    """storage's clock, set by the test: requests are stored as submitted at `now`."""

    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int = 12) -> "Clock":
        self.now = datetime.combine(day, time(hour), tzinfo=timezone.utc)
        return self


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    for module in (storage.requests, storage.decisions):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


def run(args, db_url):
    env = {"DATABASE_URL": db_url, "MICROBUY_POLICY": str(ESDC)}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def request(name: str, on: date, **changes) -> dict:
    data = json.loads((EXAMPLES / name).read_text())
    return {**data, "needed_by": (on + timedelta(days=60)).isoformat(), **changes}


def seed(db_url: str, data: dict, on: date, policy_file: Path = ESDC) -> storage.PurchaseRequest:
    """Judge and store a request as the dialogue does, on date `on`."""
    policy = load_policy(policy_file)
    sessions = storage.make_session_factory(storage.make_engine(db_url))
    with sessions.begin() as session:
        parsed, evaluation = judge(session, policy, data, on)
        return record(session, policy, parsed, evaluation)


def draft(tmp_path: Path, *replacements) -> Path:
    text = ESDC.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "draft.yml"
    path.write_text(text)
    return path


LOWER_LIMIT = ("- {from: 2019-04-01, amount: 10000}", "- {from: 2019-04-01, amount: 2000}")
LOWER_TIER = ("- {up_to: 5000, levels: [manager]}", "- {up_to: 150, levels: [manager]}")


@pytest.fixture
def seeded(db_url, clock):
    """Three requests ten days ago (two from Staples, the second attested stand-alone) and one
    long before the window."""
    day = TODAY - timedelta(days=10)
    clock.at(TODAY - timedelta(days=200))
    old = seed(db_url, request("open_source_fix.json", clock.now.date()), clock.now.date())
    clock.at(day, 9)
    markers = seed(db_url, request("whiteboard_markers.json", day), day)
    clock.at(day, 10)
    code = seed(db_url, request("open_source_fix.json", day), day)
    clock.at(day, 11)
    paper = seed(db_url, request("whiteboard_markers.json", day, description="Flip chart paper",
                                 title="Flip chart paper", attest_standalone=True), day)
    return {"old": old, "markers": markers, "code": code, "paper": paper}


def test_same_policy_changes_nothing(db_url, seeded):
    # Judged with today's history, the first Staples purchase would see the later one and need
    # the stand-alone attestation; as of its submission it did not.
    result = run(["policy", "diff", str(ESDC), "--json"], db_url)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["rejudged"] == 3  # the request of 200 days ago is outside the 90-day window
    assert out["changes"] == [] and out["changed"] == 0
    assert out["draft_version"] == out["current_version"] == load_policy(ESDC).version


def test_lower_limit_flips_the_request_above_it(db_url, seeded, tmp_path):
    new = draft(tmp_path, LOWER_LIMIT)
    result = run(["policy", "diff", str(new), "--json"], db_url)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    code = seeded["code"]
    assert code.total > 2000 > seeded["markers"].total
    assert [c["reference"] for c in out["changes"]] == [code.reference]
    change = out["changes"][0]
    assert change["changed"] == ["outcome"]
    assert change["before"]["outcome"] == "approval_required" and change["after"]["outcome"] == "blocked"
    assert change["before"]["total"] == change["after"]["total"] == f"{code.total:.2f}"
    assert len(change["why"]) == 1 and "$2,000.00" in change["why"][0] and f"${code.total:,.2f}" in change["why"][0]
    assert (out["rejudged"], out["outcome_changed"], out["route_changed"]) == (3, 1, 0)


def test_table_names_the_request_and_why(db_url, seeded, tmp_path):
    new = draft(tmp_path, LOWER_LIMIT)
    result = run(["policy", "diff", str(new)], db_url)
    assert result.exit_code == 0, result.stderr
    code = seeded["code"]
    assert code.reference in result.stdout and "Jane Doe Consulting" in result.stdout
    assert "to approval" in result.stdout and "BLOCKED" in result.stdout and "$2,000.00" in result.stdout
    assert seeded["markers"].reference not in result.stdout
    assert result.stdout.rstrip().endswith("3 request(s) submitted "
                                           f"{(TODAY - timedelta(days=90)).isoformat()} to {TODAY.isoformat()} "
                                           "re-judged; 1 would change (1 outcome, 0 route, 0 total)")


def test_lower_tier_changes_the_route_of_small_requests(db_url, seeded, tmp_path):
    new = draft(tmp_path, LOWER_TIER)
    out = json.loads(run(["policy", "diff", str(new), "--json"], db_url).stdout)
    changed = {c["reference"]: c for c in out["changes"]}
    small = [seeded["markers"].reference, seeded["paper"].reference]
    assert set(small) <= set(changed)
    for reference in small:
        assert changed[reference]["changed"] == ["route"]
        assert [s["level"] for s in changed[reference]["before"]["route"]] == ["manager"]
        assert [s["level"] for s in changed[reference]["after"]["route"]] == ["manager", "director"]


def test_window_in_days(db_url, seeded):
    assert json.loads(run(["policy", "diff", str(ESDC), "--json", "--days", "5"], db_url).stdout)["rejudged"] == 0
    assert json.loads(run(["policy", "diff", str(ESDC), "--json", "--days", "365"], db_url).stdout)["rejudged"] == 4


def test_requests_of_an_older_version_compare_with_the_policy_in_force(sqlite_url, clock, tmp_path):
    # Stored under a pack whose first tier stopped at $150 (route manager, director); the pack in
    # force sends it to the manager alone, and so does the draft: the draft changes nothing.
    older = draft(tmp_path, LOWER_TIER)
    day = TODAY - timedelta(days=3)
    clock.at(day)
    stored = seed(sqlite_url, request("whiteboard_markers.json", day), day, policy_file=older)
    assert [step["level"] for step in stored.route] == ["manager", "director"]
    out = json.loads(run(["policy", "diff", str(ESDC), "--json"], sqlite_url).stdout)
    assert (out["rejudged"], out["changed"], out["re_judged_baselines"]) == (1, 0, 1)


def test_broken_draft_is_reported_like_policy_check(sqlite_url, tmp_path):
    lines = ESDC.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "amount: 10000}" in line)
    lines[at] = lines[at].replace("amount: 10000}", "amount: -1}")
    broken = tmp_path / "broken.yml"
    broken.write_text("\n".join(lines) + "\n")
    result = run(["policy", "diff", str(broken)], sqlite_url)
    assert result.exit_code == 3
    assert f"{broken}:{at + 1}: limits.per_transaction.amounts.0.amount:" in result.stderr
    assert result.stdout == ""


def test_without_a_database_says_how_to_make_one(tmp_path):
    result = run(["policy", "diff", str(ESDC)], f"sqlite:///{tmp_path / 'absent.db'}")
    assert result.exit_code == 4 and "microbuy db upgrade" in result.stderr
