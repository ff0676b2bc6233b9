"""A person's own choices (the language they are served in), kept across conversations."""

from typing import Optional

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .atomic import atomic
from .models import UserPreference
from .types import utcnow

SOURCES = ("slack_locale", "conversation", "app_home")


def get_language(session: Session, user_id: str) -> Optional[str]:
    """The language `user_id` chose or was given, or None if nothing is recorded."""
    row = session.get(UserPreference, user_id)
    return row.language if row is not None else None


def set_language(session: Session, user_id: str, language: str, source: str) -> bool:
    """Record `user_id`'s language; True if it changed. A choice the person made (conversation,
    App Home) is never replaced by what Slack's locale says."""
    if not user_id or not isinstance(user_id, str):
        raise ValueError("set_language needs a user id")
    if not isinstance(language, str) or not 2 <= len(language) <= 8:
        raise ValueError(f"not a language code: {language!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    with atomic(session):
        row = session.get(UserPreference, user_id, with_for_update=True)
        if row is None:
            try:
                # A SAVEPOINT: two first messages of one person at once both find no row; the
                # second insert loses and goes on as an update of the winner's row.
                with session.begin_nested():
                    session.add(UserPreference(user_id=user_id, language=language, source=source,
                                               updated_at=utcnow()))
                return True
            except IntegrityError:
                row = session.get(UserPreference, user_id, with_for_update=True, populate_existing=True)
        if source == "slack_locale" and row.source in ("conversation", "app_home"):
            return False
        if row.language == language and row.source == source:
            return False
        row.language, row.source, row.updated_at = language, source, utcnow()
        session.flush()
        return True
