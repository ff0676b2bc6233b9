"""Approval decisions (section 32): one decision per step, exactly once.

Approve buttons stay clickable in Slack after someone else decided, after an
edit, and when two approvers click at the same moment. The request row is
changed with one conditional UPDATE that only matches the exact state the
button was rendered for; whoever's UPDATE matches first wins and every other
click gets StaleDecision, on SQLite and PostgreSQL alike.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .atomic import atomic
from .audit import append_audit
from .canonical import jsonable
from .errors import NotAuthorized, SecondDecision, SelfApproval, StaleDecision
from .lifecycle import Status, check_transition
from .models import Decision, PurchaseRequest
from .requests import get_request
from .types import utcnow

OUTCOMES = ("approved", "rejected", "changes_requested")


@dataclass(frozen=True)
class DecisionResult:
    request: PurchaseRequest
    decision: Decision
    # True when the approval round is over (approved at the last step, rejected
    # or sent back): tell the requester. False: ask the next step's approvers.
    final: bool


def _decision_at(session: Session, request_id: int, revision: int, step: int) -> Optional[Decision]:
    return session.execute(
        select(Decision).where(
            Decision.request_id == request_id, Decision.revision == revision, Decision.step == step
        )
    ).scalar_one_or_none()


def _last_decision(session: Session, request_id: int) -> Optional[Decision]:
    return session.execute(
        select(Decision).where(Decision.request_id == request_id).order_by(Decision.id.desc()).limit(1)
    ).scalar_one_or_none()


def _other_step_decided_by(session: Session, request_id: int, revision: int, step: int,
                           person: str) -> Optional[Decision]:
    return session.execute(
        select(Decision).where(
            Decision.request_id == request_id, Decision.revision == revision, Decision.step != step,
            Decision.approver == person,
        ).limit(1)
    ).scalar_one_or_none()


def _by(decision: Decision) -> str:
    who = decision.approver
    if decision.on_behalf_of:
        who += f" (on behalf of {decision.on_behalf_of})"
    return who


def staleness(session: Session, req: PurchaseRequest, revision: int, step: int) -> Optional[str]:
    """Why a decision for (revision, step) no longer applies, or None if it still does. Steps are
    counted from 1 in messages, as people count them (stored from 0)."""
    ref = req.reference
    if req.revision != revision:
        return (f"{ref} was edited since this was sent (revision {revision}, now {req.revision}); "
                "decide on the current version")
    if req.status != Status.SUBMITTED.value:
        if req.status == Status.CANCELLED.value:
            return f"{ref} was cancelled by the requester"
        last = _last_decision(session, req.id)
        if last is not None and last.revision == req.revision:
            return (f"{ref} was already decided: {last.outcome.replace('_', ' ')} by {_by(last)} "
                    f"at step {last.step + 1} ({last.level})")
        return f"{ref} is {req.status} and no longer awaiting approval"
    if step != req.approval_step:
        if step < req.approval_step:
            earlier = _decision_at(session, req.id, revision, step)
            if earlier is not None:
                return f"step {step + 1} ({earlier.level}) of {ref} was already approved by {_by(earlier)}"
        return f"{ref} is waiting for approval step {req.approval_step + 1}, not step {step + 1}"
    return None


def step_deciders(route_step: dict) -> List[str]:
    """Everyone who may decide a route step: its approvers, its delegates, and the people it was
    escalated to (`escalate_step`), in that order, each once."""
    people = [*(route_step.get("approvers") or []), *(route_step.get("delegates") or []),
              *((route_step.get("escalated_to") or {}).get("people") or [])]
    return list(dict.fromkeys(people))


def _acting_for(req: PurchaseRequest, step: int, approver: str, on_behalf_of: Optional[str]) -> Optional[str]:
    """None when `approver` is a step approver; the absent approver(s) when a delegate acts."""
    route_step = req.route[step] if 0 <= step < len(req.route or []) else None
    if route_step is None:
        raise NotAuthorized(f"{req.reference} has no approval step {step + 1}")
    approvers: List[str] = list(route_step.get("approvers") or [])
    delegates: List[str] = list(route_step.get("delegates") or [])
    # People the step was escalated to decide in its approvers' place, like delegates.
    delegates += list((route_step.get("escalated_to") or {}).get("people") or [])
    if approver in approvers:
        return None
    if approver not in delegates:
        raise NotAuthorized(
            f"{approver} is not an approver or delegate for step {step + 1} "
            f"({route_step.get('name') or route_step.get('level')}) of {req.reference}"
        )
    if on_behalf_of is not None:
        if on_behalf_of not in approvers:
            raise NotAuthorized(
                f"{on_behalf_of} is not an approver for step {step + 1} of {req.reference}; "
                f"a delegate can only act for {', '.join(approvers)}"
            )
        return on_behalf_of
    # Credit the delegation to the step's approver(s), never leave it blank.
    return ",".join(approvers)


def _waiting_route(session: Session, request_id: int, revision: int, step: int):
    """The request, locked, and a copy of its route to change, when step `step` of `revision` is
    the one waiting; StaleDecision otherwise."""
    req = get_request(session, request_id, for_update=True)
    problem = staleness(session, req, revision, step)
    if problem:
        raise StaleDecision(problem)
    return req, [dict(s) for s in req.route]


def escalate_step(
    session: Session, request_id: int, *, revision: int, step: int, level: str, people: List[str],
    actor: str,
) -> PurchaseRequest:
    """Let `people` (the escalation level `level`) decide step `step` of `revision` alongside its
    approvers: stored on the route step as `escalated_to`, audited as `decision.escalated`.

    Raises StaleDecision when the step is no longer the one waiting (decided or edited since).
    """
    people = [p for p in dict.fromkeys(people) if p]
    if not people:
        raise ValueError("an escalation needs at least one person")
    with atomic(session):
        req, route = _waiting_route(session, request_id, revision, step)
        escalated = route[step].get("escalated_to") or {}
        known = list(escalated.get("people") or [])
        route[step]["escalated_to"] = {"level": level,
                                       "people": known + [p for p in people if p not in known]}
        # A new list, so the JSON column is seen as changed.
        req.route = route
        req.updated_at = utcnow()
        session.flush()
        append_audit(
            session, actor=actor, action="decision.escalated", request_id=req.id,
            data={"reference": req.reference, "revision": revision, "step": step,
                  "level": route[step].get("level"), "to_level": level, "to": people},
        )
    return req


def reassign_step(
    session: Session, request_id: int, *, revision: int, step: int, approvers: List[str],
    delegates: List[str], escalated_people: List[str], actor: str, why: str,
) -> PurchaseRequest:
    """Give the waiting step `step` of `revision` to the people the policy in force names now
    (approvers, delegates, and which of the people it was escalated to may still decide),
    audited as `route.reassigned` with who could decide before and after.

    Raises StaleDecision when the step is no longer the one waiting.
    """
    if not approvers:
        raise ValueError("a route step needs at least one approver")
    with atomic(session):
        req, route = _waiting_route(session, request_id, revision, step)
        before = route[step]
        after = {**before, "approvers": list(approvers), "delegates": list(delegates)}
        after.pop("escalated_to", None)
        if escalated_people:
            after["escalated_to"] = {**(before.get("escalated_to") or {}), "people": list(escalated_people)}
        route[step] = after
        # A new list, so the JSON column is seen as changed.
        req.route = jsonable(route)
        req.updated_at = utcnow()
        session.flush()
        append_audit(
            session, actor=actor, action="route.reassigned", request_id=req.id,
            data={"reference": req.reference, "revision": revision, "step": step, "level": before.get("level"),
                  "why": why, "before": step_deciders(before), "after": step_deciders(after)},
        )
    return req


def record_decision(
    session: Session, request_id: int, *, revision: int, step: int, approver: str, outcome: str,
    reason: Optional[str] = None, fields_to_revisit: Optional[Any] = None,
    on_behalf_of: Optional[str] = None,
) -> DecisionResult:
    """Record `approver`'s decision on step `step` of revision `revision`.

    Raises NotFound, SelfApproval, StaleDecision or NotAuthorized (in that
    order of checking; SecondDecision when `approver` already decided another step of
    this revision) without changing anything.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if not approver or not isinstance(approver, str):
        raise ValueError("a decision needs an approver")

    with atomic(session):
        req = get_request(session, request_id)
        if approver == req.requester:
            raise SelfApproval(f"{approver} requested {req.reference} and cannot decide on it")
        problem = staleness(session, req, revision, step)
        if problem:
            raise StaleDecision(problem)
        acting_for = _acting_for(req, step, approver, on_behalf_of)
        other = _other_step_decided_by(session, req.id, revision, step, approver)
        if other is not None:
            raise SecondDecision(
                f"{approver} already decided step {other.step + 1} ({other.level}) of {req.reference}; "
                f"step {step + 1} needs someone else"
            )

        last_step = step == len(req.route) - 1
        now = utcnow()
        values: dict = {"updated_at": now}
        if outcome == "approved" and not last_step:
            new_status = Status.SUBMITTED
            values["approval_step"] = step + 1
        elif outcome == "approved":
            new_status = Status.APPROVED
            values.update(approved_max_amount=req.total, decided_at=now)
        elif outcome == "rejected":
            new_status = Status.REJECTED
            values["decided_at"] = now
        else:
            new_status = Status.CHANGES_REQUESTED
            values["decided_at"] = now
        values["status"] = check_transition(req.status, new_status).value

        # The guard: matches only if nobody decided or edited since we read.
        # On PostgreSQL a concurrent decider blocks on the row lock here and,
        # once the winner commits, re-checks the WHERE and matches nothing.
        result = session.execute(
            update(PurchaseRequest)
            .where(
                PurchaseRequest.id == req.id,
                PurchaseRequest.status == Status.SUBMITTED.value,
                PurchaseRequest.revision == revision,
                PurchaseRequest.approval_step == step,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.refresh(req)
            raise StaleDecision(
                staleness(session, req, revision, step)
                or f"{req.reference} changed while this decision was being recorded"
            )
        session.refresh(req)

        decision = Decision(
            request_id=req.id, revision=revision, step=step,
            level=str(req.route[step].get("level")), approver=approver, on_behalf_of=acting_for,
            outcome=outcome, reason=reason,
            fields_to_revisit=None if fields_to_revisit is None else jsonable(fields_to_revisit),
            max_amount=req.total if outcome == "approved" else None, decided_at=now,
        )
        session.add(decision)
        session.flush()
        append_audit(
            session, actor=approver, action=f"decision.{outcome}", request_id=req.id,
            data={"reference": req.reference, "revision": revision, "step": step,
                  "level": decision.level, "on_behalf_of": acting_for, "reason": reason,
                  "fields_to_revisit": decision.fields_to_revisit,
                  "max_amount": decision.max_amount, "status": req.status},
        )
    return DecisionResult(request=req, decision=decision, final=req.status != Status.SUBMITTED.value)
