"""The database owner's full tamper of the audit log (issue 14, item 6): lift the append-only
trigger, edit the decision.approved row, recompute every later hash and the head, put the trigger
back. With the chain keyed, a forger without the key is caught at the edited row. (One with the
key too is caught by the replay: test_audit_replay.py.)"""

import pytest

from storage import verify_audit

from audit_kit import approved_then_more, hmac_with, plain_sha256, rewrite

FORGERS = {
    "plain SHA-256": plain_sha256,
    "a wrong key": hmac_with("not-the-audit-key-but-long-enough-0123456789abcdef"),
}


def _verify(session_factory):
    with session_factory() as s:
        return verify_audit(s)


@pytest.mark.parametrize("forger", FORGERS)
def test_the_owners_full_tamper_is_caught_at_the_edited_row(db_engine, session_factory, forger):
    approved_row = approved_then_more(session_factory)
    assert _verify(session_factory).ok

    # The approval now says the CFO gave it, not the manager.
    rewrite(db_engine, FORGERS[forger], edit_id=approved_row, actor="U_CFO")
    with db_engine.begin() as connection:
        assert connection.exec_driver_sql(
            f"SELECT actor FROM audit_log WHERE id = {approved_row}").scalar_one() == "U_CFO"

    chain = _verify(session_factory)
    assert (chain.ok, chain.bad_row_id, chain.rows_checked) == (False, approved_row, approved_row - 1)
    assert "altered" in chain.problem


@pytest.mark.parametrize("forger", FORGERS)
def test_a_log_rechained_from_the_first_row_fails_at_the_first_row(db_engine, session_factory, forger):
    # Nothing edited, just every hash recomputed without the key: the chain links, yet row 1 fails.
    approved_then_more(session_factory)
    rewrite(db_engine, FORGERS[forger])
    chain = _verify(session_factory)
    assert (chain.ok, chain.bad_row_id, chain.rows_checked) == (False, 1, 0)
    assert "audit key" in chain.problem
