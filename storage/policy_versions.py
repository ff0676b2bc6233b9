"""The policy texts requests were evaluated against."""

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .atomic import atomic
from .audit import append_audit
from .errors import PolicyVersionConflict
from .models import PolicyVersion
from .types import utcnow


def _existing(session: Session, version: str):
    return session.execute(
        select(PolicyVersion).where(PolicyVersion.version == version)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _same_or_conflict(row: PolicyVersion, name: str, content: str) -> bool:
    # One version string must mean one text, or old evaluations become ambiguous.
    if row.content != content:
        raise PolicyVersionConflict(
            f"policy version {row.version!r} is already recorded with different content; "
            "give the changed policy a new version"
        )
    return False


def record_policy_version(session: Session, *, version: str, name: str, content: str) -> bool:
    """Store a policy version the first time it is seen; True if it was new."""
    if not version or not isinstance(version, str):
        raise ValueError("record_policy_version needs a version")
    if not isinstance(content, str):
        raise ValueError("policy content must be text")
    row = _existing(session, version)
    if row is not None:
        return _same_or_conflict(row, name, content)
    try:
        with atomic(session):
            session.add(PolicyVersion(version=version, name=name, content=content, first_seen_at=utcnow()))
            session.flush()
            append_audit(
                session, actor="system", action="policy.version_recorded",
                data={"version": version, "name": name,
                      "sha256": hashlib.sha256(content.encode("utf-8")).hexdigest()},
            )
    except IntegrityError:
        # Another process recorded it between our check and insert.
        row = _existing(session, version)
        if row is None:
            raise
        return _same_or_conflict(row, name, content)
    return True
