"""Spending history (the splitting check) and the monthly card log."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from storage import (
    Decision,
    PurchaseRequest,
    cancel_request,
    card_log,
    certify_receipt,
    mark_purchased,
    mark_received,
    record_decision,
    spending_history,
)

from storage_factories import TWO_STEP_ROUTE

UTC = dt.timezone.utc


def _at(day, hour=12):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


def _set_dates(session_factory, request_id, **values):
    """Back-date a request (tests need history in the past)."""
    with session_factory.begin() as s:
        s.execute(update(PurchaseRequest).where(PurchaseRequest.id == request_id).values(**values))


def _seed(session_factory, new_request):
    """Requests in CC100 (card A) and CC200 (card B) with chosen statuses and dates."""
    ids = {}
    d = dt.date

    def submitted(name, on, **kw):
        ids[name] = new_request(**kw)
        _set_dates(session_factory, ids[name], created_at=_at(on), submitted_at=_at(on))

    submitted("sub_mar01", d(2026, 3, 1), card_id="CARD-A", subtotal="100.00", tax="0.00", total="100.00")
    submitted("sub_feb28", d(2026, 2, 28), card_id="CARD-A")  # before the window
    submitted("sub_mar31_late", d(2026, 3, 31), card_id="CARD-A")
    # Submitted at 23:59 UTC on the last day still counts (inclusive bound).
    _set_dates(session_factory, ids["sub_mar31_late"], submitted_at=_at(d(2026, 3, 31), 23).replace(minute=59))
    submitted("sub_apr01", d(2026, 4, 1), card_id="CARD-A")  # after the window
    submitted("other_cc", d(2026, 3, 10), cost_centre="CC200", card_id="CARD-B")
    submitted("other_cc_card_a", d(2026, 3, 11), cost_centre="CC200", card_id="CARD-A")

    ids["draft"] = new_request(submit=False, card_id="CARD-A")
    _set_dates(session_factory, ids["draft"], created_at=_at(d(2026, 3, 5)))

    for name, outcome in (("rejected", "rejected"), ("changes", "changes_requested"), ("approved", "approved")):
        submitted(name, d(2026, 3, 6), card_id="CARD-A")
        with session_factory.begin() as s:
            record_decision(s, ids[name], revision=1, step=0, approver="U_MGR", outcome=outcome)

    submitted("cancelled", d(2026, 3, 7), card_id="CARD-A")
    with session_factory.begin() as s:
        cancel_request(s, ids["cancelled"], actor="U_REQ", reason="duplicate")

    # Submitted in February, purchased in March: dated by the purchase.
    submitted("purchased", d(2026, 2, 20), card_id="CARD-A")
    with session_factory.begin() as s:
        record_decision(s, ids["purchased"], revision=1, step=0, approver="U_DELEGATE", outcome="approved")
        mark_purchased(s, ids["purchased"], actor="U_REQ", amount_paid="110.50", purchased_on=d(2026, 3, 15))

    # Two-level approval, purchased, received and certified in March.
    submitted("certified", d(2026, 3, 2), card_id="CARD-A", route=TWO_STEP_ROUTE)
    with session_factory.begin() as s:
        record_decision(s, ids["certified"], revision=1, step=0, approver="U_MGR", outcome="approved")
        record_decision(s, ids["certified"], revision=1, step=1, approver="U_CFO", outcome="approved")
        mark_purchased(s, ids["certified"], actor="U_REQ", amount_paid="113.00", purchased_on=d(2026, 3, 3))
        mark_received(s, ids["certified"], actor="U_REQ", received_on=d(2026, 3, 4))
        certify_receipt(s, ids["certified"], actor="U_MGR")

    # Submitted in March but purchased in April: outside March.
    submitted("purchased_april", d(2026, 3, 20), card_id="CARD-A")
    with session_factory.begin() as s:
        record_decision(s, ids["purchased_april"], revision=1, step=0, approver="U_MGR", outcome="approved")
        mark_purchased(s, ids["purchased_april"], actor="U_REQ", amount_paid="50.00", purchased_on=d(2026, 4, 2))
    return ids


def test_spending_history_and_card_log(session_factory, new_request):
    ids = _seed(session_factory, new_request)
    march = dict(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))

    with session_factory() as s:
        records = spending_history(s, cost_centre="CC100", **march)
        assert {r.request_id for r in records} == {
            ids["sub_mar01"], ids["sub_mar31_late"], ids["changes"], ids["approved"],
            ids["purchased"], ids["certified"],
        }
        assert [r.on for r in records] == sorted(r.on for r in records)
        by_id = {r.request_id: r for r in records}
        assert by_id[ids["purchased"]].total == Decimal("110.50")  # amount paid, not requested
        assert by_id[ids["purchased"]].on == dt.date(2026, 3, 15)
        assert by_id[ids["sub_mar01"]].total == Decimal("100.00")
        assert by_id[ids["sub_mar31_late"]].on == dt.date(2026, 3, 31)
        assert by_id[ids["sub_mar01"]].reference == f"MB-{ids['sub_mar01']:06d}"

        # One-day windows at each inclusive bound.
        march_1, march_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
        assert [r.request_id for r in spending_history(s, cost_centre="CC100", since=march_1, until=march_1)] == \
            [ids["sub_mar01"]]
        assert [r.request_id for r in spending_history(s, cost_centre="CC100", since=march_31, until=march_31)] == \
            [ids["sub_mar31_late"]]

        excluded = spending_history(s, cost_centre="CC100", exclude_request_id=ids["sub_mar01"], **march)
        assert ids["sub_mar01"] not in {r.request_id for r in excluded}
        assert len(excluded) == len(records) - 1

        # By card: card A across cost centres, not card B.
        by_card = {r.request_id for r in spending_history(s, cost_centre="CC100", card_id="CARD-A", **march)}
        assert by_card == {r.request_id for r in records} | {ids["other_cc_card_a"]}
        assert {r.request_id for r in spending_history(s, cost_centre="CC200", **march)} == {
            ids["other_cc"], ids["other_cc_card_a"]}

        with pytest.raises(ValueError):
            spending_history(s, cost_centre="CC100", since=dt.date(2026, 4, 1), until=dt.date(2026, 3, 1))

        log = card_log(s, "2026-03")
        assert [row.reference for row in log] == [f"MB-{ids['certified']:06d}", f"MB-{ids['purchased']:06d}"]
        certified, purchased = log
        assert certified.purchased_on == dt.date(2026, 3, 3)
        assert certified.approved_by == "U_MGR, U_CFO"
        assert certified.approved_on is not None
        assert (certified.certified_by, certified.certified_on is not None) == ("U_MGR", True)
        assert (certified.subtotal, certified.tax, certified.total, certified.amount_paid) == (
            Decimal("100.00"), Decimal("13.00"), Decimal("113.00"), Decimal("113.00"))
        assert certified.policy_version == "esdc-2026.1"
        assert purchased.approved_by == "U_DELEGATE (for U_MGR)"
        assert (purchased.certified_by, purchased.certified_on) == (None, None)

        assert [row.reference for row in card_log(s, "2026-04")] == [f"MB-{ids['purchased_april']:06d}"]
        assert card_log(s, "2026-02") == []


def test_card_log_uses_the_final_approval_round(session_factory, new_request):
    from storage import update_request

    from storage_factories import ONE_STEP_ROUTE

    request_id = new_request()
    with session_factory.begin() as s:
        record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="approved")
    with session_factory.begin() as s:  # price rose: a second round, decided by the delegate
        update_request(s, request_id, expected_revision=1, actor="U_REQ", answers={"q": "3"},
                       subtotal="150.00", tax="0.00", total="150.00", evaluation={},
                       route=ONE_STEP_ROUTE, policy_version="esdc-2026.2")
        record_decision(s, request_id, revision=2, step=0, approver="U_DELEGATE", outcome="approved")
        mark_purchased(s, request_id, actor="U_REQ", amount_paid="150.00", purchased_on=dt.date(2026, 5, 1))
    with session_factory() as s:
        (row,) = card_log(s, "2026-05")
        assert row.approved_by == "U_DELEGATE (for U_MGR)"
        assert row.policy_version == "esdc-2026.2"


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "2026-00", "26-03", "2026/03", "", "march", None])
def test_card_log_refuses_bad_months(session_factory, month):
    with session_factory() as s:
        with pytest.raises(ValueError, match="YYYY-MM"):
            card_log(s, month)


def test_december_window(session_factory, new_request):
    request_id = new_request()
    with session_factory.begin() as s:
        record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="approved")
        mark_purchased(s, request_id, actor="U_REQ", amount_paid="1.00", purchased_on=dt.date(2026, 12, 31))
    with session_factory() as s:
        assert len(card_log(s, "2026-12")) == 1
        assert card_log(s, "2027-01") == []


TORONTO = ZoneInfo("America/Toronto")


def test_days_are_the_departments_days(session_factory, new_request):
    """An evening submission in Toronto is already tomorrow in UTC: it counts on Toronto's day,
    inside a window that ends today there, and a window starting the next day leaves it out."""
    evening = dt.datetime(2026, 3, 31, 21, 30, tzinfo=TORONTO)  # 01:30 UTC on 1 April
    early = dt.datetime(2026, 3, 1, 0, 30, tzinfo=TORONTO)  # 05:30 UTC, the same day
    late_id, early_id = new_request(card_id="CARD-A"), new_request(card_id="CARD-A")
    _set_dates(session_factory, late_id, created_at=evening, submitted_at=evening)
    _set_dates(session_factory, early_id, created_at=early, submitted_at=early)
    paid_id = new_request(card_id="CARD-A")
    with session_factory.begin() as s:
        record_decision(s, paid_id, revision=1, step=0, approver="U_MGR", outcome="approved")
        mark_purchased(s, paid_id, actor="U_REQ", amount_paid="5.00", purchased_on=dt.date(2026, 3, 31))
    march = dict(cost_centre="CC100", since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))
    with session_factory() as s:
        local = {r.request_id: r.on for r in spending_history(s, zone=TORONTO, **march)}
        assert local == {early_id: dt.date(2026, 3, 1), late_id: dt.date(2026, 3, 31),
                         paid_id: dt.date(2026, 3, 31)}
        april = spending_history(s, zone=TORONTO, cost_centre="CC100",
                                 since=dt.date(2026, 4, 1), until=dt.date(2026, 4, 30))
        assert [r.request_id for r in april] == []
        # The same rows in UTC days, for contrast: the evening one is April's there.
        in_utc = {r.request_id: r.on for r in spending_history(s, **march)}
        assert late_id not in in_utc and in_utc[early_id] == dt.date(2026, 3, 1)


def test_card_log_dates_approvals_in_the_departments_zone(session_factory, new_request):
    request_id = new_request()
    with session_factory.begin() as s:
        record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="approved")
        mark_purchased(s, request_id, actor="U_REQ", amount_paid="1.00", purchased_on=dt.date(2026, 12, 1))
    night = dt.datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 21:00 on 1 December in Toronto
    with session_factory.begin() as s:
        s.execute(update(Decision).where(Decision.request_id == request_id).values(decided_at=night))
    with session_factory() as s:
        [row] = card_log(s, "2026-12", zone=TORONTO)
        assert row.approved_on == dt.date(2026, 12, 1) and row.purchased_on == dt.date(2026, 12, 1)
        [utc_row] = card_log(s, "2026-12")
        assert utc_row.approved_on == dt.date(2026, 12, 2)
