"""Submitting a request: the requester's answers judged with the spending on record, then stored
as a new request or as a new revision of one of their own.

One function for every adapter (the dialogue's Submit today): it checks that the person asking
is the requester the answers name, judges them (workflow.judging), and stores them through
`record` or `revise`, in the caller's transaction, so the request, its policy version and its
audit entries are written together or not at all. Who may revise which request is storage's
check (storage.update_request); whether an approval survives a revision is storage.binding's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Mapping, Optional, Tuple

from sqlalchemy.orm import Session

import storage
from policies import Evaluation, LoadedPolicy, PurchaseRequest

from .judging import judge, record
from .revision import revise


@dataclass(frozen=True)
class Submitted:
    """What happened: the answers as read and judged, the stored request as it now stands, what a
    revision changed, and whom to tell."""

    request: PurchaseRequest
    evaluation: Evaluation
    request_id: int
    reference: Optional[str]  # storage's, "MB-000042"
    status: str
    revision: int
    # Each answer a revision changed: {field: [old, new]}; empty for a new request.
    changes: Dict[str, List[Any]]
    # A revision that kept its approval (a lower total, nothing else changed): nothing to decide.
    still_approved: bool
    # The approvers of the step that now waits for a decision; nobody when still approved.
    tell: Tuple[str, ...]


def submit(session: Session, policy: LoadedPolicy, data: Mapping[str, Any], on: date,
           language: Optional[str] = None, *, requester: str, team_id: Optional[str] = None,
           revising: Optional[Tuple[int, int]] = None, exclude_request_id: Optional[int] = None) -> Submitted:
    """Judge `data` on `on` and store it, as `requester` (the person asking), in the caller's
    transaction: a new request, or, with `revising` = (request id, revision the requester saw),
    a new revision of that request.

    Raises, storing nothing: policies.RequestError for answers that do not read, BlockedRequest
    for a blocked request, storage.NotAuthorized when the answers name another requester or the
    request revised is someone else's, storage.StaleRevision when it changed since the revision
    seen, storage.InvalidTransition once it can no longer change.
    """
    if exclude_request_id is None and revising is not None:
        exclude_request_id = revising[0]  # a revision is not part of its own spending history
    request, evaluation = judge(session, policy, data, on, language, exclude_request_id=exclude_request_id)
    if request.requester != requester:
        # Nobody submits in someone else's name, whichever adapter asks.
        raise storage.NotAuthorized(f"{requester} cannot submit a request in {request.requester}'s name")
    changes: Dict[str, List[Any]] = {}
    if revising is not None:
        request_id, expected_revision = revising
        revised = revise(session, policy, request_id, expected_revision, request, evaluation)
        stored, changes = revised.request, revised.changes
    else:
        stored = record(session, policy, request, evaluation, team_id=team_id)
    still_approved = stored.status == storage.Status.APPROVED.value
    return Submitted(request=request, evaluation=evaluation, request_id=stored.id,
                     reference=stored.reference,
                     status=stored.status, revision=stored.revision, changes=changes,
                     still_approved=still_approved, tell=_waiting_approvers(stored))


def _waiting_approvers(stored: storage.PurchaseRequest) -> Tuple[str, ...]:
    """The approvers of the step waiting for a decision; nobody once approved."""
    route = stored.route or []
    if stored.status != storage.Status.SUBMITTED.value or not 0 <= stored.approval_step < len(route):
        return ()
    return tuple(route[stored.approval_step].get("approvers") or ())
