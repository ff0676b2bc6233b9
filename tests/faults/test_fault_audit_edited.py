"""The audit log edited by hand on PostgreSQL (the production database), after requests were
submitted and decided as the product does it: `microbuy audit verify` fails and names the row.
(tests/storage/test_audit_chain.py covers every kind of tampering on both databases through
storage.verify_audit; tests/cli/test_cli.py the command on SQLite.)"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

import storage
from microbuy.cli import main
from policies import DEFAULT_POLICY, load_policy

from faults_kit import audit_of, sql
from slack_kit import MANAGER, store_request

pytestmark = pytest.mark.postgres


def verify(url: str):
    return CliRunner().invoke(main, ["audit", "verify"], env={"DATABASE_URL": url, "MICROBUY_POLICY": str(DEFAULT_POLICY)},
                              catch_exceptions=False)


@pytest.mark.parametrize("edit, named", [
    ("UPDATE audit_log SET data = replace(data, '25.00', '2.50') WHERE id = :id", "broken at row {id}:"),
    ("UPDATE audit_log SET actor = 'U0OTHER' WHERE id = :id", "broken at row {id}:"),
    ("DELETE FROM audit_log WHERE id = :id", "row {id} is missing"),
], ids=["amount", "actor", "deleted"])
def test_verify_names_the_row_edited_by_hand(postgres_url, edit, named):
    policy = load_policy()
    sessions = storage.make_session_factory(storage.make_engine(postgres_url))
    first = store_request(sessions, policy, supplier="Staples")
    second = store_request(sessions, policy, supplier="Costco")
    with sessions.begin() as session:
        storage.record_decision(session, first, revision=1, step=0, approver=MANAGER, outcome="approved")
    ok = verify(postgres_url)
    assert ok.exit_code == 0 and "intact" in ok.stdout

    [target] = [i for i, action, request in audit_of(postgres_url) if (action, request) == ("request.created", second)]
    # What someone with the database owner's rights would do: drop the guards, then edit.
    sql(postgres_url, "DROP TRIGGER audit_log_no_update_delete ON audit_log", edit, id=target)
    bad = verify(postgres_url)
    assert bad.exit_code == 1
    assert named.format(id=target) in bad.stderr and "Traceback" not in bad.stderr
