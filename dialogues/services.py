"""What the custom actions share: the policy in force, the database, today's date, field texts.

The policy is re-read when its file changes (policies.PolicyInForce); an edit that does not pass
`microbuy policy check` never replaces the policy in force.
"""
from __future__ import annotations

import logging
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Dict

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy.orm import sessionmaker

import storage
import workflow
from policies import LoadedPolicy, PolicyInForce

log = logging.getLogger(__name__)

FIELDS_FILE = Path(__file__).with_name("fields.yml")


# The policy in force for every action (re-read when the file changes).
POLICY = PolicyInForce()


@lru_cache(maxsize=None)
def _session_factory(url: str) -> sessionmaker:
    return storage.make_session_factory(storage.make_engine(url))


def sessions() -> sessionmaker:
    """Sessions on DATABASE_URL (default: the SQLite file microbuy.db)."""
    return _session_factory(storage.database_url())


def today(policy: LoadedPolicy) -> date:
    """Today where the department is (workflow.today, the one clock)."""
    return workflow.today(policy)


_last_fields: Dict[str, dict] = {}
_bad_stamp: tuple = ()


def fields() -> Dict[str, dict]:
    """dialogues/fields.yml: each answer's label, the words that name it, and why it is asked;
    read again when the file changes, so an admin's rewording needs no restart. An edit that is
    not a YAML mapping is logged and the last good version stays."""
    global _last_fields, _bad_stamp
    stat = FIELDS_FILE.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    if stamp == _bad_stamp:
        return _last_fields
    try:
        _last_fields = _fields_as_of(*stamp)
    except (YAMLError, ValueError, TypeError) as exc:
        if not _last_fields:
            raise
        _bad_stamp = stamp  # say it once per edit
        log.error("%s not reloaded, the previous wording stays: %s", FIELDS_FILE, exc)
    return _last_fields


@lru_cache(maxsize=1)
def _fields_as_of(mtime_ns: int, size: int) -> Dict[str, dict]:
    with FIELDS_FILE.open(encoding="utf-8") as handle:
        loaded = YAML(typ="safe").load(handle)
    if not isinstance(loaded, dict):
        raise ValueError("fields.yml must be a mapping of slot names to their label, words and why")
    return dict(loaded)


def in_language(texts: Dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
