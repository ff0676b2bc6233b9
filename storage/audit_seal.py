"""Sealing, once, the audit rows written before the log was keyed (`microbuy audit seal-unkeyed`).

Before the audit key existed each row's hash was plain SHA-256 of the same text. A database
written then has such a prefix of rows, and possibly keyed rows after it (appended by a newer
microbuy before anyone sealed). Sealing checks every link first, under whichever scheme the row
carries, then recomputes every hash with the key and records itself in the log
(`audit.sealed`, with how many rows it sealed and the old hash of the last of them).

Nothing else ever accepts an unkeyed row: `verify_audit` knows only the keyed scheme, so an
unkeyed row is never a way around the key. Sealing is an explicit, audited act of an admin,
needed once per database; an unkeyed row after a keyed one means the log was rewritten, and is
refused.
"""

import hashlib
import hmac
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from .audit import HEAD_ID, _lock_head, append_audit, hashed_text
from .canonical import canonical_json
from .errors import StorageError
from .models import GENESIS_HASH, AuditEntry, AuditHead

BATCH = 1000
SEALED_ACTION = "audit.sealed"


class AuditSealError(StorageError):
    """The log cannot be sealed: a link does not check out under either scheme, or it changed."""


@dataclass(frozen=True)
class SealPlan:
    rows: int
    # Rows 1 to `unkeyed` carry plain SHA-256 hashes; the rest are keyed already.
    unkeyed: int
    # The old (plain SHA-256) hash of the last unkeyed row, recorded by the seal.
    unkeyed_last_hash: Optional[str] = None


def _batches(session: Session, last_id: int) -> Iterator[list]:
    after = 0
    while after < last_id:
        rows = session.execute(
            select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.request_id,
                   AuditEntry.data, AuditEntry.prev_hash, AuditEntry.hash)
            .where(AuditEntry.id > after, AuditEntry.id <= last_id).order_by(AuditEntry.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _hashed(row, prev_hash: str) -> bytes:
    return hashed_text(prev_hash, id=row.id, at=row.at, actor=row.actor, action=row.action,
                       request_id=row.request_id, data=json.loads(row.data))


def plan_seal(session: Session, key: bytes) -> SealPlan:
    """Check every link of the chain and say how many leading rows are unkeyed.

    Raises AuditSealError at the first row that checks out under neither scheme, an unkeyed row
    after a keyed one, a gap, or a head that does not match.
    """
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)).scalar_one_or_none()
    if head is None:
        raise AuditSealError("the audit_head row is missing")
    expected_id, prev_hash, unkeyed, last_unkeyed_hash = 1, GENESIS_HASH, 0, None
    for rows in _batches(session, head.last_id):
        for row in rows:
            if row.id != expected_id:
                raise AuditSealError(f"row {expected_id} is missing (deleted?); nothing was sealed")
            if row.prev_hash != prev_hash:
                raise AuditSealError(f"row {row.id}: prev_hash does not match the row before; nothing was sealed")
            try:
                well_formed = canonical_json(json.loads(row.data)) == row.data
            except ValueError:
                well_formed = False
            if not well_formed:
                raise AuditSealError(f"row {row.id}: data altered; nothing was sealed")
            hashed = _hashed(row, prev_hash)
            if hmac.compare_digest(hmac.new(key, hashed, hashlib.sha256).hexdigest(), row.hash):
                pass
            elif hmac.compare_digest(hashlib.sha256(hashed).hexdigest(), row.hash):
                if unkeyed != row.id - 1:
                    raise AuditSealError(
                        f"row {row.id} is unkeyed but follows keyed rows: the log was rewritten after it was "
                        "keyed; nothing was sealed")
                if row.action == SEALED_ACTION:
                    raise AuditSealError(
                        f"row {row.id} records an earlier seal but is unkeyed: the log was rewritten after it "
                        "was sealed; nothing was sealed")
                unkeyed, last_unkeyed_hash = row.id, row.hash
            else:
                raise AuditSealError(
                    f"row {row.id}: hash matches neither the audit key nor plain SHA-256 (altered, or this is "
                    "not the key the log was sealed with); nothing was sealed")
            prev_hash = row.hash
            expected_id += 1
    if expected_id - 1 != head.last_id or prev_hash != head.last_hash:
        raise AuditSealError(f"the log ends at row {expected_id - 1} but the head records row {head.last_id} "
                             "with another hash; nothing was sealed")
    past = session.execute(select(func.min(AuditEntry.id)).where(AuditEntry.id > head.last_id)).scalar_one()
    if past is not None:
        raise AuditSealError(f"row {past} is past the head: added outside the application; nothing was sealed")
    return SealPlan(head.last_id, unkeyed, last_unkeyed_hash)


@contextmanager
def _append_only_suspended(session: Session) -> Iterator[None]:
    """Lift the triggers that refuse UPDATE on audit_log, inside this transaction only (needs
    the table owner's rights: the app's own role cannot). The DDL is transactional on both
    databases, so an error before the end rolls the triggers back in with everything else."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        yield
        session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    elif dialect == "sqlite":
        # SQLite cannot disable a trigger: drop them and put back exactly what was there.
        triggers = session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")).all()
        for name, _ in triggers:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        yield
        for _, sql in triggers:
            session.execute(text(sql))
    else:
        raise NotImplementedError(f"sealing the audit log on {dialect} is not written yet")


def seal_unkeyed(session: Session, key: bytes, *, expected_unkeyed: int, actor: str) -> SealPlan:
    """Re-seal the whole chain with `key`, in the caller's transaction, if its leading
    `expected_unkeyed` rows are the unkeyed ones (what the admin confirmed); then audit it.

    Appends wait meanwhile (the head is locked). Raises AuditSealError, changing nothing, when a
    link does not check out or the count is not what was confirmed.
    """
    head = _lock_head(session)
    plan = plan_seal(session, key)
    if plan.unkeyed != expected_unkeyed:
        raise AuditSealError(f"{plan.unkeyed} row(s) are unkeyed now, not the {expected_unkeyed} confirmed; "
                             "nothing was sealed")
    if plan.unkeyed == 0:
        return plan
    prev_hash = GENESIS_HASH
    with _append_only_suspended(session):
        for rows in _batches(session, head.last_id):
            changes = []
            for row in rows:
                new_hash = hmac.new(key, _hashed(row, prev_hash), hashlib.sha256).hexdigest()
                changes.append({"row_id": row.id, "new_prev": prev_hash, "new_hash": new_hash})
                prev_hash = new_hash
            table = AuditEntry.__table__
            session.execute(
                update(table).where(table.c.id == bindparam("row_id"))
                .values(prev_hash=bindparam("new_prev"), hash=bindparam("new_hash")),
                changes,
            )
    head.last_hash = prev_hash
    session.flush()
    append_audit(session, actor=actor, action=SEALED_ACTION,
                 data={"rows": plan.rows, "rows_sealed": plan.unkeyed,
                       "unkeyed_last_hash": plan.unkeyed_last_hash})
    return plan
