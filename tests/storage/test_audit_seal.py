"""Sealing the rows written before the audit log was keyed (storage/audit_seal.py): once, after
checking every old link, audited; and never a way to launder a rewritten log."""

import json
import os

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from storage import AuditEntry, append_audit, verify_audit
from storage.audit_seal import AuditSealError, plan_seal, seal_unkeyed

from audit_kit import hmac_with, plain_sha256, rewrite, sql


def _key() -> bytes:
    return os.environ["MICROBUY_AUDIT_KEY"].encode()  # this run's key (tests/conftest.py)


def _append(session_factory, n, start=0):
    with session_factory.begin() as s:
        for i in range(start, start + n):
            append_audit(s, actor="U_A", action="test.event", request_id=None, data={"n": i})


def _hashes(session_factory):
    with session_factory() as s:
        return s.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id)).all()


def _old_log(db_engine, session_factory, n=5):
    """A log as a microbuy before the key wrote it: plain SHA-256 links."""
    _append(session_factory, n)
    rewrite(db_engine, plain_sha256)


def _seal(session_factory, expected):
    with session_factory.begin() as s:
        return seal_unkeyed(s, _key(), expected_unkeyed=expected, actor="cli:admin")


def test_an_old_log_is_sealed_once_and_audited(db_engine, session_factory):
    _old_log(db_engine, session_factory)
    with session_factory() as s:
        before = verify_audit(s)
        plan = plan_seal(s, _key())
    assert (before.ok, before.bad_row_id) == (False, 1) and "seal-unkeyed" in before.problem
    old_last_hash = _hashes(session_factory)[-1].hash
    assert (plan.rows, plan.unkeyed, plan.unkeyed_last_hash) == (5, 5, old_last_hash)

    _seal(session_factory, expected=5)

    with session_factory() as s:
        after = verify_audit(s)
        sealed = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        again = plan_seal(s, _key())
    assert after.ok and after.rows_checked == 6
    assert (sealed.action, sealed.actor, json.loads(sealed.data)) == (
        "audit.sealed", "cli:admin", {"rows": 5, "rows_sealed": 5, "unkeyed_last_hash": old_last_hash})
    assert again.unkeyed == 0
    # the append-only triggers are back
    with pytest.raises(DBAPIError, match="append-only"):
        sql(db_engine, "UPDATE audit_log SET actor = 'U_EVIL' WHERE id = 2")


def test_keyed_rows_appended_after_the_old_ones_are_sealed_with_them(db_engine, session_factory):
    _old_log(db_engine, session_factory, n=3)
    _append(session_factory, 2, start=3)  # a newer microbuy ran before anyone sealed
    with session_factory() as s:
        assert (plan_seal(s, _key()).rows, plan_seal(s, _key()).unkeyed) == (5, 3)
    _seal(session_factory, expected=3)
    with session_factory() as s:
        assert verify_audit(s).ok


def _edit_old_row(db_engine, session_factory):
    _old_log(db_engine, session_factory)
    sql(db_engine, "DROP TRIGGER audit_log_no_update" if db_engine.dialect.name == "sqlite"
        else "DROP TRIGGER audit_log_no_update_delete ON audit_log")
    sql(db_engine, "UPDATE audit_log SET actor = 'U_EVIL' WHERE id = 2")


def _unkeyed_after_keyed(db_engine, session_factory):
    _append(session_factory, 5)
    rewrite(db_engine, plain_sha256, edit_id=3)  # rows 3 to 5 re-chained without the key


def _rewritten_after_sealing(db_engine, session_factory):
    _old_log(db_engine, session_factory)
    _seal(session_factory, expected=5)
    rewrite(db_engine, plain_sha256)  # the owner, without the key, makes it all look old again


def _wrong_key(db_engine, session_factory):
    _append(session_factory, 5)
    rewrite(db_engine, hmac_with("w" * 64))


REFUSALS = {
    "an old row edited": (_edit_old_row, 5, "row 2: hash matches neither the audit key nor plain SHA-256"),
    "unkeyed rows after keyed ones": (_unkeyed_after_keyed, 3, "row 3 is unkeyed but follows keyed rows"),
    "a sealed log rewritten": (_rewritten_after_sealing, 6, "row 6 records an earlier seal but is unkeyed"),
    "a log under another key": (_wrong_key, 5, "row 1: hash matches neither"),
    "not what was confirmed": (_old_log, 4, "5 row(s) are unkeyed now, not the 4 confirmed"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_sealing_refuses_what_it_would_launder_and_changes_nothing(db_engine, session_factory, case):
    prepare, confirmed, problem = REFUSALS[case]
    prepare(db_engine, session_factory)
    before = _hashes(session_factory)
    with pytest.raises(AuditSealError) as refused:
        _seal(session_factory, expected=confirmed)
    assert problem in str(refused.value) and "nothing was sealed" in str(refused.value)
    assert _hashes(session_factory) == before
    with session_factory() as s:
        assert not verify_audit(s).ok
