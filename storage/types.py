"""Column types that keep money exact and timestamps in UTC."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Optional, Union

from sqlalchemy.types import BigInteger, DateTime, TypeDecorator

CENT = Decimal("0.01")
# A signed 64-bit column holds this many cents; refuse more rather than overflow.
_MAX_CENTS = 2**63 - 1

MoneyInput = Union[Decimal, int, str]


def to_money(value: MoneyInput) -> Decimal:
    """Return `value` as a Decimal with exactly 2 places.

    Floats are refused (0.1 is not 0.10 in binary), as are amounts with a
    fraction of a cent: rounding money silently is how totals drift.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(
            f"money must be a Decimal, int or str, not {type(value).__name__} ({value!r}); "
            "floats cannot hold cents exactly"
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, (int, str)):
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"not a money amount: {value!r}") from None
    else:
        raise ValueError(f"money must be a Decimal, int or str, not {type(value).__name__}")
    if not amount.is_finite():
        raise ValueError(f"money must be a finite amount, not {value!r}")
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"money has more than 2 decimal places: {value!r}")
    if abs(cents) > _MAX_CENTS:
        raise ValueError(f"money amount out of range: {value!r}")
    return amount.quantize(CENT)


def to_cents(value: MoneyInput) -> int:
    return int(to_money(value).scaleb(2))


class Money(TypeDecorator):
    """Decimal dollars stored as integer cents in a BIGINT column.

    Integer cents compare and sum exactly on every backend (SQLite has no
    exact decimal type).
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return to_cents(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2).quantize(CENT)

    @property
    def python_type(self):
        return Decimal


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC; refuse naive ones (their zone is a guess)."""
    if not isinstance(value, dt.datetime):
        raise ValueError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
    return value.astimezone(dt.timezone.utc)


def date_to_utc(day: dt.date) -> dt.datetime:
    """A calendar date (purchase day, delivery day) as 00:00 UTC that day.

    Read it back with `.date()` on the UTC value and the same date comes out.
    """
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValueError(f"expected a date, got {type(day).__name__}")
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes in, timezone-aware UTC datetimes out.

    PostgreSQL stores timestamptz; SQLite has no time zones, so the value is
    stored as naive UTC and marked UTC again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect):
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)

    @property
    def python_type(self):
        return dt.datetime
