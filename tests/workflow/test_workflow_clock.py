"""The one clock: today is the date in the pack's time zone, whatever the machine's zone or the
hour (make test-clock runs this file at 01:30 UTC and at 23:30 in Toronto)."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

import workflow

from workflow_kit import ESDC

UTC = timezone.utc


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 12, 8, 1, 30, tzinfo=UTC), date(2026, 12, 7)),  # 20:30 the day before in Toronto
    (datetime(2026, 12, 8, 4, 30, tzinfo=UTC), date(2026, 12, 7)),  # 23:30 in Toronto
    (datetime(2026, 12, 8, 5, 0, tzinfo=UTC), date(2026, 12, 8)),  # midnight in Toronto
    (datetime(2026, 7, 1, 3, 59, tzinfo=UTC), date(2026, 6, 30)),  # summer time: UTC-4
    (datetime(2026, 7, 1, 4, 0, tzinfo=UTC), date(2026, 7, 1)),
    (datetime(2027, 1, 1, 3, 0, tzinfo=ZoneInfo("Asia/Tokyo")), date(2026, 12, 31)),  # any aware zone
])
def test_today_is_the_packs_date(moment, expected):
    assert workflow.today(ESDC, env={}, now=moment) == expected


def test_today_now_is_the_packs_date_whatever_the_machines_zone():
    # Computed without workflow.clock: the UTC instant seen from Toronto. Fails at 01:30 UTC if
    # "today" is the UTC date, and at 23:30 in Toronto (TZ=America/Toronto) if it is UTC's.
    before = datetime.now(UTC).astimezone(ZoneInfo("America/Toronto")).date()
    today = workflow.today(ESDC, env={})
    after = datetime.now(UTC).astimezone(ZoneInfo("America/Toronto")).date()
    assert today in (before, after)


def test_the_pinned_date_wins():
    assert workflow.today(ESDC, env={"MICROBUY_TODAY": "2027-02-03"}) == date(2027, 2, 3)
