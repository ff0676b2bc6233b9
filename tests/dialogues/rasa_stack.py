"""Helpers for the dialogue tests: the trained model, a stack on a pinned date, reading replies."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

from dialogues.stack import BIN, ROOT, free_port  # noqa: F401
from dialogues.stack import RasaStack as _RasaStack

PROJECT = ROOT / "dialogues" / "project"  # the Rasa project
# The date the tests judge requests on, so that needed-by dates and windows are fixed.
TODAY = "2026-11-25"
# Figures the tests measured (NLU F1), printed at the end of the run by conftest.py.
METRICS: List[str] = []


def RasaStack(database_url: str, model: Path, logs: Path, extra_env: Optional[Dict[str, str]] = None,
              token: Optional[str] = None) -> _RasaStack:
    return _RasaStack(database_url, model, logs, {"MICROBUY_TODAY": TODAY, **(extra_env or {})}, token=token)


def train_model() -> Path:
    """The model for the current data; trained only when no model of the same data exists."""
    from dialogues import policy_nlu
    from dialogues.training import train

    # The committed examples must already match the policy; training would quietly rewrite them.
    assert policy_nlu.main(["--check"]) == 0, "run: python -m dialogues.policy_nlu, and commit the result"
    return train().model


def sender() -> str:
    """A new conversation: Slack's team:user, with a user the policy knows as a requester."""
    return f"T{uuid.uuid4().hex[:6].upper()}:U09NADIA"


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def customs(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["custom"] for m in messages if "custom" in m]


def buttons(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]
