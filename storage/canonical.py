"""Canonical JSON: one byte-exact encoding per value, so hashes are stable."""

import datetime as dt
import json
from decimal import Decimal
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    # Decimals and dates become strings: exact, and the same on every backend.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable: {value!r}")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, Decimal/date/datetime as strings."""
    return json.dumps(
        value, default=_default, sort_keys=True, separators=(",", ":"),
        ensure_ascii=False, allow_nan=False,
    )


def jsonable(value: Any) -> Any:
    """`value` as plain JSON types (what a JSON column gives back after a round trip)."""
    return json.loads(canonical_json(value))
