"""Reminders and escalation for decisions that wait (policy `approval.reminders`): what is due,
and each action claimed, audited and (for an escalation) done, once.

For each request waiting for approval (status "submitted"), the current step started at the
latest decision of the current revision when `approval_step` > 0, else at `submitted_at`.
Waited `remind_after_hours`: each approver and delegate of the step is reminded. Waited
`escalate_after_hours`: the step is escalated to the level above (its people may then decide in
the step approvers' place, storage.escalate_step) and the requester is told; with nobody higher,
the requester is told that.

Each action is claimed (storage.claim_event, "remind:{id}:{revision}:{step}" or
"escalate:{id}:{revision}:{step}") in one short transaction with its audit entry and the
escalation, taking the request's row lock before the audit head's, as every state change does.
The caller tells people after that commit (no lock is held while Slack answers) and calls
`release` if it could not, so the next run does it again. bot/reminders.py words and sends the
messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import storage
from policies import LoadedPolicy

ACTOR = "microbuy"
REMIND, ESCALATE = "remind", "escalate"
KIND = {REMIND: "reminder", ESCALATE: "escalation"}
# What each person is told (bot/reminders.py words it).
REMINDER, ESCALATION, ESCALATED, NOBODY_HIGHER = "reminder", "escalation", "escalated", "nobody_higher"


def event_key(what: str, request_id: int, revision: int, step: int) -> str:
    return f"{what}:{request_id}:{revision}:{step}"


@dataclass(frozen=True)
class Due:
    what: str  # REMIND or ESCALATE
    request_id: int
    revision: int
    step: int
    waited_hours: int

    @property
    def key(self) -> str:
        return event_key(self.what, self.request_id, self.revision, self.step)


@dataclass(frozen=True)
class Claimed:
    """An action whose claim and audit row are committed: the request and its step as they were,
    whom to tell what (person -> REMINDER, ESCALATION, ESCALATED or NOBODY_HIGHER), the level
    escalated to and its people, the audit data, and the line to report."""

    due: Due
    request: storage.PurchaseRequest
    step: Dict[str, Any]
    tell: Dict[str, str]
    data: Dict[str, Any]
    told: Dict[str, Any]
    line: str
    level: Optional[str] = None
    people: List[str] = field(default_factory=list)
    escalated: bool = False  # the step was escalated now: its approval post is redrawn


def due(sessions: sessionmaker, policy: LoadedPolicy, now: datetime) -> List[Due]:
    """What is due at `now` (UTC if naive) and not yet claimed, read without taking SQLite's write
    lock."""
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    settings = policy.rules.approval.reminders
    remind_after = timedelta(hours=settings.remind_after_hours)
    escalate_after = timedelta(hours=settings.escalate_after_hours)
    found: List[Due] = []
    with sessions() as session:
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        waiting = session.execute(
            select(storage.PurchaseRequest.id, storage.PurchaseRequest.revision,
                   storage.PurchaseRequest.approval_step, storage.PurchaseRequest.submitted_at)
            .where(storage.PurchaseRequest.status == storage.Status.SUBMITTED.value)
            .order_by(storage.PurchaseRequest.id)
        ).all()
        if not waiting:
            return []
        # The latest decision of each request's current revision: when its current step began.
        last = dict(session.execute(
            select(storage.Decision.request_id, func.max(storage.Decision.decided_at))
            .join(storage.PurchaseRequest, (storage.PurchaseRequest.id == storage.Decision.request_id)
                  & (storage.PurchaseRequest.revision == storage.Decision.revision))
            .where(storage.PurchaseRequest.status == storage.Status.SUBMITTED.value)
            .group_by(storage.Decision.request_id)
        ).all())
        for request_id, revision, step, submitted_at in waiting:
            started = last.get(request_id) if step else submitted_at
            started = started or submitted_at
            if started is None:
                continue
            if started.tzinfo is None:
                started = started.replace(tzinfo=timezone.utc)
            waited = now - started
            hours = int(waited.total_seconds() // 3600)
            if waited >= remind_after:
                found.append(Due(REMIND, request_id, revision, step, hours))
            if waited >= escalate_after:
                found.append(Due(ESCALATE, request_id, revision, step, hours))
        if found:
            claimed = set(session.execute(
                select(storage.ProcessedEvent.event_id)
                .where(storage.ProcessedEvent.event_id.in_([d.key for d in found]))
            ).scalars())
            found = [d for d in found if d.key not in claimed]
    return found


def claim(sessions: sessionmaker, action: Due, policy: LoadedPolicy) -> Optional[Claimed]:
    """The action claimed and audited (and the step escalated) in one transaction; None when it
    is no longer due or another runner has it. Locks in the order every state change takes
    them: the request's row first, then the audit log's head (storage.append_audit)."""
    with sessions.begin() as session:
        req = storage.get_request(session, action.request_id, for_update=True)
        if (req.status != storage.Status.SUBMITTED.value or req.revision != action.revision
                or req.approval_step != action.step or not 0 <= action.step < len(req.route or [])):
            return None  # decided or edited since it was read: the next run sees the new state
        if not storage.claim_event(session, action.key, KIND[action.what]):
            return None  # another runner did it
        step = req.route[action.step]
        data = {"reference": req.reference, "revision": action.revision, "step": action.step,
                "level": step.get("level"), "waited_hours": action.waited_hours}
        where = f"{req.reference} (revision {action.revision}, step {action.step})"
        if action.what == REMIND:
            people = _unique([*(step.get("approvers") or []), *(step.get("delegates") or [])],
                             leave_out=[req.requester])
            storage.append_audit(session, actor=ACTOR, action="reminder.sent", request_id=req.id,
                                 data={**data, "to": people})
            return Claimed(action, req, step, {person: REMINDER for person in people}, data, {"to": people},
                           f"reminded {where}: {', '.join(people)}")

        level, people, again = _escalation_of(session, policy, req, step, action)
        if not people:
            storage.append_audit(session, actor=ACTOR, action="reminder.not_escalated", request_id=req.id,
                                 data={**data, "why": "no higher level with anyone to tell"})
            return Claimed(action, req, step, {req.requester: NOBODY_HIGHER}, data, {"to": [req.requester]},
                           f"not escalated {where}: nobody higher; told {req.requester}")
        assert level is not None  # people to tell are at a level
        storage.append_audit(session, actor=ACTOR, action="reminder.escalated", request_id=req.id,
                             data={**data, "to_level": level, "to": people, **({"again": True} if again else {})})
        if not again:
            storage.escalate_step(session, req.id, revision=action.revision, step=action.step, level=level,
                                  people=people, actor=ACTOR)
        tell = {person: ESCALATION for person in people}
        tell[req.requester] = ESCALATED
        return Claimed(action, req, step, tell, data, {"to_level": level, "to": people},
                       f"escalated {where} to {level}: {', '.join(people)}; told {req.requester}",
                       level=level, people=people, escalated=not again)


def release(sessions: sessionmaker, claimed: Claimed, error: str, error_chars: int = 300) -> None:
    """The people of a committed action could not be told: release the claim, so the next run
    does it again, and audit why (`reminder.failed`), in one short transaction. An escalation
    stays done (a state change); the next run tells the same people (_escalation_of)."""
    action = claimed.due
    with sessions.begin() as session:
        storage.release_event(session, action.key)
        storage.append_audit(session, actor=ACTOR, action="reminder.failed", request_id=action.request_id,
                             data={**claimed.data, "what": KIND[action.what], **claimed.told,
                                   "error": error[:error_chars]})


def _escalation_of(session: Session, policy: LoadedPolicy, req: Any, step: Dict[str, Any],
                   action: Due) -> Tuple[Optional[str], List[str], bool]:
    """(level, people, again): whom the step escalates to. `again` when an earlier run escalated it
    already and the people were not told (its `reminder.failed` row names them): the step keeps
    its escalation, and the same people are told."""
    rows = session.execute(
        select(storage.AuditEntry)
        .where(storage.AuditEntry.request_id == req.id, storage.AuditEntry.action == "reminder.failed")
        .order_by(storage.AuditEntry.id.desc())
    ).scalars()
    may_decide = (step.get("escalated_to") or {}).get("people") or []
    for row in rows:
        data = row.payload
        if (isinstance(data, dict) and data.get("what") == KIND[ESCALATE] and data.get("revision") == action.revision
                and data.get("step") == action.step and data.get("to_level")):
            # Only those the step still counts (the policy in force may have moved some on).
            people = [p for p in data.get("to") or [] if p in may_decide]
            if people:
                return data["to_level"], people, True
            break
    level, people = escalation(policy, req, step)
    return level, people, False


def escalation(policy: LoadedPolicy, req: Any, step: Dict[str, Any]) -> Tuple[Optional[str], List[str]]:
    """The level above the step's and its people for the request's cost centre (the cost centre's
    own approvers for that level, else the department-wide ones, as routing.approvers_at), without
    the requester or the step's own people; a level with nobody left passes further up."""
    approval = policy.rules.approval
    centre = approval.cost_centres.get(req.cost_centre)
    leave_out = [req.requester, *storage.step_deciders(step)]
    current = step.get("level")
    seen = {current}
    level = approval.levels[current].escalates_to if current in approval.levels else None
    while level and level not in seen:
        seen.add(level)
        own = centre.approvers.get(level) if centre is not None else None
        people = _unique(own or approval.approvers.get(level) or (), leave_out=leave_out)
        if people:
            return level, people
        level = approval.levels[level].escalates_to if level in approval.levels else None
    return None, []


def _unique(people: Sequence[str], leave_out: Sequence[str] = ()) -> List[str]:
    return [p for p in dict.fromkeys(people) if p and p not in leave_out]
