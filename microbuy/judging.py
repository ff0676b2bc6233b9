"""Judging a request against the policy with its real spending history from the database.

The one place that joins `policies` (the pure engine) to `storage` (past purchases); the CLI,
the dialogue actions and the Slack app all judge requests through it.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Optional, Tuple

from sqlalchemy.orm import Session

import storage
from policies import Evaluation, LoadedPolicy, PurchaseRequest, evaluate, history_window, parse_request


def spending_for(session: Session, policy: LoadedPolicy, request: PurchaseRequest, on: date,
                 exclude_request_id: Optional[int] = None) -> list:
    """Past purchases of the request's cost centre and of its card, each once."""
    since, until, card = history_window(policy, request, on)
    records = storage.spending_history(session, cost_centre=request.cost_centre, since=since, until=until,
                                       exclude_request_id=exclude_request_id)
    if card:
        records += storage.spending_history(session, cost_centre=request.cost_centre, since=since, until=until,
                                            card_id=card, exclude_request_id=exclude_request_id)
    return list({record.request_id: record for record in records}.values())


def judge(session: Session, policy: LoadedPolicy, data: Mapping[str, Any], on: date,
          language: Optional[str] = None, exclude_request_id: Optional[int] = None
          ) -> Tuple[PurchaseRequest, Evaluation]:
    """Parse and evaluate a request; raises policies.RequestError naming each bad field."""
    request = parse_request(data, policy)
    history = spending_for(session, policy, request, on, exclude_request_id)
    return request, evaluate(policy, request, history, on, language)
