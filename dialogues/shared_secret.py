"""The secrets microbuy's own processes show each other, and checking them.

Rasa calls the action server with MICROBUY_ACTIONS_SECRET; the Slack app calls Rasa's webhook
with MICROBUY_RASA_SECRET. Each travels as `Authorization: Bearer <secret>` and comes from the
environment, never from a command line (`ps` shows every process's arguments to every user).
`microbuy up` and the test stacks make new ones for each run.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Mapping, Optional

from settings import MIN_SECRET_LENGTH, Settings

ACTIONS_SECRET = "MICROBUY_ACTIONS_SECRET"
RASA_SECRET = "MICROBUY_RASA_SECRET"
MIN_LENGTH = MIN_SECRET_LENGTH  # new() makes 43 characters
SHARED_BY = {ACTIONS_SECRET: "Rasa and the action server", RASA_SECRET: "the Slack app and Rasa"}


class MissingSecret(RuntimeError):
    """A process started without the secret it must check or send."""


def from_env(name: str, env: Optional[Mapping[str, str]] = None) -> str:
    """The secret `name` (`env` instead of os.environ), refused if unset or too short."""
    value = Settings.secret(name, env)
    if not value:
        raise MissingSecret(f"{name} is not set: the secret {SHARED_BY.get(name, 'two processes')} share "
                            "(`microbuy up` makes one per run; otherwise give both the same value, e.g. from "
                            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    if len(value) < MIN_LENGTH:
        raise MissingSecret(f"{name} is too short: at least {MIN_LENGTH} characters")
    return value


def new() -> str:
    return secrets.token_urlsafe(32)


def bearer(secret: str) -> str:
    """The Authorization header's value that carries `secret`."""
    return f"Bearer {secret}"


def is_bearer(header: Optional[str], secret: str) -> bool:
    """Whether an Authorization header carries `secret`. Compared in constant time, so how long a
    wrong guess takes tells nothing about how much of it was right."""
    scheme, _, given = (header or "").strip().partition(" ")
    same = hmac.compare_digest(given.strip().encode("utf-8", "replace"), secret.encode("utf-8"))
    return same and scheme.lower() == "bearer"
