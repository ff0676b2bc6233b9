"""The hash-chained audit log: appends, verification, and tampering detection."""

import hashlib
import hmac
import json
import os

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from storage import AuditEntry, AuditVerification, append_audit, verify_audit

GENESIS = "0" * 64


def _keyed(text: str) -> str:
    """HMAC-SHA256 under this run's audit key (tests/conftest.py), as docs/storage.md gives it."""
    return hmac.new(os.environ["MICROBUY_AUDIT_KEY"].encode(), text.encode(), hashlib.sha256).hexdigest()


def _append(session_factory, n, start=0):
    with session_factory.begin() as s:
        for i in range(start, start + n):
            append_audit(s, actor="U_ADMIN", action="test.event", request_id=i % 3 or None, data={"n": i})


def _sql(engine, *statements):
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _drop_append_only_triggers(engine):
    """What someone with DDL rights could do before editing history."""
    if engine.dialect.name == "sqlite":
        _sql(engine, "DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete")
    else:
        _sql(engine, "DROP TRIGGER audit_log_no_update_delete ON audit_log",
             "DROP TRIGGER audit_log_no_truncate ON audit_log")


def _verify(session_factory, **kwargs):
    with session_factory() as s:
        return verify_audit(s, **kwargs)


def test_hashes_follow_the_documented_formula(session_factory):
    _append(session_factory, 2)
    with session_factory() as s:
        rows = s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    prev = GENESIS
    for row in rows:
        body = json.dumps(
            {"id": row.id, "at": row.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": row.actor,
             "action": row.action, "request_id": row.request_id, "data": json.loads(row.data)},
            sort_keys=True, separators=(",", ":"),
        )
        assert row.prev_hash == prev
        assert row.hash == _keyed(prev + body)
        assert row.hash != hashlib.sha256((prev + body).encode()).hexdigest()
        prev = row.hash
    assert [r.id for r in rows] == [1, 2]
    assert rows[0].data == '{"n":0}'


def test_data_is_canonical_json_with_exact_values(session_factory):
    import datetime as dt
    from decimal import Decimal

    with session_factory.begin() as s:
        entry = append_audit(s, actor="U_A", action="x", data={
            "b": Decimal("10.50"), "a": dt.date(2026, 3, 1),
            "at": dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc), "é": "ü",
        })
    assert entry.data == '{"a":"2026-03-01","at":"2026-03-01T12:00:00+00:00","b":"10.50","é":"ü"}'
    assert _verify(session_factory).ok


def test_empty_log_verifies(session_factory):
    assert _verify(session_factory) == AuditVerification(ok=True, rows_checked=0)


def test_append_only_triggers_refuse_update_and_delete(db_engine, session_factory):
    _append(session_factory, 3)
    for statement in ("UPDATE audit_log SET actor = 'U_EVIL' WHERE id = 2",
                      "DELETE FROM audit_log WHERE id = 3"):
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(db_engine, statement)
    if db_engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(db_engine, "TRUNCATE audit_log")
    verification = _verify(session_factory)
    assert verification.ok and verification.rows_checked == 3


def test_altered_data_is_reported_at_that_row(db_engine, session_factory):
    _append(session_factory, 6)
    _drop_append_only_triggers(db_engine)
    _sql(db_engine, """UPDATE audit_log SET data = '{"n":999}' WHERE id = 4""")
    result = _verify(session_factory)
    assert (result.ok, result.bad_row_id, result.rows_checked) == (False, 4, 3)
    assert "altered" in result.problem


def test_altered_actor_is_reported(db_engine, session_factory):
    _append(session_factory, 3)
    _drop_append_only_triggers(db_engine)
    _sql(db_engine, "UPDATE audit_log SET actor = 'U_SOMEONE_ELSE' WHERE id = 1")
    assert _verify(session_factory).bad_row_id == 1


def test_non_canonical_rewrite_is_reported(db_engine, session_factory):
    _append(session_factory, 3)
    _drop_append_only_triggers(db_engine)
    _sql(db_engine, """UPDATE audit_log SET data = '{"n": 1}' WHERE id = 2""")  # same value, new bytes
    result = _verify(session_factory)
    assert result.bad_row_id == 2 and "canonical" in result.problem


def test_rehashed_row_breaks_the_next_link(db_engine, session_factory):
    _append(session_factory, 5)
    _drop_append_only_triggers(db_engine)
    # The forger, key in hand, recomputes row 2's hash too; row 3 still points at the old one.
    with session_factory() as s:
        row = s.execute(select(AuditEntry).where(AuditEntry.id == 2)).scalar_one()
        body = json.dumps({"id": 2, "at": row.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": row.actor,
                           "action": row.action, "request_id": row.request_id, "data": {"n": 42}},
                          sort_keys=True, separators=(",", ":"))
        forged = _keyed(row.prev_hash + body)
    _sql(db_engine, f"""UPDATE audit_log SET data = '{{"n":42}}', hash = '{forged}' WHERE id = 2""")
    result = _verify(session_factory)
    assert result.bad_row_id == 3 and "prev_hash" in result.problem


@pytest.mark.parametrize("deleted, bad_row, checked, says", [
    (3, 4, 2, "row 3 is missing"),  # a middle row
    (6, 6, 5, "truncated"),  # the last row: the log was cut short
])
def test_a_deleted_row_is_reported(db_engine, session_factory, deleted, bad_row, checked, says):
    _append(session_factory, 6)
    _drop_append_only_triggers(db_engine)
    _sql(db_engine, f"DELETE FROM audit_log WHERE id = {deleted}")
    result = _verify(session_factory)
    assert (result.ok, result.bad_row_id, result.rows_checked) == (False, bad_row, checked)
    assert says in result.problem


def test_row_added_behind_the_head_is_reported(db_engine, session_factory):
    _append(session_factory, 3)
    # A perfectly chained forgery, inserted without moving audit_head.
    with session_factory() as s:
        last = s.execute(select(AuditEntry).where(AuditEntry.id == 3)).scalar_one()
        at = last.at
    body = json.dumps({"id": 4, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": "U_EVIL",
                       "action": "test.event", "request_id": None, "data": {}},
                      sort_keys=True, separators=(",", ":"))
    forged = _keyed(last.hash + body)
    with db_engine.begin() as connection:
        connection.execute(
            AuditEntry.__table__.insert().values(
                id=4, at=at, actor="U_EVIL", action="test.event", request_id=None,
                data="{}", prev_hash=last.hash, hash=forged,
            )
        )
    result = _verify(session_factory)
    assert (result.ok, result.bad_row_id, result.rows_checked) == (False, 4, 3)
    assert "past the head" in result.problem


def test_deleted_first_row_is_reported(db_engine, session_factory):
    _append(session_factory, 3)
    _drop_append_only_triggers(db_engine)
    _sql(db_engine, "DELETE FROM audit_log WHERE id = 1")
    result = _verify(session_factory)
    assert (result.bad_row_id, result.rows_checked) == (2, 0)


def test_missing_head_is_reported(db_engine, session_factory):
    _append(session_factory, 2)
    _sql(db_engine, "DELETE FROM audit_head")
    assert "audit_head" in _verify(session_factory).problem
    from storage import StorageError

    with session_factory() as s:
        with pytest.raises(StorageError, match="audit_head"):
            append_audit(s, actor="U_A", action="x")


def test_long_log_verifies_across_batches(db_engine, session_factory):
    _append(session_factory, 1200)
    result = _verify(session_factory, batch_size=100)
    assert result.ok and result.rows_checked == 1200
    _drop_append_only_triggers(db_engine)
    _sql(db_engine, """UPDATE audit_log SET data = '{"n":-1}' WHERE id = 1101""")
    assert _verify(session_factory, batch_size=100).bad_row_id == 1101


def test_append_needs_actor_and_action(session_factory):
    with session_factory() as s:
        with pytest.raises(ValueError):
            append_audit(s, actor="", action="x")
        with pytest.raises(ValueError):
            append_audit(s, actor="U_A", action="")
