"""After approval (domain steps 6-8): the purchase, the receipt, the section 34 certification.

Each step is one function that runs in the caller's transaction, checks the request is still at
the revision the person acted on and that the step may happen, records it through `storage`
(which checks who is asking and audits it) and returns what the adapters need to tell people.
The Slack buttons (bot/delivery.py) and any other caller go through here, so the checks that
are not storage's (a stale button or form, a purchase dated in the future) hold for every
process.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from storage.requests import route_members


class StaleRevision(ValueError):
    """A button or form sent for an earlier revision of the request: the purchase changed since."""

    def __init__(self, reference: str, revision: int, current: int):
        self.reference, self.revision, self.current = reference, revision, current
        super().__init__(f"{reference} is at revision {current}, not {revision}")


class FutureDate(ValueError):
    """A purchase dated after today (in the pack's time zone)."""

    def __init__(self, day: date, today: date):
        self.day, self.today = day, today
        super().__init__(f"the purchase date {day.isoformat()} is after today ({today.isoformat()})")


@dataclass(frozen=True)
class Step:
    """A recorded step: the request as it now stands, who gave its section 32 approval, and who
    is asked to certify its receipt."""

    request: storage.PurchaseRequest
    approver: Optional[str]
    certifiers: List[str]


def _at_revision(session: Session, request_id: int, revision: int) -> storage.PurchaseRequest:
    req = storage.get_request(session, request_id, for_update=True)
    if req.revision != revision:
        raise StaleRevision(req.reference or f"MB-{request_id:06d}", revision, req.revision)
    return req


def section_32_approver(session: Session, req: storage.PurchaseRequest) -> Optional[str]:
    """Who gave the final approval of the request's revision (a delegate, if one did)."""
    decision = session.execute(
        select(storage.Decision)
        .where(storage.Decision.request_id == req.id, storage.Decision.revision == req.revision,
               storage.Decision.outcome == "approved")
        .order_by(storage.Decision.step.desc(), storage.Decision.id.desc())
    ).scalars().first()
    return decision.approver if decision is not None else None


def certifiers(requester: str, approver: Optional[str], route: Sequence[Dict[str, Any]]) -> List[str]:
    """Who is asked to certify: the section 32 approver; without one, the last step's approvers
    (never the requester, who may not certify their own purchase)."""
    if approver and approver in route_members(route) and approver != requester:
        return [approver]
    last = (list(route) or [{}])[-1].get("approvers") or []
    return [person for person in last if person != requester]


def _step(session: Session, req: storage.PurchaseRequest) -> Step:
    approver = section_32_approver(session, req)
    return Step(req, approver, certifiers(req.requester, approver, req.route or []))


def purchase(session: Session, request_id: int, *, revision: int, actor: str, amount_paid: Decimal,
             purchased_on: date, today: date) -> Step:
    """The requester reports what they paid and when. Refused: a stale form (StaleRevision), a
    date after `today` (FutureDate), more than the approved maximum (storage.AmountExceedsApproval),
    anyone but the requester (storage.NotAuthorized), a request not approved
    (storage.InvalidTransition)."""
    _at_revision(session, request_id, revision)
    if purchased_on > today:
        raise FutureDate(purchased_on, today)
    req = storage.mark_purchased(session, request_id, actor=actor, amount_paid=amount_paid,
                                 purchased_on=purchased_on)
    return _step(session, req)


def receive(session: Session, request_id: int, *, revision: int, actor: str, today: date) -> Step:
    """The requester reports the goods or services received, today; the step's certifiers are
    the people to ask for the section 34 certification."""
    _at_revision(session, request_id, revision)
    return _step(session, storage.mark_received(session, request_id, actor=actor, received_on=today))


def certify(session: Session, request_id: int, *, revision: int, actor: str) -> Step:
    """Section 34: someone on the route other than the requester certifies the receipt; the
    request is closed."""
    _at_revision(session, request_id, revision)
    return _step(session, storage.certify_receipt(session, request_id, actor=actor))
