"""Where Rasa keeps conversations and its per-conversation locks, chosen from the environment.

Conversations go in the same database as the requests (DATABASE_URL, default the SQLite file
microbuy.db), so a restart resumes every conversation where it stopped. With REDIS_URL set,
conversation locks live in Redis, so several `rasa run` processes can serve one conversation
without two of them handling its messages at once; without it, one process keeps them in memory.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Optional
from urllib.parse import urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

import storage

log = logging.getLogger(__name__)


class MicrobuyTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on DATABASE_URL (endpoints.yml: `type: dialogues.stores.MicrobuyTrackerStore`)."""

    def __init__(self, domain=None, host: Optional[str] = None, event_broker=None, **kwargs: Any) -> None:
        url = host or storage.database_url()
        dialect = make_url(url).get_backend_name()
        log.info("conversations kept in %s", make_url(url).render_as_string(hide_password=True))
        super().__init__(domain=domain, dialect=dialect, host=url, event_broker=event_broker, **kwargs)


class MicrobuyLockStore:
    """Redis when REDIS_URL is set (redis://[:password@]host:port/db), else in memory."""

    def __new__(cls, endpoint_config=None, **kwargs: Any) -> LockStore:  # type: ignore[misc]
        url = (os.environ.get("REDIS_URL") or "").strip()
        if not url:
            return InMemoryLockStore()
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError(f"REDIS_URL must look like redis://host:6379/0, not {parts.scheme or 'no scheme'}://…")
        db = int(parts.path.strip("/") or 0)
        log.info("conversation locks kept in Redis at %s:%s/%s", parts.hostname, parts.port or 6379, db)
        return RedisLockStore(host=parts.hostname, port=parts.port or 6379, db=db, password=parts.password,
                              username=parts.username or None, use_ssl=parts.scheme == "rediss",
                              key_prefix="microbuy")
