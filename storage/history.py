"""Read-only views of past spending: the splitting check and the monthly card log."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .lifecycle import Status
from .models import Decision, PurchaseRequest
from .types import date_to_utc

# Requests that commit (or committed) money; drafts, rejected and cancelled ones do not.
COUNTING_STATUSES = frozenset({
    Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.APPROVED,
    Status.PURCHASED, Status.RECEIVED, Status.CERTIFIED,
})
PURCHASED_STATUSES = frozenset({Status.PURCHASED, Status.RECEIVED, Status.CERTIFIED})


@dataclass(frozen=True)
class SpendingRecord:
    request_id: int
    reference: str
    requester: str
    cost_centre: str
    card_id: Optional[str]
    supplier: str
    category: str
    description: str
    total: Decimal  # amount paid once purchased, else the requested total
    on: date  # purchase date, else submission date, else creation date (in the caller's zone)
    status: str


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The calendar date of an instant where the department is."""
    return moment.astimezone(zone).date()


def spending_day(req: PurchaseRequest, zone: tzinfo) -> date:
    """The day a request's spending counts on: its purchase date (stored as a calendar date,
    00:00 UTC), else the day in `zone` it was submitted, else created. A request submitted at
    21:00 in Toronto counts on that day, not on the UTC date (already tomorrow)."""
    if req.purchased_at is not None:
        return req.purchased_at.astimezone(timezone.utc).date()
    return local_day(req.submitted_at or req.created_at, zone)


def spending_history(
    session: Session, *, cost_centre: str, since: date, until: date,
    card_id: Optional[str] = None, exclude_request_id: Optional[int] = None,
    zone: tzinfo = timezone.utc,
) -> List[SpendingRecord]:
    """Spending of a cost centre (or of one card, when card_id is given) dated
    within [since, until], both days included, oldest first; days are those of `zone` (the
    policy pack's time zone, like every "today")."""
    if since > until:
        raise ValueError(f"since ({since}) is after until ({until})")
    on_at = func.coalesce(
        PurchaseRequest.purchased_at, PurchaseRequest.submitted_at, PurchaseRequest.created_at
    )
    # A day in any zone lies within a day either side of the same UTC day; the exact day is
    # decided below, per request.
    stmt = select(PurchaseRequest).where(
        PurchaseRequest.status.in_([s.value for s in COUNTING_STATUSES]),
        on_at >= date_to_utc(since - timedelta(days=1)),
        on_at < date_to_utc(until + timedelta(days=2)),
    )
    if card_id is not None:
        stmt = stmt.where(PurchaseRequest.card_id == card_id)
    else:
        stmt = stmt.where(PurchaseRequest.cost_centre == cost_centre)
    if exclude_request_id is not None:
        stmt = stmt.where(PurchaseRequest.id != exclude_request_id)
    records = []
    for req in session.execute(stmt.order_by(on_at, PurchaseRequest.id)).scalars():
        day = spending_day(req, zone)
        if not since <= day <= until:
            continue
        records.append(SpendingRecord(
            request_id=req.id, reference=req.reference, requester=req.requester,
            cost_centre=req.cost_centre, card_id=req.card_id, supplier=req.supplier,
            category=req.category, description=req.description,
            total=req.amount_paid if req.amount_paid is not None else req.total,
            on=day, status=req.status,
        ))
    records.sort(key=lambda record: (record.on, record.request_id))
    return records


@dataclass(frozen=True)
class CardLogRow:
    reference: str
    purchased_on: date
    requester: str
    cost_centre: str
    card_id: Optional[str]
    category: str
    supplier: str
    description: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    amount_paid: Optional[Decimal]
    approved_by: str  # section 32 approvers of the final approval, comma-joined
    approved_on: Optional[date]
    certified_by: Optional[str]  # section 34
    certified_on: Optional[date]
    policy_version: str


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str):
    """'YYYY-MM' -> (first day, first day of the next month)."""
    match = _MONTH.match(month) if isinstance(month, str) else None
    if not match:
        raise ValueError(f"month must look like 2026-03 (YYYY-MM), not {month!r}")
    year, mon = int(match.group(1)), int(match.group(2))
    start = date(year, mon, 1)
    end = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return start, end


def _final_approvals(session: Session, request_ids: List[int]) -> Dict[int, List[Decision]]:
    """Per request, the approved decisions of the latest revision that has any.

    A request is only purchased after a full approval round, and any later
    round would have to finish before purchase, so that revision's approvals
    are the ones the purchase rests on.
    """
    if not request_ids:
        return {}
    decisions = session.execute(
        select(Decision)
        .where(Decision.request_id.in_(request_ids), Decision.outcome == "approved")
        .order_by(Decision.request_id, Decision.revision, Decision.step)
    ).scalars()
    by_request: Dict[int, List[Decision]] = {}
    for decision in decisions:
        current = by_request.get(decision.request_id)
        if current and current[0].revision != decision.revision:
            current = None  # a later revision replaces the earlier round
        if current is None:
            current = by_request[decision.request_id] = []
        current.append(decision)
    return by_request


def _approver_label(decision: Decision) -> str:
    if decision.on_behalf_of:
        return f"{decision.approver} (for {decision.on_behalf_of})"
    return decision.approver


def card_log(session: Session, month: str, zone: tzinfo = timezone.utc) -> List[CardLogRow]:
    """The monthly acquisition card log: every purchase made in `month` (YYYY-MM); approval and
    certification dates are days in `zone` (the policy pack's time zone)."""
    start, end = parse_month(month)
    requests = list(session.execute(
        select(PurchaseRequest)
        .where(
            PurchaseRequest.status.in_([s.value for s in PURCHASED_STATUSES]),
            PurchaseRequest.purchased_at >= date_to_utc(start),
            PurchaseRequest.purchased_at < date_to_utc(end),
        )
        .order_by(PurchaseRequest.purchased_at, PurchaseRequest.id)
    ).scalars())
    approvals = _final_approvals(session, [r.id for r in requests])
    rows = []
    for req in requests:
        approved = approvals.get(req.id, [])
        rows.append(CardLogRow(
            reference=req.reference, purchased_on=req.purchased_at.astimezone(timezone.utc).date(),
            requester=req.requester, cost_centre=req.cost_centre, card_id=req.card_id,
            category=req.category, supplier=req.supplier, description=req.description,
            subtotal=req.subtotal, tax=req.tax, total=req.total, amount_paid=req.amount_paid,
            approved_by=", ".join(_approver_label(d) for d in approved),
            approved_on=local_day(max(d.decided_at for d in approved), zone) if approved else None,
            certified_by=req.certified_by,
            certified_on=local_day(req.certified_at, zone) if req.certified_at else None,
            policy_version=req.policy_version,
        ))
    return rows
