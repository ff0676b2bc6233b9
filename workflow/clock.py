"""The one clock: "today" is the date in the policy pack's time zone, everywhere."""
from __future__ import annotations

import os
from datetime import date, datetime, timezone
from typing import Mapping, Optional
from zoneinfo import ZoneInfo

from policies import LoadedPolicy

# Tests and demos pin the date requests are judged on.
TODAY_VARIABLE = "MICROBUY_TODAY"


def zone(policy: LoadedPolicy) -> ZoneInfo:
    """The department's time zone: every day microbuy names (today, a purchase day in the
    spending history, an approval date in the card log) is a day there."""
    return ZoneInfo(policy.rules.pack.timezone)


def today(policy: LoadedPolicy, env: Mapping[str, str] = os.environ, now: Optional[datetime] = None) -> date:
    """Today where the department is: a request is judged, and a delegation checked, by the
    rules in force on that day. `now` (an aware moment) is for tests; the machine's clock and
    zone otherwise play no part."""
    override = env.get(TODAY_VARIABLE)
    if override:
        return date.fromisoformat(override)
    return (now or datetime.now(timezone.utc)).astimezone(zone(policy)).date()
