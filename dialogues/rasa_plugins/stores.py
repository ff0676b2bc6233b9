"""Where Rasa keeps conversations and its per-conversation locks, chosen from the environment.

Conversations go in the same database as the requests (DATABASE_URL, default the SQLite file
microbuy.db), so a restart resumes every conversation where it stopped. With REDIS_URL set,
conversation locks live in Redis, so several `rasa run` processes can serve one conversation
without two of them handling its messages at once; without it, one process keeps them in memory.
Rasa's own Redis lock store is not safe for that (AtomicRedisLockStore says why); ours is.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, Tuple, TypeVar
from urllib.parse import urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

import storage
from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class MicrobuyTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on DATABASE_URL
    (endpoints.yml: `type: dialogues.rasa_plugins.stores.MicrobuyTrackerStore`)."""

    def __init__(self, domain=None, host: Optional[str] = None, event_broker=None, **kwargs: Any) -> None:
        url = host or storage.database_url()
        dialect = make_url(url).get_backend_name()
        log.info("conversations kept in %s", make_url(url).render_as_string(hide_password=True))
        super().__init__(domain=domain, dialect=dialect, host=url, event_broker=event_broker, **kwargs)


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with every change to a lock made atomically.

    Rasa's own reads a conversation's lock, changes it in memory and writes it back. Two `rasa run`
    processes taking a ticket for one conversation at the same moment (a person's message and their
    next one, or a double Enter, reaching two processes) both read the same lock, both get the same
    ticket number, and both go ahead: the two messages are handled at once and one of them is lost
    from the conversation (RasaHQ/rasa#9213; tests/scale caught it: 2 of 6 doubled answers lost).
    Here each read-change-write is one Redis transaction on the lock's key (WATCH, then MULTI/EXEC,
    done again if another process changed the key in between), and a lock is deleted only in the
    same transaction that finds nobody waiting for it.
    """

    def _change(self, conversation_id: Text,
                change: Callable[[Optional[TicketLock]], Tuple[T, Optional[TicketLock]]]) -> T:
        """Apply `change` (the lock, or None -> (result, lock to keep, or None to delete)) atomically."""
        key = self.key_prefix + conversation_id

        def attempt(pipe) -> T:
            stored = pipe.get(key)
            result, after = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
            pipe.multi()
            if after is not None:
                pipe.set(key, after.dumps())
            elif stored:
                pipe.delete(key)
            return result

        return self.red.transaction(attempt, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]):
            lock = lock or TicketLock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, change)
        except Exception as exc:  # as Rasa's: the caller expects a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, (lock if lock.is_someone_waiting() else None)

        self._change(conversation_id, change)


class MicrobuyLockStore:
    """Redis when REDIS_URL is set (redis://[:password@]host:port/db), else in memory."""

    def __new__(cls, endpoint_config=None, **kwargs: Any) -> LockStore:
        url = Settings.read("REDIS_URL")  # checked there: redis:// or rediss://, with a host
        if not url:
            return InMemoryLockStore()
        parts = urlsplit(url)
        db = int(parts.path.strip("/") or 0)
        log.info("conversation locks kept in Redis at %s:%s/%s", parts.hostname, parts.port or 6379, db)
        return AtomicRedisLockStore(host=parts.hostname, port=parts.port or 6379, db=db, password=parts.password,
                                    username=parts.username or None, use_ssl=parts.scheme == "rediss",
                                    key_prefix="microbuy")
