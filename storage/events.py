"""Idempotency for Slack: each event or action is handled once, even when retried."""

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import ProcessedEvent
from .types import utcnow


def claim_event(session: Session, event_id: str, kind: str) -> bool:
    """Record `event_id` as processed; True the first time, False if already claimed.

    Claim in the same transaction as the work the event causes: if that work
    rolls back, so does the claim, and Slack's retry gets another chance.
    """
    if not event_id or not isinstance(event_id, str):
        raise ValueError("claim_event needs a non-empty event_id")
    if not kind or not isinstance(kind, str):
        raise ValueError("claim_event needs a kind")
    # Flush the caller's pending work first, so its errors are not taken for a duplicate.
    session.flush()
    try:
        # A SAVEPOINT: the duplicate-key error rolls back only this insert,
        # leaving the caller's transaction usable.
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, kind=kind, processed_at=utcnow()))
    except IntegrityError:
        return False
    return True


def release_event(session: Session, event_id: str) -> bool:
    """Forget the claim of `event_id`, so the next attempt may claim it again; True if it was claimed.

    For work whose claim had to commit before its effect outside the database (a Slack message
    sent after commit, so no lock is held while Slack answers), when that effect failed.
    """
    if not event_id or not isinstance(event_id, str):
        raise ValueError("release_event needs a non-empty event_id")
    result = session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.event_id == event_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
