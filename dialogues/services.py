"""What the custom actions share: the policy in force, the database, today's date, field texts.

The policy is re-read when its file changes; an edit that does not pass `microbuy policy check`
never replaces the policy in force (the error is logged and the old rules stay).
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy, PolicyError, load_policy, policy_path

log = logging.getLogger(__name__)

FIELDS_FILE = Path(__file__).with_name("fields.yml")


class PolicyCache:
    """The last valid policy, reloaded when the file's modification time or size changes."""

    def __init__(self, path: Optional[Path] = None):
        self._path = path
        self._lock = threading.Lock()
        self._stamp: Optional[Tuple[int, int]] = None
        self._policy: Optional[LoadedPolicy] = None

    @property
    def path(self) -> Path:
        return self._path or policy_path()

    def get(self) -> LoadedPolicy:
        path = self.path
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._policy is not None and stamp == self._stamp:
                return self._policy
            try:
                policy = load_policy(path)
            except (PolicyError, OSError) as exc:
                if self._policy is None:
                    raise
                report = exc.report() if isinstance(exc, PolicyError) else str(exc)
                log.error("policy %s not reloaded, the rules in force stay (version %s):\n%s",
                          path, self._policy.short_version, report)
                self._stamp = stamp  # say it once per edit, not on every turn
                return self._policy
            if self._policy is not None and policy.version != self._policy.version:
                log.info("policy %s reloaded: version %s -> %s", path, self._policy.short_version, policy.short_version)
            self._policy, self._stamp = policy, stamp
            return policy


POLICY = PolicyCache()


@lru_cache(maxsize=None)
def _session_factory(url: str) -> sessionmaker:
    return storage.make_session_factory(storage.make_engine(url))


def sessions() -> sessionmaker:
    """Sessions on DATABASE_URL (default: the SQLite file microbuy.db)."""
    return _session_factory(storage.database_url())


def today(policy: LoadedPolicy) -> date:
    """Today where the department is: a request is judged by the rules in force on that day."""
    override = os.environ.get("MICROBUY_TODAY")  # tests and demos pin the date
    if override:
        return date.fromisoformat(override)
    return datetime.now(ZoneInfo(policy.rules.pack.timezone)).date()


@lru_cache(maxsize=1)
def fields() -> Dict[str, dict]:
    """dialogues/fields.yml: each answer's label, the words that name it, and why it is asked."""
    with FIELDS_FILE.open(encoding="utf-8") as handle:
        return dict(YAML(typ="safe").load(handle))


def in_language(texts: Dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
