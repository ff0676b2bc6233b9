"""What the custom actions share: the policy in force, the database, today's date, field texts.

The policy is re-read when its file changes (policies.PolicyInForce); an edit that does not pass
`microbuy policy check` never replaces the policy in force.
"""
from __future__ import annotations

import logging
from datetime import date
from functools import lru_cache
from typing import Dict

from sqlalchemy.orm import sessionmaker

import storage
import workflow
from policies import LoadedPolicy, PolicyInForce

from . import PROJECT
from .edited_yaml import EditedYaml

log = logging.getLogger(__name__)

FIELDS_FILE = PROJECT / "fields.yml"


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


# fields.yml: each question's label, words and why, reworded by admins without a restart.
fields = EditedYaml(FIELDS_FILE, lambda loaded: isinstance(loaded, dict),
                    "a mapping of slot names to their label, words and why")


def in_language(texts: Dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
