"""Purchase request repository: create, read, edit and move requests along
the lifecycle. Approval decisions live in decisions.py.

Every function works inside the caller's transaction (in a SAVEPOINT, see
atomic.py), writes an audit entry for each change, and raises before
changing anything when the change is not allowed.
"""

from datetime import date
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from .atomic import atomic
from .audit import append_audit
from .binding import approval_holds
from .canonical import jsonable
from .errors import AmountExceedsApproval, InvalidTransition, NotAuthorized, NotFound, SelfApproval, StaleRevision
from .lifecycle import EDITABLE_STATUSES, SUBMITTABLE_STATUSES, Status, as_status, check_transition
from .models import PurchaseRequest
from .types import MoneyInput, date_to_utc, to_money, utcnow

# Marks keyword arguments the caller did not pass (None is a real value for title).
_UNCHANGED: Any = type("Unchanged", (), {"__repr__": lambda self: "<unchanged>"})()


# ---------------------------------------------------------------- validation

def _text(name: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


def _amounts(subtotal: MoneyInput, tax: MoneyInput, total: MoneyInput) -> Tuple[Decimal, Decimal, Decimal]:
    subtotal, tax, total = to_money(subtotal), to_money(tax), to_money(total)
    if subtotal < 0 or tax < 0:
        raise ValueError("subtotal and tax cannot be negative")
    if subtotal + tax != total:
        raise ValueError(f"total {total} is not subtotal {subtotal} + tax {tax}")
    return subtotal, tax, total


def normalise_route(route: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Check the approval route's shape and return it as plain JSON."""
    if not isinstance(route, (list, tuple)):
        raise ValueError("route must be a list of approval steps")
    steps = []
    for index, step in enumerate(route):
        if not isinstance(step, dict):
            raise ValueError(f"route step {index} must be a dict")
        level = step.get("level")
        if not isinstance(level, str) or not level:
            raise ValueError(f"route step {index} needs a 'level'")
        approvers = step.get("approvers")
        if (not isinstance(approvers, (list, tuple)) or not approvers
                or not all(isinstance(a, str) and a for a in approvers)):
            raise ValueError(f"route step {index} ({level}) needs a non-empty list of approver ids")
        delegates = step.get("delegates") or []
        if not isinstance(delegates, (list, tuple)) or not all(isinstance(d, str) and d for d in delegates):
            raise ValueError(f"route step {index} ({level}): delegates must be a list of user ids")
        steps.append({**step, "level": level, "name": str(step.get("name") or level),
                      "approvers": list(approvers), "delegates": list(delegates)})
    return jsonable(steps)


def _require_requester(req: PurchaseRequest, actor: str, doing: str) -> None:
    if actor != req.requester:
        raise NotAuthorized(f"only the requester ({req.requester}) can {doing} {req.reference}; {actor} cannot")


# ---------------------------------------------------------------- reading

def get_request(session: Session, request_id: int, *, for_update: bool = False) -> PurchaseRequest:
    """Load a request (fresh from the database), optionally locking its row."""
    stmt = select(PurchaseRequest).where(PurchaseRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    # populate_existing: a long-lived session must not act on a stale copy.
    req = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if req is None:
        raise NotFound(f"purchase request {request_id} does not exist")
    return req


def list_requests(
    session: Session, *, requester: Optional[str] = None,
    statuses: Optional[Iterable[str]] = None, limit: int = 50,
) -> List[PurchaseRequest]:
    """Requests, newest first, optionally of one requester and/or in some statuses."""
    stmt = select(PurchaseRequest)
    if requester is not None:
        stmt = stmt.where(PurchaseRequest.requester == requester)
    if statuses is not None:
        try:
            wanted = [Status(s).value for s in statuses]
        except ValueError as exc:
            raise ValueError(f"list_requests: {exc}") from None
        stmt = stmt.where(PurchaseRequest.status.in_(wanted))
    stmt = stmt.order_by(PurchaseRequest.created_at.desc(), PurchaseRequest.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())


# ---------------------------------------------------------------- creating and submitting

def _submit(session: Session, req: PurchaseRequest, actor: str, *, bump_revision: bool) -> None:
    new_status = check_transition(req.status, Status.SUBMITTED)
    if not req.route:
        raise ValueError(f"{req.reference} cannot be submitted: its route has no approval steps")
    req.status = new_status.value
    if bump_revision:
        # Buttons sent for the previous round must not count for this one, nor the people an
        # escalation of the previous round added.
        req.revision += 1
        req.route = [{k: v for k, v in step.items() if k != "escalated_to"} for step in req.route]
    now = utcnow()
    req.approval_step = 0
    req.submitted_at = now
    req.decided_at = None
    req.approved_max_amount = None
    req.updated_at = now
    session.flush()
    append_audit(
        session, actor=actor, action="request.submitted", request_id=req.id,
        data={"reference": req.reference, "revision": req.revision, "total": req.total,
              "route": [step["level"] for step in req.route]},
    )


def create_request(
    session: Session, *, requester: str, cost_centre: str, category: str, supplier: str,
    description: str, subtotal: MoneyInput, tax: MoneyInput, total: MoneyInput,
    answers: Dict[str, Any], evaluation: Dict[str, Any], route: Sequence[Dict[str, Any]],
    policy_version: str, team_id: Optional[str] = None, card_id: Optional[str] = None,
    title: Optional[str] = None, submit: bool = True, actor: Optional[str] = None,
) -> PurchaseRequest:
    """Store a new request, submitted for approval (or a draft if submit=False)."""
    subtotal, tax, total = _amounts(subtotal, tax, total)
    route = normalise_route(route)
    actor = actor or requester
    if actor != requester:
        # Nobody files a purchase in someone else's name, whichever process asks.
        raise NotAuthorized(f"{actor} cannot file a request in {requester}'s name")
    now = utcnow()
    with atomic(session):
        req = PurchaseRequest(
            requester=_text("requester", requester), team_id=team_id,
            cost_centre=_text("cost_centre", cost_centre), card_id=card_id,
            category=_text("category", category), supplier=_text("supplier", supplier),
            title=title, description=_text("description", description, allow_empty=True),
            subtotal=subtotal, tax=tax, total=total,
            answers=jsonable(answers), evaluation=jsonable(evaluation), route=route,
            approval_step=0, policy_version=_text("policy_version", policy_version),
            status=Status.DRAFT.value, revision=1, created_at=now, updated_at=now,
        )
        session.add(req)
        session.flush()
        append_audit(
            session, actor=actor, action="request.created", request_id=req.id,
            data={"reference": req.reference, "requester": requester, "cost_centre": cost_centre,
                  "card_id": card_id, "category": category, "supplier": supplier,
                  "subtotal": subtotal, "tax": tax, "total": total,
                  "policy_version": policy_version, "revision": 1},
        )
        if submit:
            _submit(session, req, actor, bump_revision=False)
    return req


def submit_request(session: Session, request_id: int, *, actor: str) -> PurchaseRequest:
    """Send a draft, or a request sent back for changes, (again) for approval."""
    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        _require_requester(req, actor, "submit")
        if as_status(req.status) not in SUBMITTABLE_STATUSES:
            raise InvalidTransition(
                f"{req.reference} is {req.status}; only a draft or a request sent back "
                "for changes can be submitted"
            )
        # A resubmission starts a new approval round on a new revision, so a
        # step's old button cannot approve the new round.
        _submit(session, req, actor, bump_revision=req.status != Status.DRAFT.value)
    return req


# ---------------------------------------------------------------- editing

def _diff(old: Any, new: Any) -> Dict[str, Any]:
    return {"old": old, "new": new}


def update_request(
    session: Session, request_id: int, *, expected_revision: int, actor: str,
    answers: Dict[str, Any], subtotal: MoneyInput, tax: MoneyInput, total: MoneyInput,
    evaluation: Dict[str, Any], route: Sequence[Dict[str, Any]], policy_version: str,
    supplier: Any = _UNCHANGED, category: Any = _UNCHANGED,
    description: Any = _UNCHANGED, title: Any = _UNCHANGED,
    cost_centre: Any = _UNCHANGED, card_id: Any = _UNCHANGED,
) -> PurchaseRequest:
    """The requester replaces a request's answers, based on `expected_revision` (optimistic
    concurrency); anyone else gets NotAuthorized.

    The revision is bumped and the approval starts again from the first step,
    so approvals given on the old content no longer count. A request that was
    sent back for changes goes back to submitted. An approved request stays
    approved only when nothing but a lower total changed (storage.binding);
    otherwise it goes back for approval.
    """
    subtotal, tax, total = _amounts(subtotal, tax, total)
    route = normalise_route(route)
    new_values: Dict[str, Any] = {
        "answers": jsonable(answers), "evaluation": jsonable(evaluation), "route": route,
        "policy_version": _text("policy_version", policy_version),
        "subtotal": subtotal, "tax": tax, "total": total,
    }
    for name, value in (("supplier", supplier), ("category", category), ("description", description),
                        ("cost_centre", cost_centre)):
        if value is not _UNCHANGED:
            new_values[name] = _text(name, value, allow_empty=(name == "description"))
    for name, value in (("title", title), ("card_id", card_id)):
        if value is not _UNCHANGED:
            new_values[name] = value

    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        _require_requester(req, actor, "change")
        if req.revision != expected_revision:
            raise StaleRevision(
                f"{req.reference} is at revision {req.revision}, but this edit was based on "
                f"revision {expected_revision}; reload it and try again"
            )
        status = as_status(req.status)
        if status not in EDITABLE_STATUSES:
            raise InvalidTransition(f"{req.reference} is {status} and can no longer be edited")

        changes: Dict[str, Any] = {}
        for name, value in new_values.items():
            old = getattr(req, name)
            if old == value:
                continue
            if name == "answers" and isinstance(old, dict) and isinstance(value, dict):
                for key in sorted(set(old) | set(value)):
                    if old.get(key) != value.get(key):
                        changes[f"answers.{key}"] = _diff(old.get(key), value.get(key))
            else:
                changes[name] = _diff(old, value)
        if not changes:
            return req  # nothing changed: keep the revision and any approvals

        old_revision = req.revision
        if status is Status.DRAFT:
            new_status = Status.DRAFT
        elif status is Status.APPROVED:
            holds = approval_holds(changes, old_total=req.total, new_total=total,
                                   approved_max=req.approved_max_amount, old_route=req.route, new_route=route)
            new_status = Status.APPROVED if holds else check_transition(status, Status.SUBMITTED)
        else:
            new_status = check_transition(status, Status.SUBMITTED)

        now = utcnow()
        for name, value in new_values.items():
            setattr(req, name, value)
        req.revision = old_revision + 1
        req.approval_step = 0
        req.updated_at = now
        if new_status is Status.SUBMITTED:
            # The revision waits for approval from now: reminders and decision times count from here.
            req.submitted_at = now
            req.decided_at = None
            req.approved_max_amount = None
        req.status = new_status.value
        session.flush()

        data: Dict[str, Any] = {
            "reference": req.reference,
            "revision": _diff(old_revision, req.revision),
            "changes": changes,
        }
        if new_status is not status:
            data["status"] = _diff(status.value, new_status.value)
        append_audit(session, actor=actor, action="request.updated", request_id=req.id, data=data)
    return req


# ---------------------------------------------------------------- after approval

def cancel_request(session: Session, request_id: int, *, actor: str, reason: str) -> PurchaseRequest:
    """The requester withdraws the request, saying why."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("a cancellation needs a reason")
    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        _require_requester(req, actor, "cancel")
        old = req.status
        req.status = check_transition(old, Status.CANCELLED).value
        req.updated_at = utcnow()
        session.flush()
        append_audit(
            session, actor=actor, action="request.cancelled", request_id=req.id,
            data={"reference": req.reference, "from_status": old, "reason": reason.strip()},
        )
    return req


def mark_purchased(
    session: Session, request_id: int, *, actor: str, amount_paid: MoneyInput, purchased_on: date,
) -> PurchaseRequest:
    """The cardholder (the requester) logs the purchase; refused above the approved maximum."""
    amount_paid = to_money(amount_paid)
    if amount_paid <= 0:
        raise ValueError("amount_paid must be more than zero")
    purchased_at = date_to_utc(purchased_on)
    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        _require_requester(req, actor, "log the purchase of")
        new_status = check_transition(req.status, Status.PURCHASED)
        if req.approved_max_amount is None or amount_paid > req.approved_max_amount:
            raise AmountExceedsApproval(
                f"{req.reference}: {amount_paid} paid is more than the approved maximum of "
                f"{req.approved_max_amount}; edit the request so it goes back for approval"
            )
        req.status = new_status.value
        req.amount_paid = amount_paid
        req.purchased_at = purchased_at
        req.updated_at = utcnow()
        session.flush()
        append_audit(
            session, actor=actor, action="request.purchased", request_id=req.id,
            data={"reference": req.reference, "amount_paid": amount_paid,
                  "purchased_on": purchased_on, "approved_max_amount": req.approved_max_amount},
        )
    return req


def mark_received(session: Session, request_id: int, *, actor: str, received_on: date) -> PurchaseRequest:
    """The requester records delivery."""
    received_at = date_to_utc(received_on)
    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        _require_requester(req, actor, "record delivery of")
        req.status = check_transition(req.status, Status.RECEIVED).value
        req.received_at = received_at
        req.updated_at = utcnow()
        session.flush()
        append_audit(
            session, actor=actor, action="request.received", request_id=req.id,
            data={"reference": req.reference, "received_on": received_on},
        )
    return req


def set_approval_post(session: Session, request_id: int, *, channel: str, ts: str) -> None:
    """Remember where the request's current approval post is (Slack channel id and message ts)."""
    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        req.approval_channel, req.approval_ts = channel, ts
        session.flush()


def route_members(route: Sequence[Dict[str, Any]]) -> set:
    """Everyone on the route: approvers, delegates and escalation people of every step."""
    members: Set[str] = set()
    for step in route or []:
        members.update(step.get("approvers") or [])
        members.update(step.get("delegates") or [])
        members.update((step.get("escalated_to") or {}).get("people") or [])
    return members


def certify_receipt(session: Session, request_id: int, *, actor: str) -> PurchaseRequest:
    """Section 34: someone with authority on the route certifies receipt and price."""
    with atomic(session):
        req = get_request(session, request_id, for_update=True)
        if actor == req.requester:
            raise SelfApproval(f"{actor} requested {req.reference} and cannot certify its receipt")
        if actor not in route_members(req.route):
            raise NotAuthorized(f"{actor} is not an approver or delegate on {req.reference}'s route")
        req.status = check_transition(req.status, Status.CERTIFIED).value
        now = utcnow()
        req.certified_by = actor
        req.certified_at = now
        req.updated_at = now
        session.flush()
        append_audit(
            session, actor=actor, action="request.certified", request_id=req.id,
            data={"reference": req.reference, "amount_paid": req.amount_paid},
        )
    return req
