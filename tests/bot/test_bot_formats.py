"""bot/formats.py: an amount, a level and a day, written one way for each reader."""
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

import policies
from bot.formats import level_name, local_day, money, request_total

ESDC = policies.load_policy(policies.DEFAULT_POLICY)


@pytest.mark.parametrize("amount, language, shown", [
    (Decimal("1234.5"), "en", "$1,234.50"),
    (Decimal("1234.5"), "fr", "1\u00a0234,50\u00a0$"),
    ("89.99", "en", "$89.99"),
    ("not a number", "en", "not a number"),
    ("NaN", "en", "NaN"),
])
def test_money_as_the_reader_writes_it(amount, language, shown):
    assert money(ESDC, amount, language) == shown


def test_a_request_total_keeps_the_currency_it_was_judged_in():
    req = SimpleNamespace(total=Decimal("10"), evaluation={"currency": "USD"})
    assert request_total(ESDC, req, "en") == "US$10.00"
    assert request_total(ESDC, SimpleNamespace(total=Decimal("10"), evaluation=None), "en") == "$10.00"


def test_level_names_in_each_language_and_a_fallback():
    assert level_name(ESDC, "director", "en") == "Director"
    assert level_name(ESDC, "director", "fr") == "Directeur ou directrice"
    assert level_name(ESDC, "gone", "en", "Old level") == "Old level"
    assert level_name(ESDC, None, "en") == ""


def test_a_day_is_the_departments():
    assert local_day(ESDC, datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc)) == "2026-12-07"
    assert local_day(ESDC, datetime(2026, 12, 8, 2, 0)) == "2026-12-07"  # naive is UTC
    assert local_day(ESDC, None) == ""
