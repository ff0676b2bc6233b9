"""`microbuy audit verify`, `audit seal-unkeyed`, and the audit key of `db upgrade`, as an admin
runs them: the key is needed, a wrong one is named, and a request changed behind the
application's back is named with it. (The same on PostgreSQL: tests/faults/test_fault_audit_edited.py.)"""

import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from microbuy.cli import main
from storage import AuditEntry, create_request, make_engine, make_session_factory, record_decision

from audit_kit import plain_sha256, rewrite, sql
from storage_factories import request_fields


def run(args, url, env=None, input=None):
    environment = {"DATABASE_URL": url, **(env or {})}
    return CliRunner().invoke(main, args, env=environment, input=input, catch_exceptions=False)


@pytest.fixture
def approved(sqlite_url):
    """Two requests, the second approved."""
    sessions = make_session_factory(make_engine(sqlite_url))
    with sessions.begin() as s:
        create_request(s, **request_fields())
        second = create_request(s, **request_fields(supplier="Costco")).id
        record_decision(s, second, revision=1, step=0, approver="U_MGR", outcome="approved")
    return sqlite_url


def test_verify_checks_the_chain_and_every_request(approved):
    ok = run(["audit", "verify"], approved)
    assert (ok.exit_code, ok.stdout) == (0, "✓ audit log intact: 5 row(s) checked; 2 request(s) agree with their "
                                           "audit trail\n")


@pytest.mark.parametrize("change, named", [
    ("UPDATE purchase_requests SET status = 'certified' WHERE id = 2",
     "status is 'certified' in purchase_requests, but its audit trail says 'approved' (audit row 5)"),
    ("UPDATE purchase_requests SET total = 1000000, subtotal = 987000 WHERE id = 2",
     "subtotal is 9870.00 in purchase_requests, but its audit trail says 100.00 (audit row 3)"),
    ("UPDATE purchase_requests SET approved_max_amount = 1000000 WHERE id = 2",
     "approved_max_amount is 10000.00 in purchase_requests, but its audit trail says 113.00 (audit row 5)"),
    ("DELETE FROM decisions WHERE request_id = 2",
     "audit row 5 records a decision on revision 1 step 1 (approved by U_MGR), "
     "but the decisions table has none (deleted?)"),
], ids=["status", "total", "approved maximum", "decision deleted"])
def test_verify_names_the_request_changed_behind_its_back(approved, change, named):
    sql(make_engine(approved), change)
    bad = run(["audit", "verify"], approved)
    assert bad.exit_code == 1 and bad.stdout == ""
    assert bad.stderr == (f"error: request MB-000002 disagrees with its audit trail: {named} "
                          "(1 request(s) agreed before it)\n")


@pytest.mark.parametrize("env, exit_code, says", [
    ({"MICROBUY_AUDIT_KEY": None}, 4, "cannot check the audit log: no audit key: the default key file"),
    ({"MICROBUY_AUDIT_KEY": "w" * 64}, 1, "audit log broken at row 1: row 1: hash does not match its content "
                                          "(altered, or the audit key is not the one this log was sealed with"),
    ({"MICROBUY_AUDIT_KEY": "short"}, 4, "it needs at least 32"),
    ({"MICROBUY_AUDIT_KEY": None, "MICROBUY_AUDIT_KEY_FILE": "{group_readable}"}, 4,
     "can be read or changed by others (mode 0640); make it owner-only: chmod 600"),
], ids=["no key", "a wrong key", "a short key", "a group-readable key file"])
def test_verify_without_the_right_key(approved, tmp_path, env, exit_code, says):
    key_file = tmp_path / "audit.key"
    key_file.write_text(os.environ["MICROBUY_AUDIT_KEY"])
    key_file.chmod(0o640)
    env = {name: value.format(group_readable=key_file) if value else value for name, value in env.items()}
    result = run(["audit", "verify"], approved, env)
    assert result.exit_code == exit_code and says in result.stderr
    assert "Traceback" not in result.output and os.environ["MICROBUY_AUDIT_KEY"] not in result.output


def test_db_upgrade_makes_an_owner_only_key_beside_a_new_sqlite_database(empty_sqlite_url, tmp_path, monkeypatch):
    run_key = os.environ["MICROBUY_AUDIT_KEY"]
    monkeypatch.delenv("MICROBUY_AUDIT_KEY")  # no key configured, for the command and this process
    made = run(["db", "upgrade"], empty_sqlite_url)
    key_file = tmp_path / "microbuy.db.audit-key"
    assert made.exit_code == 0
    assert f"audit key: the key file beside the database ({key_file})" in made.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert run(["db", "upgrade"], empty_sqlite_url).exit_code == 0 and key_file.read_text() == key

    with make_session_factory(make_engine(empty_sqlite_url)).begin() as s:  # the app finds it too
        create_request(s, **request_fields())
    assert run(["audit", "verify"], empty_sqlite_url).exit_code == 0
    # sealed with the file's key, not with another one
    assert run(["audit", "verify"], empty_sqlite_url, {"MICROBUY_AUDIT_KEY": run_key}).exit_code == 1


def test_db_upgrade_warns_when_postgresql_has_no_key(postgres_url):
    result = run(["db", "upgrade"], postgres_url, {"MICROBUY_AUDIT_KEY": None})
    assert result.exit_code == 0
    assert "warning: no audit key: set MICROBUY_AUDIT_KEY" in result.stderr


def test_an_old_log_is_sealed_by_the_admin_once(approved):
    rewrite(make_engine(approved), plain_sha256)  # as a microbuy before the key wrote it
    old = run(["audit", "verify"], approved)
    assert old.exit_code == 1 and "see microbuy audit seal-unkeyed" in old.stderr

    declined = run(["audit", "seal-unkeyed"], approved, input="n\n")
    assert declined.exit_code == 1 and "rows 1 to 5 of 5 carry plain SHA-256 hashes" in declined.stdout
    assert run(["audit", "verify"], approved).exit_code == 1  # nothing was sealed

    sealed = run(["audit", "seal-unkeyed"], approved, input="y\n")
    assert sealed.exit_code == 0 and "✓ sealed 5 row(s)" in sealed.stdout
    ok = run(["audit", "verify"], approved)
    assert ok.exit_code == 0 and "6 row(s) checked" in ok.stdout
    with make_session_factory(make_engine(approved))() as s:
        last = s.execute(select(AuditEntry).where(AuditEntry.id == 6)).scalar_one()
    assert (last.action, last.actor.startswith("cli:")) == ("audit.sealed", True)

    again = run(["audit", "seal-unkeyed", "--yes"], approved)
    assert (again.exit_code, again.stdout) == (0, "nothing to seal: all 6 row(s) of the audit log are keyed\n")


def test_grant_app_role_is_for_postgresql(sqlite_url):
    result = run(["db", "grant-app-role", "microbuy_app"], sqlite_url)
    assert result.exit_code == 1 and "only PostgreSQL has roles" in result.stderr
