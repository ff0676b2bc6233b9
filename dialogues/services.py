"""What the custom actions share: the policy in force, the database, today's date, field texts.

The policy is re-read when its file changes (policies.PolicyInForce); an edit that does not pass
`microbuy policy check` never replaces the policy in force.
"""
from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Dict
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy, PolicyInForce

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
