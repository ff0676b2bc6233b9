"""The one clock: "today" is the date in the policy pack's time zone, everywhere."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Mapping, Optional
from zoneinfo import ZoneInfo

from policies import LoadedPolicy
from settings import Settings

# Tests and demos pin the date requests are judged on.
TODAY_VARIABLE = "MICROBUY_TODAY"


def zone(policy: LoadedPolicy) -> ZoneInfo:
    """The department's time zone: every day microbuy names (today, a purchase day in the
    spending history, an approval date in the card log) is a day there."""
    return ZoneInfo(policy.rules.pack.timezone)


def today(policy: LoadedPolicy, env: Optional[Mapping[str, str]] = None, now: Optional[datetime] = None) -> date:
    """Today where the department is: a request is judged, and a delegation checked, by the
    rules in force on that day. `now` (an aware moment) and `env` (instead of os.environ) are for
    tests; the machine's clock and zone otherwise play no part."""
    override = Settings.read(TODAY_VARIABLE, env)
    if override:
        return override
    return (now or datetime.now(timezone.utc)).astimezone(zone(policy)).date()
