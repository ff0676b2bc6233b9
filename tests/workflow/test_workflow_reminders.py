"""Reminders and escalation through the workflow, without Slack: what is due when, each action
claimed once, an escalation hands the step up, and a released action is done again for the same
people."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

import storage
from workflow import reminders

from workflow_kit import AMINA, ESDC, MARC, NADIA, pens

SUBMITTED = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)


def _filed(kit, session_factory) -> int:
    request_id = kit.file(pens())
    with session_factory.begin() as session:
        session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == request_id)
                        .values(submitted_at=SUBMITTED))
    return request_id


def _due(session_factory, hours: float):
    return [(d.what, d.waited_hours) for d in reminders.due(session_factory, ESDC, SUBMITTED + timedelta(hours=hours))]


def test_nothing_is_due_before_the_policys_hours(kit, session_factory):
    _filed(kit, session_factory)
    assert _due(session_factory, 23.9) == []
    assert _due(session_factory, 24) == [("remind", 24)]
    assert _due(session_factory, 72) == [("remind", 72), ("escalate", 72)]


def test_a_reminder_is_claimed_once_and_goes_to_the_steps_people(kit, session_factory):
    request_id = _filed(kit, session_factory)
    [due] = reminders.due(session_factory, ESDC, SUBMITTED + timedelta(hours=30))
    claimed = reminders.claim(session_factory, due, ESDC)
    assert claimed is not None and claimed.tell == {AMINA: reminders.REMINDER}
    assert reminders.claim(session_factory, due, ESDC) is None  # another runner, or this one again
    assert _due(session_factory, 30) == []
    assert kit.audit(request_id, "reminder.sent")[0]["to"] == [AMINA]


def test_an_escalation_hands_the_step_up_and_a_release_tells_the_same_people_again(kit, session_factory):
    request_id = _filed(kit, session_factory)
    escalate = next(d for d in reminders.due(session_factory, ESDC, SUBMITTED + timedelta(hours=80))
                    if d.what == reminders.ESCALATE)
    claimed = reminders.claim(session_factory, escalate, ESDC)
    assert claimed is not None and claimed.escalated
    assert (claimed.level, claimed.people) == ("director", [MARC])
    assert claimed.tell == {MARC: reminders.ESCALATION, NADIA: reminders.ESCALATED}
    assert kit.get(request_id).route[0]["escalated_to"]["people"] == [MARC]
    reminders.release(session_factory, claimed, "channel_not_found")
    assert kit.audit(request_id, "reminder.failed")[0]["error"] == "channel_not_found"
    [again] = [d for d in reminders.due(session_factory, ESDC, SUBMITTED + timedelta(hours=81))
               if d.what == reminders.ESCALATE]
    second = reminders.claim(session_factory, again, ESDC)
    assert second is not None and not second.escalated and second.people == [MARC]
    assert kit.audit(request_id, "reminder.escalated")[-1]["again"] is True


def test_a_decided_request_is_not_reminded(kit, session_factory):
    request_id = _filed(kit, session_factory)
    [due] = reminders.due(session_factory, ESDC, SUBMITTED + timedelta(hours=30))
    kit.approve_all(request_id)
    assert reminders.claim(session_factory, due, ESDC) is None
    assert _due(session_factory, 100) == []
