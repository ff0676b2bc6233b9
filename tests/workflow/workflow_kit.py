"""Requests judged by the real ESDC pack and stored through the workflow (a module with a unique
name, so importing it never picks up another folder's conftest)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Dict, Optional

import policies
import storage
import workflow

PACK = policies.DEFAULT_POLICY
ESDC = policies.load_policy(PACK)
ON = date(2026, 11, 25)
NADIA, KWAME = "U09NADIA", "U04KWAME"
AMINA, MARC, SOPHIE, JORDAN, PIERRE = "U01AMINA", "U02MARC", "U03SOPHIE", "U08JORDAN", "U07PIERRE"


def variant(*replacements) -> policies.LoadedPolicy:
    """The ESDC pack with each (old, new) text replaced once."""
    text = Path(PACK).read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} is not in the pack exactly once"
        text = text.replace(old, new)
    return policies.parse_policy(text.encode("utf-8"), "variant.yml")


def pens(**overrides) -> Dict[str, Any]:
    data = {"requester": NADIA, "cost_centre": "100200", "category": "office_supplies",
            "description": "box of pens", "supplier": "Staples", "quantity": 1, "unit_price": "89.99",
            "province": "ON", "needed_by": "2027-01-20", "data_classification": "unclassified",
            "payment_method": "acquisition_card", "justification": "for the team's planning"}
    data.update(overrides)
    return data


class Kit:
    def __init__(self, sessions):
        self.sessions = sessions

    def file(self, data: Dict[str, Any], policy: policies.LoadedPolicy = ESDC, on: date = ON) -> int:
        with self.sessions.begin() as session:
            return workflow.submit(session, policy, data, on, requester=data["requester"]).request_id

    def revise(self, request_id: int, data: Dict[str, Any], policy: policies.LoadedPolicy = ESDC,
               on: date = ON) -> workflow.Revised:
        with self.sessions.begin() as session:
            revision = storage.get_request(session, request_id).revision
            request, evaluation = workflow.judge(session, policy, data, on, exclude_request_id=request_id)
            return workflow.revise(session, policy, request_id, revision, request, evaluation)

    def decide(self, request_id: int, who: str, outcome: str = "approved", *, step: Optional[int] = None,
               policy: policies.LoadedPolicy = ESDC, on: date = ON):
        req = self.get(request_id)
        return workflow.decide(self.sessions, policy, request_id, revision=req.revision,
                               step=req.approval_step if step is None else step, approver=who, outcome=outcome,
                               on=on)

    def approve_all(self, request_id: int, policy: policies.LoadedPolicy = ESDC, on: date = ON) -> None:
        while self.get(request_id).status == "submitted":
            req = self.get(request_id)
            self.decide(request_id, req.route[req.approval_step]["approvers"][0], policy=policy, on=on)

    def get(self, request_id: int) -> storage.PurchaseRequest:
        with self.sessions() as session:
            return storage.get_request(session, request_id)

    def audit(self, request_id: int, action: str):
        from sqlalchemy import select

        with self.sessions() as session:
            return [e.payload for e in session.execute(
                select(storage.AuditEntry).where(storage.AuditEntry.request_id == request_id,
                                                 storage.AuditEntry.action == action)
                .order_by(storage.AuditEntry.id)).scalars()]
