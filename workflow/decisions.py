"""Deciding a step of a request (section 32), checked against the policy in force when the click
happens, not only when the request was judged.

A delegation that has ended, an approver an admin has removed, or an escalation to someone no
longer at that level stops counting at once: before the decision is recorded, the waiting
step's people are brought up to date (audited `route.reassigned`, in a transaction of its own,
so it stands even when the click that found it is refused). storage.record_decision then checks
the clicker against them, refuses the requester, a stale button, and anyone who already
decided another step of the same revision.
"""
from __future__ import annotations

from datetime import date
from typing import Any, List, Optional

from sqlalchemy.orm import sessionmaker

import storage
from policies import LoadedPolicy
from policies.routing import level_approvers, step_deciders

# Who the audit log names for a change the policy made.
POLICY_ACTOR = "microbuy:policy"


def current_people(policy: LoadedPolicy, req: storage.PurchaseRequest, step: int, on: date):
    """(approvers, delegates, escalated people) of route step `step` as the rules name them on `on`."""
    route_step = req.route[step]
    rules = policy.rules
    approvers, delegates = step_deciders(rules, req.cost_centre, str(route_step.get("level")), req.requester, on)
    escalated = route_step.get("escalated_to") or {}
    still_there = set(level_approvers(rules, req.cost_centre, str(escalated.get("level")))) - {req.requester}
    people = [p for p in escalated.get("people") or [] if p in still_there]
    return list(approvers), list(delegates), people


def _bring_up_to_date(sessions: sessionmaker, policy: LoadedPolicy, request_id: int, revision: int, step: int,
                      on: date) -> None:
    with sessions.begin() as session:
        req = storage.get_request(session, request_id, for_update=True)
        waiting = (req.status == storage.Status.SUBMITTED.value and req.revision == revision
                   and req.approval_step == step and 0 <= step < len(req.route or []))
        if not waiting:
            return  # record_decision explains why the click no longer applies
        approvers, delegates, escalated = current_people(policy, req, step, on)
        route_step = req.route[step]
        stored = (list(route_step.get("approvers") or []), list(route_step.get("delegates") or []),
                  list((route_step.get("escalated_to") or {}).get("people") or []))
        if (approvers, delegates, escalated) == stored:
            return
        if not approvers:
            raise storage.NotAuthorized(
                f"the policy in force names nobody at level {route_step.get('level')} for cost centre "
                f"{req.cost_centre}; {req.reference} waits until an admin names someone")
        storage.reassign_step(session, request_id, revision=revision, step=step, approvers=approvers,
                              delegates=delegates, escalated_people=escalated, actor=POLICY_ACTOR,
                              why=f"policy {policy.version} in force on {on.isoformat()}")


def decide(sessions: sessionmaker, policy: LoadedPolicy, request_id: int, *, revision: int, step: int,
           approver: str, outcome: str, on: date, reason: Optional[str] = None,
           fields_to_revisit: Optional[List[Any]] = None) -> storage.DecisionResult:
    """Record `approver`'s decision on step `step` of `revision`, committed; the request and the
    decision come back. Raises what storage.record_decision raises, without recording anything."""
    _bring_up_to_date(sessions, policy, request_id, revision, step, on)
    with sessions.begin() as session:
        storage.get_request(session, request_id, for_update=True)  # the row first, then the audit head
        return storage.record_decision(
            session, request_id, revision=revision, step=step, approver=approver, outcome=outcome,
            reason=reason, fields_to_revisit=fields_to_revisit if outcome == "changes_requested" else None)
