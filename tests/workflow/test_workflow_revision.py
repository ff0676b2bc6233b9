"""Revising a stored request through the workflow, judged by the real ESDC pack: a change to the
purchase sends an approved request back, a lower price keeps it, every column follows the
revision, and only the requester may revise."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

import storage
import workflow

from workflow_kit import AMINA, ESDC, KWAME, NADIA, ON, PIERRE, SOPHIE, pens


def test_a_former_public_servant_as_supplier_sends_the_approval_back(kit):
    # The case: Nadia's approved box of pens, changed to a supplier who is a former
    # public servant. The route grows; the approval no longer stands.
    request_id = kit.file(pens())
    kit.approve_all(request_id)
    assert kit.get(request_id).status == "approved"
    revised = kit.revise(request_id, pens(supplier="Jean Tremblay Conseil", supplier_former_public_servant=True))
    req = kit.get(request_id)
    assert not revised.kept_approval
    assert (req.status, req.revision, req.approval_step, req.approved_max_amount) == ("submitted", 2, 0, None)
    assert [step["level"] for step in req.route] == ["manager", "director_general", "deputy_head"]
    assert [step["approvers"] for step in req.route] == [[AMINA], [SOPHIE], [PIERRE]]
    assert revised.changes["supplier"] == ["Staples", "Jean Tremblay Conseil"]
    assert kit.audit(request_id, "request.updated")[-1]["status"] == {"old": "approved", "new": "submitted"}


def test_a_new_cost_centre_moves_every_column_with_it(kit, session_factory):
    request_id = kit.file(pens())
    kit.approve_all(request_id)
    kit.revise(request_id, pens(cost_centre="100300"))
    req = kit.get(request_id)
    assert (req.status, req.cost_centre, req.card_id) == ("submitted", "100300", "ESDC-CARD-BDM-01")
    assert req.route[0]["approvers"] == [KWAME]
    # The new centre's monthly limit and splitting checks count it; the old centre's do not.
    with session_factory() as session:
        # Stored requests are dated by the clock of the machine (submitted_at).
        since, until = date.today() - timedelta(days=2), date.today() + timedelta(days=2)
        new = storage.spending_history(session, cost_centre="100300", since=since, until=until)
        old = storage.spending_history(session, cost_centre="100200", since=since, until=until)
        on_new_card = storage.spending_history(session, cost_centre="100300", since=since, until=until,
                                               card_id="ESDC-CARD-BDM-01")
    assert request_id in [r.request_id for r in new] and request_id in [r.request_id for r in on_new_card]
    assert request_id not in [r.request_id for r in old]


def test_a_lower_price_with_nothing_else_keeps_the_approval(kit):
    request_id = kit.file(pens())
    kit.approve_all(request_id)
    approved_total = kit.get(request_id).total
    revised = kit.revise(request_id, pens(unit_price="79.99"))
    req = kit.get(request_id)
    assert revised.kept_approval and revised.approvers == [AMINA]
    assert (req.status, req.revision, req.approved_max_amount) == ("approved", 2, approved_total)
    assert req.total == Decimal("90.39") < approved_total
    assert revised.previous_total == approved_total


def test_only_the_requester_revises(kit):
    request_id = kit.file(pens())
    kit.approve_all(request_id)
    before = kit.get(request_id)
    with pytest.raises(storage.NotAuthorized):
        kit.revise(request_id, pens(requester=KWAME, supplier="Attacker Ltd"))
    after = kit.get(request_id)
    assert (after.status, after.revision, after.supplier) == (before.status, before.revision, "Staples")
    assert before.requester == NADIA



def test_an_evening_purchase_counts_in_the_same_evenings_splitting_check(kit, session_factory):
    """Submitted at 21:30 in Toronto (01:30 UTC the next day), a request is in the history of a
    request judged later that evening: the history's days are the pack's days, as "today" is."""
    request_id = kit.file(pens())
    evening = datetime.combine(ON, time(21, 30), tzinfo=workflow.zone(ESDC))
    with session_factory.begin() as session:
        session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == request_id)
                        .values(created_at=evening, submitted_at=evening))
    with session_factory() as session:
        request, _ = workflow.judge(session, ESDC, pens(unit_price="50.00"), ON)
        history = workflow.spending_for(session, ESDC, request, ON)
    assert [(r.request_id, r.on) for r in history] == [(request_id, ON)]
