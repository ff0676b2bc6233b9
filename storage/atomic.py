"""All-or-nothing state changes inside the caller's transaction."""

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session


@contextmanager
def atomic(session: Session) -> Iterator[None]:
    """Run a storage operation in a SAVEPOINT of the caller's transaction.

    If the operation raises, only its own changes are rolled back: the caller's
    earlier work in the same transaction survives and can still be committed,
    and nothing of the failed operation can be committed by mistake.
    """
    with session.begin_nested():
        yield
