"""The audit log edited by hand on PostgreSQL (the production database), after requests were
submitted and decided as the product does it: `microbuy audit verify` fails and names the row, or
the request whose stored state its audit trail does not bear out. That holds against the
database's owner too: the chain is keyed with a secret the database does not hold.
(tests/storage/test_audit_*.py cover every kind of tampering on both databases; the app's own
role, which cannot edit the log at all, is tests/storage/test_audit_app_role.py.)"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
from microbuy.cli import main
from policies import DEFAULT_POLICY, load_policy

from faults_kit import audit_of, sql
from slack_kit import MANAGER, store_request

sys.path.append(str(Path(__file__).resolve().parents[1] / "storage"))
from audit_kit import hmac_with, plain_sha256, rewrite  # the owner's tamper, shared with tests/storage

pytestmark = pytest.mark.postgres


def verify(url: str):
    return CliRunner().invoke(main, ["audit", "verify"],
                              env={"DATABASE_URL": url, "MICROBUY_POLICY": str(DEFAULT_POLICY)},
                              catch_exceptions=False)


def submitted_and_decided(url: str):
    """Two requests stored as the product stores them, the first approved by the manager."""
    policy = load_policy()
    sessions = storage.make_session_factory(storage.make_engine(url))
    first = store_request(sessions, policy, supplier="Staples")
    second = store_request(sessions, policy, supplier="Costco")
    with sessions.begin() as session:
        storage.record_decision(session, first, revision=1, step=0, approver=MANAGER, outcome="approved")
    ok = verify(url)
    assert ok.exit_code == 0 and "intact" in ok.stdout
    return first, second


@pytest.mark.parametrize("edit, named", [
    ("UPDATE audit_log SET data = replace(data, '25.00', '2.50') WHERE id = :id", "broken at row {id}:"),
    ("UPDATE audit_log SET actor = 'U0OTHER' WHERE id = :id", "broken at row {id}:"),
    ("DELETE FROM audit_log WHERE id = :id", "row {id} is missing"),
], ids=["amount", "actor", "deleted"])
def test_verify_names_the_row_edited_by_hand(postgres_url, edit, named):
    first, second = submitted_and_decided(postgres_url)
    [target] = [i for i, action, request in audit_of(postgres_url) if (action, request) == ("request.created", second)]
    # What someone with the database owner's rights would do: drop the guards, then edit.
    sql(postgres_url, "DROP TRIGGER audit_log_no_update_delete ON audit_log", edit, id=target)
    bad = verify(postgres_url)
    assert bad.exit_code == 1
    assert named.format(id=target) in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("forger", ["plain SHA-256", "a wrong key"])
def test_the_owners_rewrite_of_the_approval_is_caught_without_the_key(postgres_url, forger):
    # Drop the trigger, make the approval a director's, recompute every later hash and the head,
    # recreate the trigger: all the owner can do without the key.
    first, _ = submitted_and_decided(postgres_url)
    [approval] = [i for i, action, request in audit_of(postgres_url)
                  if (action, request) == ("decision.approved", first)]
    engine = storage.make_engine(postgres_url)
    try:
        hasher = plain_sha256 if forger == "plain SHA-256" else hmac_with(hashlib.sha256(b"guess").hexdigest())
        rewrite(engine, hasher, edit_id=approval, actor="U0DIRECTOR")
    finally:
        engine.dispose()
    assert sql(postgres_url, "SELECT actor FROM audit_log WHERE id = :id", id=approval) == [("U0DIRECTOR",)]
    assert sql(postgres_url, "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_log_no_update_delete'") == [(1,)]
    bad = verify(postgres_url)
    assert bad.exit_code == 1
    assert (f"audit log broken at row {approval}: row {approval}: hash does not match its content (altered)"
            in bad.stderr)


def test_a_request_certified_behind_the_apps_back_is_named(postgres_url):
    first, _ = submitted_and_decided(postgres_url)
    sql(postgres_url, "UPDATE purchase_requests SET status = 'certified' WHERE id = :id", id=first)
    bad = verify(postgres_url)
    assert bad.exit_code == 1
    assert (f"request MB-{first:06d} disagrees with its audit trail: status is 'certified' in purchase_requests, "
            "but its audit trail says 'approved'") in bad.stderr
    assert bad.stdout == ""
