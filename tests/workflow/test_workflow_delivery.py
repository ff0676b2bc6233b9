"""After approval through the workflow: purchase, receipt, section 34 certification. Each step
is refused on a stale revision or by the wrong person, a purchase dated after today is refused
whoever calls, and the certifier is the section 32 approver."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

import storage
from workflow import delivery

from workflow_kit import AMINA, JORDAN, MARC, NADIA, ON, pens


def _approved(kit, **overrides) -> int:
    request_id = kit.file(pens(**overrides))
    kit.approve_all(request_id)
    assert kit.get(request_id).status == "approved"
    return request_id


def _purchase(kit, request_id, *, actor=NADIA, amount="95.00", day=ON, today=ON, revision=None):
    with kit.sessions.begin() as session:
        return delivery.purchase(session, request_id, revision=revision or kit.get(request_id).revision, actor=actor,
                                 amount_paid=Decimal(amount), purchased_on=day, today=today)


def _receive(kit, request_id, *, revision=1, actor=NADIA):
    with kit.sessions.begin() as session:
        return delivery.receive(session, request_id, revision=revision, actor=actor, today=ON)


def _certify(kit, request_id, *, revision=1, actor=AMINA):
    with kit.sessions.begin() as session:
        return delivery.certify(session, request_id, revision=revision, actor=actor)


def test_the_whole_way_to_certified(kit):
    request_id = _approved(kit)
    bought = _purchase(kit, request_id)
    assert (bought.request.status, bought.request.amount_paid) == ("purchased", Decimal("95.00"))
    assert (bought.approver, bought.certifiers) == (AMINA, [AMINA])
    received = _receive(kit, request_id)
    assert (received.request.status, received.certifiers) == ("received", [AMINA])
    certified = _certify(kit, request_id)
    assert (certified.request.status, certified.request.certified_by) == ("certified", AMINA)


def test_a_purchase_dated_after_today_is_refused_and_nothing_is_recorded(kit):
    request_id = _approved(kit)
    with pytest.raises(delivery.FutureDate):
        _purchase(kit, request_id, day=ON + timedelta(days=1), today=ON)
    assert (kit.get(request_id).status, kit.get(request_id).amount_paid) == ("approved", None)
    assert _purchase(kit, request_id, day=ON - timedelta(days=3)).request.status == "purchased"


def test_a_stale_revision_is_refused_at_every_step(kit):
    request_id = _approved(kit)
    kit.revise(request_id, pens(unit_price="79.99"))  # a lower price keeps the approval, as revision 2
    assert (kit.get(request_id).status, kit.get(request_id).revision) == ("approved", 2)
    with pytest.raises(delivery.StaleRevision) as stale:
        _purchase(kit, request_id, revision=1)
    assert (stale.value.revision, stale.value.current) == (1, 2)
    _purchase(kit, request_id, revision=2, amount="90.00")
    with pytest.raises(delivery.StaleRevision):
        _receive(kit, request_id, revision=1)
    _receive(kit, request_id, revision=2)
    with pytest.raises(delivery.StaleRevision):
        _certify(kit, request_id, revision=1)
    assert kit.get(request_id).status == "received"


def test_only_the_requester_buys_and_receives_and_never_certifies(kit):
    request_id = _approved(kit)
    with pytest.raises(storage.NotAuthorized):
        _purchase(kit, request_id, actor=AMINA)
    _purchase(kit, request_id)
    with pytest.raises(storage.NotAuthorized):
        _receive(kit, request_id, actor=MARC)
    _receive(kit, request_id)
    with pytest.raises(storage.SelfApproval):
        _certify(kit, request_id, actor=NADIA)
    with pytest.raises(storage.NotAuthorized):
        _certify(kit, request_id, actor=MARC)  # not on this request's route
    assert kit.get(request_id).status == "received"


def test_more_than_the_approved_maximum_is_refused(kit):
    request_id = _approved(kit)
    with pytest.raises(storage.AmountExceedsApproval):
        _purchase(kit, request_id, amount="500.00")
    assert kit.get(request_id).status == "approved"


def test_a_delegates_approval_makes_the_delegate_the_certifier(kit):
    request_id = kit.file(pens(needed_by="2027-02-01"), on=date(2026, 12, 22))
    kit.decide(request_id, JORDAN, on=date(2027, 1, 4))
    bought = _purchase(kit, request_id, day=date(2027, 1, 5), today=date(2027, 1, 5))
    assert (bought.approver, bought.certifiers) == (JORDAN, [JORDAN])


@pytest.mark.parametrize("approver, route, expected", [
    (AMINA, [{"approvers": [AMINA]}], [AMINA]),
    (None, [{"approvers": [AMINA]}, {"approvers": [MARC, NADIA]}], [MARC]),  # never the requester
    ("U0STRANGER", [{"approvers": [AMINA]}], [AMINA]),  # someone off the route is not asked
    (NADIA, [{"approvers": [NADIA, AMINA]}], [AMINA]),
])
def test_who_is_asked_to_certify(approver, route, expected):
    assert delivery.certifiers(NADIA, approver, route) == expected
