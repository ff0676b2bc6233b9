"""Money is stored as exact integer cents; timestamps come back as aware UTC."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from storage import Money, PurchaseRequest, create_request, get_request, to_money
from storage.types import UTCDateTime

from storage_factories import request_fields

AMOUNTS = ["0.10", "0.01", "9999.99", "10000.00", "123456789.12", "0.00"]


def test_money_round_trips_exactly(session_factory):
    ids = {}
    with session_factory.begin() as session:
        for amount in AMOUNTS:
            value = Decimal(amount)
            ids[amount] = create_request(
                session, **request_fields(subtotal=value, tax=Decimal("0.00"), total=value)
            ).id
    with session_factory() as session:
        for amount, request_id in ids.items():
            loaded = get_request(session, request_id)
            assert isinstance(loaded.total, Decimal)
            assert str(loaded.total) == amount  # exact, and always 2 places (10000.00)
            cents = session.execute(
                text("SELECT total FROM purchase_requests WHERE id = :id"), {"id": request_id}
            ).scalar_one()
            assert cents == int(Decimal(amount) * 100), amount  # integer cents in the column


def test_money_sums_exactly_in_sql(session_factory):
    from sqlalchemy import func

    with session_factory.begin() as session:
        for _ in range(10):
            create_request(session,
                           **request_fields(subtotal=Decimal("0.10"), tax=Decimal("0.00"), total=Decimal("0.10")))
    with session_factory() as session:
        assert session.execute(select(func.sum(PurchaseRequest.total))).scalar_one() == Decimal("1.00")


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan"), True])
def test_floats_are_refused(bad):
    with pytest.raises(ValueError, match="float|bool"):
        to_money(bad)
    with pytest.raises(ValueError):
        Money().process_bind_param(bad, None)
    with pytest.raises(ValueError):
        PurchaseRequest(total=bad)  # at assignment, not later at flush


@pytest.mark.parametrize("bad", [Decimal("0.001"), "12.345", Decimal("NaN"), Decimal("Infinity"), "abc", ""])
def test_sub_cent_and_non_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        to_money(bad)


def test_create_request_refuses_float_without_writing(session_factory):
    with session_factory() as session:
        with pytest.raises(ValueError, match="float"):
            create_request(session, **request_fields(subtotal=100.0))
        session.commit()
        assert session.execute(select(PurchaseRequest)).first() is None


def test_accepted_inputs_normalise_to_two_places():
    assert str(to_money(5)) == "5.00"
    assert str(to_money("7.5")) == "7.50"
    assert str(to_money(Decimal("1.230"))) == "1.23"
    assert str(to_money("-3.10")) == "-3.10"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_type_conversion_is_lossless(cents):
    amount = Decimal(cents).scaleb(-2)
    money = Money()
    stored = money.process_bind_param(amount, None)
    assert stored == cents
    assert money.process_result_value(stored, None) == amount


def test_timestamps_come_back_aware_utc(session_factory):
    with session_factory.begin() as session:
        req = create_request(session, **request_fields())
        request_id = req.id
        # An aware non-UTC time is converted, not misread.
        eastern = dt.timezone(dt.timedelta(hours=-5))
        req.decided_at = dt.datetime(2026, 3, 1, 20, 30, tzinfo=eastern)
    with session_factory() as session:
        loaded = get_request(session, request_id)
        for value in (loaded.created_at, loaded.updated_at, loaded.submitted_at, loaded.decided_at):
            assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0)
        assert loaded.decided_at == dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.timezone.utc)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(dt.datetime(2026, 1, 1), None)
