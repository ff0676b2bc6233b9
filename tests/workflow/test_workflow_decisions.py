"""Deciding through the workflow: checked against the policy in force on the day of the click.
One person never approves two steps; an ended delegation, a removed approver and an escalation
to someone no longer at that level stop counting, and the step goes to the people named now,
audited."""
from datetime import date

import pytest

import storage

from workflow_kit import AMINA, ESDC, JORDAN, KWAME, MARC, pens, variant


def _escalate(kit, request_id, level, people):
    req = kit.get(request_id)
    with kit.sessions.begin() as session:
        storage.escalate_step(session, request_id, revision=req.revision, step=req.approval_step, level=level,
                              people=people, actor="microbuy:reminders")


def test_an_escalated_director_cannot_approve_both_steps(kit):
    # The case: $6,215 routes manager (Amina) then director (Marc). After 72 h the manager
    # step is escalated to Marc, who approves it in Amina's place; he may not approve his own step too.
    request_id = kit.file(pens(description="standing desk", unit_price="5500.00"))
    assert [s["approvers"] for s in kit.get(request_id).route] == [[AMINA], [MARC]]
    _escalate(kit, request_id, "director", [MARC])
    first = kit.decide(request_id, MARC)
    assert (first.decision.step, first.decision.on_behalf_of) == (0, AMINA)
    with pytest.raises(storage.SecondDecision):
        kit.decide(request_id, MARC)
    req = kit.get(request_id)
    assert (req.status, req.approval_step) == ("submitted", 1)


def test_a_delegation_that_ended_no_longer_decides(kit):
    # Jordan stands in for Amina from 2026-12-21 to 2027-01-04. A request judged on the last day
    # names him; on the next day his click is refused, and the step is Amina's alone again.
    last_day, day_after = date(2027, 1, 4), date(2027, 1, 5)
    request_id = kit.file(pens(needed_by="2027-02-01"), on=last_day)
    assert kit.get(request_id).route[0]["delegates"] == [JORDAN]
    with pytest.raises(storage.NotAuthorized):
        kit.decide(request_id, JORDAN, on=day_after)
    req = kit.get(request_id)
    assert (req.status, req.route[0]["delegates"]) == ("submitted", [])
    [moved] = kit.audit(request_id, "route.reassigned")
    assert (moved["before"], moved["after"]) == ([AMINA, JORDAN], [AMINA])
    assert "2027-01-05" in moved["why"]
    assert kit.decide(request_id, AMINA, on=day_after).request.status == "approved"


def test_a_delegate_decides_inside_the_window(kit):
    request_id = kit.file(pens(needed_by="2027-02-01"), on=date(2026, 12, 22))
    result = kit.decide(request_id, JORDAN, on=date(2027, 1, 4))
    assert (result.request.status, result.decision.on_behalf_of) == ("approved", AMINA)
    assert kit.audit(request_id, "route.reassigned") == []


def test_an_approver_removed_from_the_policy_no_longer_decides(kit):
    request_id = kit.file(pens())
    new_manager = variant(("        manager: [U01AMINA]", "        manager: [U04KWAME]"))
    with pytest.raises(storage.NotAuthorized):
        kit.decide(request_id, AMINA, policy=new_manager)
    assert kit.get(request_id).route[0]["approvers"] == [KWAME]
    assert kit.audit(request_id, "route.reassigned")[0]["after"] == [KWAME]
    assert kit.decide(request_id, KWAME, policy=new_manager).request.status == "approved"


def test_an_escalation_to_someone_no_longer_at_that_level_stops_counting(kit):
    request_id = kit.file(pens())
    _escalate(kit, request_id, "director", [MARC])
    new_director = variant(("        director: [U02MARC]", "        director: [U05ELENA]"))
    with pytest.raises(storage.NotAuthorized):
        kit.decide(request_id, MARC, policy=new_director)
    assert "escalated_to" not in kit.get(request_id).route[0]
    assert kit.decide(request_id, AMINA, policy=new_director).request.status == "approved"


def test_nothing_is_reassigned_when_the_policy_still_names_the_same_people(kit):
    request_id = kit.file(pens())
    _escalate(kit, request_id, "director", [MARC])
    assert kit.decide(request_id, MARC, policy=ESDC).decision.on_behalf_of == AMINA
    assert kit.audit(request_id, "route.reassigned") == []
