"""Judging a request against the policy with its real spending history from the database, and
filing a judged request.

The one place that joins `policies` (the pure engine) to `storage` (past purchases); the CLI,
the dialogue actions and the Slack app all judge requests through it.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Optional, Tuple

from sqlalchemy.orm import Session

import storage
from policies import Evaluation, LoadedPolicy, PurchaseRequest, evaluate, history_window, parse_request
from policies.facts import card_of

from .clock import zone


def spending_for(session: Session, policy: LoadedPolicy, request: PurchaseRequest, on: date,
                 exclude_request_id: Optional[int] = None) -> list:
    """Past purchases of the request's cost centre and of its card, each once."""
    since, until, card = history_window(policy, request, on)
    where = zone(policy)
    records = storage.spending_history(session, cost_centre=request.cost_centre, since=since, until=until,
                                       exclude_request_id=exclude_request_id, zone=where)
    if card:
        records += storage.spending_history(session, cost_centre=request.cost_centre, since=since, until=until,
                                            card_id=card_of(policy.rules, request.cost_centre, request.card_id),
                                            exclude_request_id=exclude_request_id, zone=where)
    return list({record.request_id: record for record in records}.values())


def judge(session: Session, policy: LoadedPolicy, data: Mapping[str, Any], on: date,
          language: Optional[str] = None, exclude_request_id: Optional[int] = None
          ) -> Tuple[PurchaseRequest, Evaluation]:
    """Parse and evaluate a request; raises policies.RequestError naming each bad field."""
    request = parse_request(data, policy)
    history = spending_for(session, policy, request, on, exclude_request_id)
    return request, evaluate(policy, request, history, on, language)


class BlockedRequest(ValueError):
    """A blocked request cannot be submitted; the findings say why."""

    def __init__(self, evaluation: Evaluation):
        self.evaluation = evaluation
        reasons = "; ".join(f.message for f in evaluation.findings if f.severity == "block")
        super().__init__(f"the request is blocked: {reasons}")


def record(session: Session, policy: LoadedPolicy, request: PurchaseRequest, evaluation: Evaluation,
           *, team_id: Optional[str] = None, submit: bool = True) -> storage.PurchaseRequest:
    """Store a judged request with the evaluation and the policy version it was judged by.

    Runs in the caller's transaction: the request, the policy version and the audit entry are
    written together or not at all.
    """
    if evaluation.blocked and submit:
        raise BlockedRequest(evaluation)
    storage.record_policy_version(session, version=policy.version, name=policy.file, content=policy.content)
    return storage.create_request(
        session,
        requester=request.requester,
        cost_centre=request.cost_centre,
        category=request.category,
        supplier=request.supplier,
        description=request.description,
        title=request.title,
        subtotal=evaluation.subtotal,
        tax=evaluation.tax,
        total=evaluation.total,
        answers=request.dict(exclude_none=True),
        evaluation=evaluation.to_dict(),
        route=[step.to_dict() for step in evaluation.approval_route],
        policy_version=policy.version,
        team_id=team_id,
        card_id=card_of(policy.rules, request.cost_centre, request.card_id),
        submit=submit,
        actor=request.requester,
    )
