"""The `microbuy` command line, run as an admin would: real files, a real database."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

import storage
from microbuy.cli import CARD_LOG_COLUMNS, main
from policies import load_policy
from workflow.judging import BlockedRequest, judge, record

REPO = Path(__file__).resolve().parents[2]
ESDC = REPO / "policies" / "esdc.yml"
EXAMPLES = REPO / "policies" / "examples"
ON = "2026-11-25"


def run(args, db_url=None, input=None, env=None):
    """The command in-process, with DATABASE_URL pointing at the test's database."""
    environment = {"DATABASE_URL": db_url or "", "MICROBUY_POLICY": str(ESDC), **(env or {})}
    return CliRunner().invoke(main, args, input=input, env=environment, catch_exceptions=False)


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def seed(db_url: str, data: dict, on: date) -> storage.PurchaseRequest:
    """Store a judged, submitted request, as the dialogue will."""
    policy = load_policy(ESDC)
    sessions = storage.make_session_factory(storage.make_engine(db_url))
    with sessions.begin() as session:
        request, evaluation = judge(session, policy, data, on)
        return record(session, policy, request, evaluation)


# --- policy check ---------------------------------------------------------------------------
def test_policy_check_accepts_the_shipped_pack():
    result = run(["policy", "check", str(ESDC)])
    assert result.exit_code == 0, result.stderr
    assert "✓" in result.stdout and load_policy(ESDC).short_version in result.stdout


def test_policy_check_names_file_and_line_of_each_problem(tmp_path):
    lines = ESDC.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "window_days: 60")
    lines[at] = lines[at].replace("window_days", "windw_days")
    broken = tmp_path / "draft.yml"
    broken.write_text("\n".join(lines) + "\n")
    result = run(["policy", "check", str(ESDC), str(broken)])
    assert result.exit_code == 3
    assert f"{broken}:{at + 1}: splitting.windw_days: unknown key" in result.stderr
    assert "did you mean 'window_days'" in result.stderr
    assert f"✓ {ESDC}" in result.stdout  # the good file is still reported as good


def test_policy_check_reads_the_shared_vocabulary_too(tmp_path, monkeypatch):
    # An admin's broken edit of policies/vocabulary/same_need.yml would fail the first splitting
    # check; the pack check says so first.
    import policies.same_need

    broken = tmp_path / "same_need.yml"
    broken.write_text("synonyms:\n  - [laptop, portable\n")
    monkeypatch.setattr(policies.same_need, "SHARED_VOCABULARY", broken)
    result = run(["policy", "check", str(ESDC)])
    assert result.exit_code == 3
    assert f"✗ {ESDC}: its shared vocabulary: {broken}: cannot be read" in result.stderr
    broken.write_text("synonyms: [laptop, portable]\n")  # YAML, but not groups
    result = run(["policy", "check", str(ESDC)])
    assert result.exit_code == 3 and "must be a list of groups" in result.stderr


def test_policy_check_of_missing_file_is_an_error(tmp_path):
    result = run(["policy", "check", str(tmp_path / "nope.yml")])
    assert result.exit_code == 3
    assert "cannot read the file" in result.stderr


# --- evaluate -------------------------------------------------------------------------------
def test_evaluate_prints_the_outcome_as_json(sqlite_url):
    result = run(["evaluate", str(EXAMPLES / "whiteboard_markers.json"), "--date", ON], sqlite_url)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    data = example("whiteboard_markers.json")
    subtotal = Decimal(data["unit_price"]) * data["quantity"]
    assert out["outcome"] == "approval_required"
    assert out["subtotal"] == f"{subtotal:.2f}"
    assert out["tax"] == f"{(subtotal * Decimal('0.13')).quantize(Decimal('0.01')):.2f}"  # ON HST
    assert Decimal(out["total"]) == Decimal(out["subtotal"]) + Decimal(out["tax"])
    assert out["policy_version"] == load_policy(ESDC).version
    assert out["approval_route"][0]["approvers"] == ["U01AMINA"]
    for key in ("outcome", "subtotal", "tax", "total", "findings", "approval_route", "policy_version"):
        assert key in out


def test_evaluate_blocked_request_explains_why(sqlite_url):
    result = run(["evaluate", str(EXAMPLES / "conference_over_limit.json"), "--date", ON], sqlite_url)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["outcome"] == "blocked"
    blocks = [f for f in out["findings"] if f["severity"] == "block"]
    assert [f["rule"] for f in blocks] == ["limits.per_transaction"]
    assert "$10,000.00" in blocks[0]["message"]


def test_evaluate_uses_spending_history_from_the_database(sqlite_url, tmp_path):
    # Stored requests are dated now, so this test judges as of today.
    first = dict(example("whiteboard_markers.json"), needed_by=(date.today() + timedelta(days=60)).isoformat())
    second = tmp_path / "second.json"
    second.write_text(json.dumps(dict(first, description="Flip chart paper", title="Flip chart paper")))
    today = date.today().isoformat()

    before = json.loads(run(["evaluate", str(second), "--date", today], sqlite_url).stdout)
    assert before["outcome"] == "approval_required"
    assert "splitting.attestation" not in {f["rule"] for f in before["findings"]}

    stored = seed(sqlite_url, first, date.today())
    after = json.loads(run(["evaluate", str(second), "--date", today], sqlite_url).stdout)
    attest = [f for f in after["findings"] if f["rule"] == "splitting.attestation"]
    assert after["outcome"] == "blocked"
    assert attest[0]["severity"] == "block" and attest[0]["field"] == "attest_standalone"
    assert stored.reference in attest[0]["message"]


def test_evaluate_reports_every_bad_field(sqlite_url):
    bad = {"requester": "U1", "quantity": "x", "unit_price": "NaN", "suplier": "Staples"}
    result = run(["evaluate", "-"], sqlite_url, input=json.dumps(bad))
    assert result.exit_code == 1
    assert "quantity: 'x' is not a whole number" in result.stderr
    assert "unit_price: 'NaN' is not a number" in result.stderr
    assert "suplier: is not a request field (did you mean 'supplier'?)" in result.stderr
    assert "category: is required" in result.stderr
    assert result.stdout == ""


def test_evaluate_refuses_names_the_policy_does_not_know(sqlite_url):
    data = dict(example("whiteboard_markers.json"), province="ZZ", category="snacks")
    result = run(["evaluate", "-"], sqlite_url, input=json.dumps(data))
    assert result.exit_code == 1
    assert "province: 'ZZ' is not one of: AB" in result.stderr
    assert "category: 'snacks' is not one of:" in result.stderr


def test_evaluate_invalid_json_says_where(sqlite_url):
    result = run(["evaluate", "-"], sqlite_url, input='{"requester": "U1",\n "quantity": }')
    assert result.exit_code == 1
    assert "<stdin>:2:" in result.stderr and "not valid JSON" in result.stderr


def test_evaluate_with_a_broken_policy_evaluates_nothing(sqlite_url, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(ESDC.read_text().replace("amount: 10000}", "amount: -1}"))
    result = run(["evaluate", str(EXAMPLES / "whiteboard_markers.json"), "--policy", str(broken)], sqlite_url)
    assert result.exit_code == 3
    assert "must be more than zero" in result.stderr and result.stdout == ""


def test_evaluate_bad_date_is_a_usage_error(sqlite_url):
    result = run(["evaluate", str(EXAMPLES / "whiteboard_markers.json"), "--date", "25/11/2026"], sqlite_url)
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_evaluate_in_french(sqlite_url):
    result = run(["evaluate", str(EXAMPLES / "conference_over_limit.json"), "--date", ON, "--language", "fr"],
                 sqlite_url)
    out = json.loads(result.stdout)
    assert out["language"] == "fr"
    assert "10\u00a0000,00\u00a0$" in out["findings"][0]["message"]
    # The source of each finding is cited in French too.
    limit = next(f for f in out["findings"] if f["rule"] == "limits.per_transaction")
    assert limit["source"] == load_policy(ESDC).rules.limits.per_transaction.source["fr"]
    assert limit["source"].startswith("Politique sur les cartes d'achat d'EDSC, annexe C")


def test_evaluate_refuses_a_language_the_pack_lacks(sqlite_url):
    result = run(["evaluate", str(EXAMPLES / "whiteboard_markers.json"), "--language", "de"], sqlite_url)
    assert result.exit_code == 2
    assert "'de' is not a language of this pack (en, fr)" in result.stderr


def test_evaluate_without_a_database_says_how_to_make_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    result = run(["evaluate", str(EXAMPLES / "whiteboard_markers.json")], url)
    assert result.exit_code == 4
    assert "microbuy db upgrade" in result.stderr
    assert not (tmp_path / "absent.db").exists()


def test_database_password_never_printed():
    url = "postgresql://microbuy:s3cret-pass@127.0.0.1:1/microbuy"
    result = run(["evaluate", str(EXAMPLES / "whiteboard_markers.json")], url)
    assert result.exit_code == 4
    assert "s3cret-pass" not in result.stderr + result.stdout
    assert "127.0.0.1:1" in result.stderr


# --- recording ------------------------------------------------------------------------------
def test_recorded_request_keeps_the_policy_version_it_was_judged_by(sqlite_url):
    stored = seed(sqlite_url, example("open_source_fix.json"), date(2026, 11, 25))
    policy = load_policy(ESDC)
    assert stored.policy_version == policy.version
    assert [step["level"] for step in stored.route] == ["manager", "finance"]
    engine = storage.make_engine(sqlite_url)
    with engine.connect() as connection:
        content = connection.execute(text("SELECT content FROM policy_versions WHERE version = :v"),
                                     {"v": policy.version}).scalar_one()
    assert content == ESDC.read_text()


def test_a_blocked_request_is_not_submitted(sqlite_url):
    with pytest.raises(BlockedRequest, match="over the"):
        seed(sqlite_url, example("conference_over_limit.json"), date(2026, 11, 25))
    sessions = storage.make_session_factory(storage.make_engine(sqlite_url))
    with sessions() as session:
        assert storage.list_requests(session) == []


# --- database, audit, export ----------------------------------------------------------------
def test_db_upgrade_creates_then_reuses(empty_sqlite_url):
    first = run(["db", "upgrade"], empty_sqlite_url)
    assert first.exit_code == 0, first.stderr
    assert "is at revision" in first.stdout
    assert storage.current_revision(empty_sqlite_url) is not None
    again = run(["db", "upgrade"], empty_sqlite_url)
    assert again.exit_code == 0 and again.stdout == first.stdout


def test_db_upgrade_on_unreachable_server_fails_clearly():
    result = run(["db", "upgrade"], "postgresql://postgres@127.0.0.1:1/none")
    assert result.exit_code == 4
    assert "cannot migrate the database at postgresql://postgres@127.0.0.1:1/none" in result.stderr


def test_audit_verify_ok_then_names_the_tampered_row(sqlite_url):
    seed(sqlite_url, example("whiteboard_markers.json"), date(2026, 11, 25))
    seed(sqlite_url, example("open_source_fix.json"), date(2026, 11, 25))
    ok = run(["audit", "verify"], sqlite_url)
    assert ok.exit_code == 0 and "intact" in ok.stdout
    engine = storage.make_engine(sqlite_url)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()
        target = rows[1]
        for trigger in connection.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars().all():
            connection.execute(text(f'DROP TRIGGER "{trigger}"'))
        connection.execute(text("UPDATE audit_log SET actor = 'U666' WHERE id = :id"), {"id": target})
    bad = run(["audit", "verify"], sqlite_url)
    assert bad.exit_code == 1
    assert f"broken at row {target}" in bad.stderr


def purchased(db_url: str, name: str, paid: Decimal, on: date) -> storage.PurchaseRequest:
    stored = seed(db_url, example(name), on)
    sessions = storage.make_session_factory(storage.make_engine(db_url))
    with sessions.begin() as session:
        for step, level in enumerate(stored.route):
            storage.record_decision(session, stored.id, revision=stored.revision, step=step,
                                    approver=level["approvers"][0], outcome="approved")
        storage.mark_purchased(session, stored.id, actor=stored.requester, amount_paid=paid, purchased_on=on)
    return stored


def test_export_writes_the_month_card_log(sqlite_url, tmp_path):
    first = purchased(sqlite_url, "whiteboard_markers.json", Decimal("190.00"), date(2026, 11, 25))
    target = tmp_path / "nov.csv"
    result = run(["export", "--month", "2026-11", "-o", str(target)], sqlite_url)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["reference"] for row in rows] == [first.reference]
    assert rows[0]["amount_paid"] == "190.00" and rows[0]["total"] == f"{first.total:.2f}"
    assert rows[0]["approved_by"].startswith("U01AMINA")
    empty = run(["export", "--month", "2026-10"], sqlite_url)
    assert empty.stdout.splitlines() == [",".join(CARD_LOG_COLUMNS)]


def test_export_neutralises_spreadsheet_formulas(sqlite_url):
    data = dict(example("whiteboard_markers.json"), description="=HYPERLINK(\"http://evil.example\")")
    stored = seed(sqlite_url, data, date(2026, 11, 25))
    sessions = storage.make_session_factory(storage.make_engine(sqlite_url))
    with sessions.begin() as session:
        storage.record_decision(session, stored.id, revision=stored.revision, step=0, approver="U01AMINA",
                                outcome="approved")
        storage.mark_purchased(session, stored.id, actor=stored.requester, amount_paid=stored.total,
                               purchased_on=date(2026, 11, 26))
    result = run(["export", "--month", "2026-11"], sqlite_url)
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row["description"].startswith("'=")


def test_export_bad_month_is_a_usage_error(sqlite_url):
    result = run(["export", "--month", "2026-13"], sqlite_url)
    assert result.exit_code == 2


# --- examples and the installed command -----------------------------------------------------
def test_examples_shows_every_example(sqlite_url):
    result = run(["examples", "--date", ON], sqlite_url)
    assert result.exit_code == 0, result.stderr
    for file in EXAMPLES.glob("*.json"):
        assert file.name in result.stdout
    assert "BLOCKED" in result.stdout and "goes to approval" in result.stdout


def test_installed_command_runs_with_its_exit_codes(sqlite_url):
    microbuy = Path(sys.executable).with_name("microbuy")
    env = {**os.environ, "DATABASE_URL": sqlite_url}
    ok = subprocess.run([str(microbuy), "evaluate", str(EXAMPLES / "whiteboard_markers.json"), "--date", ON],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["outcome"] == "approval_required"
    bad = subprocess.run([str(microbuy), "evaluate", "-"], input="[]", capture_output=True, text=True, env=env,
                         timeout=120)
    assert bad.returncode == 1 and "must be a JSON object" in bad.stderr
