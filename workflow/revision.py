"""Revising a stored request: the requester's new answers, judged again, replace the old ones.

Whether the approval survives is storage's rule (storage.binding): only a lower total with
nothing else changed keeps it; anything else goes back for approval as a new revision. Only
the requester may revise (storage.update_request checks, whichever process asks).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from policies import Evaluation, LoadedPolicy, PurchaseRequest
from policies.facts import card_of

from .judging import BlockedRequest


@dataclass(frozen=True)
class Revised:
    request: storage.PurchaseRequest
    # Each answer that changed: {field: [old, new]}.
    changes: Dict[str, List]
    # Still approved (a lower total, nothing else changed): the approvers are told, nothing to decide.
    kept_approval: bool
    # The revision's approval post that the new one replaces (channel, ts), if there was one.
    previous_post: Optional[Tuple[str, str]]
    previous_total: Decimal
    # Who approved the revision being replaced (told when the approval is kept).
    approvers: List[str]


def revise(session: Session, policy: LoadedPolicy, request_id: int, expected_revision: int,
           request: PurchaseRequest, evaluation: Evaluation) -> Revised:
    """Replace a stored request's answers with re-judged ones, as `request.requester`.

    Raises NotAuthorized when the request is someone else's, StaleRevision if it changed since
    `expected_revision`, InvalidTransition once it can no longer change, BlockedRequest if the
    new answers are blocked.
    """
    if evaluation.blocked:
        raise BlockedRequest(evaluation)
    before = storage.get_request(session, request_id)
    answers_before = dict(before.answers or {})
    previous_post = (before.approval_channel, before.approval_ts) if before.approval_ts else None
    previous_total = before.total
    approvers = approved_by(session, request_id) if before.status == storage.Status.APPROVED.value else []
    storage.record_policy_version(session, version=policy.version, name=policy.file, content=policy.content)
    stored = storage.update_request(
        session, request_id, expected_revision=expected_revision, actor=request.requester,
        answers=request.dict(exclude_none=True), subtotal=evaluation.subtotal, tax=evaluation.tax,
        total=evaluation.total, evaluation=evaluation.to_dict(),
        route=[step.to_dict() for step in evaluation.approval_route], policy_version=policy.version,
        supplier=request.supplier, category=request.category, description=request.description,
        title=request.title, cost_centre=request.cost_centre,
        card_id=card_of(policy.rules, request.cost_centre, request.card_id),
    )
    after = dict(stored.answers or {})
    changes = {key: [answers_before.get(key), after.get(key)] for key in sorted(set(answers_before) | set(after))
               if answers_before.get(key) != after.get(key)}
    kept = stored.status == storage.Status.APPROVED.value and stored.revision != expected_revision
    return Revised(stored, changes, kept, previous_post, previous_total, approvers)


def approved_by(session: Session, request_id: int) -> List[str]:
    """The people whose approvals made the request approved (the latest approving round)."""
    rows = session.execute(
        select(storage.Decision.revision, storage.Decision.approver)
        .where(storage.Decision.request_id == request_id, storage.Decision.outcome == "approved")
        .order_by(storage.Decision.revision.desc(), storage.Decision.step)
    ).all()
    if not rows:
        return []
    latest = rows[0].revision
    return list(dict.fromkeys(row.approver for row in rows if row.revision == latest))
