"""The append-only, hash-chained audit log.

Each row's hash covers its content and the previous row's hash, so editing,
deleting or reordering rows breaks the chain where it happened. The chain's
tip lives in audit_head, which every append locks; appends are therefore
serialised and the ids have no gaps, which makes a deleted row detectable.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def compute_hash(
    prev_hash: str, *, id: int, at: datetime, actor: str, action: str,
    request_id: Optional[int], data: Any,
) -> str:
    body = canonical_json(
        {"id": id, "at": format_at(at), "actor": actor, "action": action,
         "request_id": request_id, "data": data}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


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

    head = _lock_head(session)
    entry_id = head.last_id + 1
    at = utcnow()
    entry_hash = compute_hash(
        head.last_hash, id=entry_id, at=at, actor=actor, action=action,
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


def verify_audit(session: Session, *, batch_size: int = 1000) -> AuditVerification:
    """Walk the chain in id order and report the first row that does not check out.

    Rows up to the head read at the start are walked; rows past it count as
    tampering only if the head has not moved meanwhile, so appends committed
    while this runs are not mistaken for it.
    """
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
            row.prev_hash, id=row.id, at=row.at, actor=row.actor, action=row.action,
            request_id=row.request_id, data=data,
        )
        if recomputed != row.hash:
            return bad(checked, row.id, f"row {row.id}: hash does not match its content (altered)")
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
