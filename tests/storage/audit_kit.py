"""What someone with the database owner's rights can do to the audit log, for the tamper tests:
lift the append-only triggers, edit rows, recompute every later hash and the head with a hash of
their choosing, and put the triggers back. (A module with a unique name, like storage_factories.)"""

import hashlib
import hmac
import json
from datetime import date
from typing import Callable, Optional

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from storage import AuditEntry, create_request, mark_purchased, record_decision
from storage.db import make_session_factory

from storage_factories import request_fields

GENESIS = "0" * 64
Hasher = Callable[[str], str]


def plain_sha256(text: str) -> str:
    """The hash before the audit log was keyed."""
    return hashlib.sha256(text.encode()).hexdigest()


def hmac_with(key: str) -> Hasher:
    return lambda text: hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def sql(engine: Engine, *statements: str, **params) -> None:
    """Run each statement (`:name` parameters from `params`) in one transaction."""
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def lift_triggers(engine: Engine) -> Callable[[], None]:
    """Drop audit_log's triggers; returns what puts exactly the same ones back."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            triggers = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'").all()
            drops = [f'DROP TRIGGER "{name}"' for name, _ in triggers]
        else:
            triggers = connection.exec_driver_sql(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal").all()
            drops = [f'DROP TRIGGER "{name}" ON audit_log' for name, _ in triggers]
        assert triggers, "audit_log has no triggers to lift"
        for drop in drops:
            connection.exec_driver_sql(drop)
    definitions = [definition for _, definition in triggers]

    def put_back() -> None:
        with engine.begin() as connection:
            for definition in definitions:
                connection.exec_driver_sql(definition)
    return put_back


def body(row, *, actor: Optional[str] = None, data: Optional[dict] = None) -> str:
    """The row as hashed (docs/storage.md): canonical JSON of id, at, actor, action, request_id, data."""
    return json.dumps(
        {"id": row.id, "at": row.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": actor or row.actor,
         "action": row.action, "request_id": row.request_id, "data": json.loads(row.data) if data is None else data},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )


def rewrite(engine: Engine, hasher: Hasher, *, edit_id: Optional[int] = None, actor: Optional[str] = None,
            data: Optional[dict] = None) -> None:
    """Edit row `edit_id` (its actor and/or data), then recompute its hash and every later one, and
    the head, with `hasher`, as a forger would (the whole log when no row is edited); the triggers
    are lifted for it and put back after."""
    put_back = lift_triggers(engine)
    with make_session_factory(engine)() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        session.expunge_all()
    prev = GENESIS
    with engine.begin() as connection:
        for row in rows:
            if edit_id is not None and row.id < edit_id:
                prev = row.hash  # rows before the edit stay as they are
                continue
            edited = row.id == edit_id
            hashed = body(row, actor=actor if edited else None, data=data if edited else None)
            new_hash = hasher(prev + hashed)
            stored_data = json.dumps(json.loads(hashed)["data"], sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False)
            connection.execute(
                text("UPDATE audit_log SET actor = :actor, data = :data, prev_hash = :prev, hash = :hash "
                     "WHERE id = :id"),
                {"actor": actor if edited and actor else row.actor, "data": stored_data,
                 "prev": prev, "hash": new_hash, "id": row.id})
            prev = new_hash
        connection.execute(text("UPDATE audit_head SET last_hash = :hash"), {"hash": prev})
    put_back()


def approved_then_more(session_factory) -> int:
    """A log to tamper with: request 1 approved by U_MGR, then more rows after that
    decision.approved row; returns its id."""
    with session_factory.begin() as s:
        first = create_request(s, **request_fields()).id
    with session_factory.begin() as s:
        record_decision(s, first, revision=1, step=0, approver="U_MGR", outcome="approved")
    with session_factory.begin() as s:
        create_request(s, **request_fields(supplier="Costco"))
    with session_factory.begin() as s:
        mark_purchased(s, first, actor="U_REQ", amount_paid="113.00", purchased_on=date(2026, 11, 20))
    with session_factory() as s:
        return s.execute(select(AuditEntry.id).where(AuditEntry.action == "decision.approved")).scalar_one()
