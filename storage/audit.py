"""The append-only, hash-chained audit log.

Each row's hash covers its content and the previous row's hash, so editing,
deleting or reordering rows breaks the chain where it happened. The chain's
tip lives in audit_head, which every append locks; appends are therefore
serialised and the ids have no gaps, which makes a deleted row detectable.

The hash is an HMAC keyed with a secret kept outside the database
(storage/audit_key.py): whoever can rewrite the table cannot recompute the
chain without the key.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit_key import key_for_session
from .canonical import canonical_json
from .errors import StorageError
from .models import GENESIS_HASH, AuditEntry, AuditHead
from .types import as_utc, utcnow

HEAD_ID = 1


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    # Rows that checked out before the first problem (all of them when ok).
    rows_checked: int
    bad_row_id: Optional[int] = None
    problem: Optional[str] = None


def format_at(at: datetime) -> str:
    """The timestamp as hashed: ISO 8601 UTC with microseconds, always the same width."""
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hashed_text(
    prev_hash: str, *, id: int, at: datetime, actor: str, action: str,
    request_id: Optional[int], data: Any,
) -> bytes:
    """What a row's hash covers: the previous hash, then the row as canonical JSON."""
    body = canonical_json(
        {"id": id, "at": format_at(at), "actor": actor, "action": action,
         "request_id": request_id, "data": data}
    )
    return (prev_hash + body).encode("utf-8")


def compute_hash(
    prev_hash: str, *, key: bytes, id: int, at: datetime, actor: str, action: str,
    request_id: Optional[int], data: Any,
) -> str:
    """HMAC-SHA256 of the row under the audit key, as 64 hex digits."""
    text = hashed_text(prev_hash, id=id, at=at, actor=actor, action=action, request_id=request_id, data=data)
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    # FOR UPDATE serialises appends on PostgreSQL (SQLite's BEGIN IMMEDIATE
    # already does); populate_existing so a long-lived session never chains
    # onto a stale copy of the head.
    head = session.execute(
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise StorageError("the audit_head row is missing; run storage.migrate.upgrade() on this database")
    return head


def append_audit(
    session: Session, *, actor: str, action: str,
    request_id: Optional[int] = None, data: Any = None,
) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction and return it."""
    if not actor or not isinstance(actor, str):
        raise ValueError("an audit entry needs an actor")
    if not action or not isinstance(action, str):
        raise ValueError("an audit entry needs an action")
    data_text = canonical_json({} if data is None else data)
    data_value = json.loads(data_text)
    # Before the lock: a missing key fails without holding up anyone else's append.
    key = key_for_session(session, create=True)

    head = _lock_head(session)
    entry_id = head.last_id + 1
    at = utcnow()
    entry_hash = compute_hash(
        head.last_hash, key=key, id=entry_id, at=at, actor=actor, action=action,
        request_id=request_id, data=data_value,
    )
    entry = AuditEntry(
        id=entry_id, at=at, actor=actor, action=action, request_id=request_id,
        data=data_text, prev_hash=head.last_hash, hash=entry_hash,
    )
    session.add(entry)
    head.last_id = entry_id
    head.last_hash = entry_hash
    session.flush()
    return entry


def verify_audit(
    session: Session, *, key: Optional[bytes] = None, batch_size: int = 1000,
) -> AuditVerification:
    """Walk the chain in id order and report the first row that does not check out.

    `key` is the audit key (default: found as every process finds it, storage/audit_key.py;
    AuditKeyError when there is none). A wrong key shows as row 1 not checking out.

    Rows up to the head read at the start are walked; rows past it count as
    tampering only if the head has not moved meanwhile, so appends committed
    while this runs are not mistaken for it.
    """
    if key is None:
        key = key_for_session(session)
    head = session.execute(
        select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
    ).one_or_none()
    if head is None:
        return AuditVerification(False, 0, None, "the audit_head row is missing")

    def bad(checked: int, row_id: Optional[int], problem: str) -> AuditVerification:
        return AuditVerification(False, checked, row_id, problem)

    stmt = (
        select(
            AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
            AuditEntry.request_id, AuditEntry.data, AuditEntry.prev_hash, AuditEntry.hash,
        )
        .where(AuditEntry.id <= head.last_id)
        .order_by(AuditEntry.id)
        # Stream in batches: the log grows for years and must not be loaded whole.
        .execution_options(stream_results=True, yield_per=batch_size)
    )
    expected_id = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for row in session.execute(stmt):
        if row.id != expected_id:
            missing = (
                f"row {expected_id} is missing" if row.id == expected_id + 1
                else f"rows {expected_id} to {row.id - 1} are missing"
            )
            return bad(checked, row.id, f"{missing} before row {row.id} (deleted?)")
        if row.prev_hash != prev_hash:
            what = "the genesis hash" if row.id == 1 else f"the hash of row {row.id - 1}"
            return bad(checked, row.id, f"row {row.id}: prev_hash does not match {what}")
        try:
            data = json.loads(row.data)
        except ValueError:
            return bad(checked, row.id, f"row {row.id}: data is not valid JSON (altered)")
        if canonical_json(data) != row.data:
            return bad(checked, row.id, f"row {row.id}: data is not in canonical form (altered)")
        recomputed = compute_hash(
            row.prev_hash, key=key, id=row.id, at=row.at, actor=row.actor, action=row.action,
            request_id=row.request_id, data=data,
        )
        if not hmac.compare_digest(recomputed, row.hash):
            why = "altered" if row.id != 1 else (
                "altered, or the audit key is not the one this log was sealed with, or the log was written "
                "before it was keyed: see microbuy audit seal-unkeyed"
            )
            return bad(checked, row.id, f"row {row.id}: hash does not match its content ({why})")
        prev_hash = row.hash
        checked += 1
        expected_id += 1

    last_id = expected_id - 1
    if last_id != head.last_id:
        return bad(
            checked, last_id + 1,
            f"the log ends at row {last_id} but the head records row {head.last_id}: "
            "rows are missing from the end (truncated)",
        )
    if prev_hash != head.last_hash:
        return bad(checked, last_id, f"row {last_id}: hash does not match the head's last_hash")

    # Rows past the head: either appends committed while we walked (they move
    # the head in the same commit) or rows inserted behind the application's back.
    extra = session.execute(
        select(func.min(AuditEntry.id)).where(AuditEntry.id > head.last_id)
    ).scalar_one()
    if extra is not None:
        head_now = session.execute(
            select(AuditHead.last_id).where(AuditHead.id == HEAD_ID)
        ).scalar_one_or_none()
        if head_now == head.last_id:
            return bad(
                checked, extra,
                f"row {extra} is past the head (row {head.last_id}): added outside the application",
            )
    return AuditVerification(True, checked)


def read_snapshot(session: Session) -> None:
    """Make the session's transaction read the database as of one moment, so a check that reads
    the log, the requests and the decisions in turn never sees a change made between two of its
    reads. Call it before the session's first statement; it blocks no writer."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        # A deferred (read) transaction in WAL mode reads one snapshot and takes no write lock.
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
