"""Each request replayed from its audit trail and compared with what is stored.

The hash chain proves the audit rows are the ones microbuy wrote; this proves the requests and
decisions are what those rows say. A change made behind the application's back (`UPDATE
purchase_requests SET status = 'certified'`, an edited total or approved maximum, a decision
deleted or added) writes no audit row, so the stored request and its trail disagree.

The replay is driven by the audit data. Each action of the lifecycle (storage/requests.py,
storage/decisions.py) has a handler below saying what it sets; `request.updated`, and any action
not listed, applies the {"old": ..., "new": ...} diffs its data carries (in `changes`, or at the
top: `status`, `revision`). A field is compared once the trail has said what it is, so an action
that states nothing modelled here (a reminder, a refused click, a route reassignment) is passed
over rather than reported. To model a new action, add its handler to HANDLERS.

Read in one snapshot (`storage.audit.read_snapshot`), or a request changed while this runs looks
like tampering.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import HEAD_ID
from .canonical import jsonable
from .models import AuditEntry, AuditHead, Decision, PurchaseRequest

# The request columns a trail can state, in the order they are compared.
FIELDS = ("requester", "cost_centre", "card_id", "category", "supplier", "title", "description",
          "policy_version", "status", "revision", "approval_step",
          "subtotal", "tax", "total", "approved_max_amount", "amount_paid")
# The decision columns a decision.* row states (the approver is its actor).
DECISION_FIELDS = ("outcome", "approver", "level", "on_behalf_of", "reason", "fields_to_revisit", "max_amount")
MONEY = frozenset({"subtotal", "tax", "total", "approved_max_amount", "amount_paid", "max_amount"})


@dataclass(frozen=True)
class RequestCheck:
    ok: bool
    # Requests that agreed with their trail before the first that did not (all of them when ok).
    requests_checked: int
    request_id: Optional[int] = None
    reference: Optional[str] = None
    problem: Optional[str] = None


@dataclass(frozen=True)
class Entry:
    id: int
    actor: str
    action: str
    data: Dict[str, Any]


@dataclass
class Trail:
    """What the audit log says about one request: each field with the row that last stated it."""

    request_id: int
    created: bool = False
    fields: Dict[str, Tuple[Any, int]] = field(default_factory=dict)
    # (revision, step) -> (the decision's columns, the row that recorded it)
    decisions: Dict[Tuple[int, int], Tuple[Dict[str, Any], int]] = field(default_factory=dict)

    def set(self, row_id: int, values: Dict[str, Any]) -> None:
        for name, value in values.items():
            self.fields[name] = (value, row_id)

    def value(self, name: str) -> Any:
        return self.fields.get(name, (None, 0))[0]


# ---------------------------------------------------------------- what each action sets

def _is_diff(value: Any) -> bool:
    return isinstance(value, dict) and "new" in value


def _stated(data: Dict[str, Any], names) -> Dict[str, Any]:
    return {name: data[name] for name in names if name in data and not _is_diff(data[name])}


def _created(trail: Trail, entry: Entry) -> None:
    trail.created = True
    trail.fields.clear()
    trail.decisions.clear()
    trail.set(entry.id, {"status": "draft", "revision": 1, "approval_step": 0,
                         "approved_max_amount": None, "amount_paid": None,
                         **_stated(entry.data, FIELDS)})


def _submitted(trail: Trail, entry: Entry) -> None:
    trail.set(entry.id, {"status": "submitted", "approval_step": 0, "approved_max_amount": None,
                         **_stated(entry.data, ("revision", "total"))})


def _diffs(trail: Trail, entry: Entry) -> None:
    """Apply the {"old", "new"} diffs the data carries (request.updated, and unknown actions)."""
    changes = entry.data.get("changes")
    diffs = dict(changes) if isinstance(changes, dict) else {}
    diffs.update({name: value for name, value in entry.data.items() if name in FIELDS and _is_diff(value)})
    new = {name: diff["new"] for name, diff in diffs.items() if name in FIELDS and _is_diff(diff)}
    if not new:
        return
    if "revision" in new:
        new.setdefault("approval_step", 0)  # a new revision starts its route again
    if new.get("status", trail.value("status")) == "submitted" and ("revision" in new or "status" in new):
        new.setdefault("approved_max_amount", None)  # waiting for approval: nothing approved yet
    trail.set(entry.id, new)


def _decided(trail: Trail, entry: Entry) -> None:
    data, outcome = entry.data, entry.action.split(".", 1)[1]
    new: Dict[str, Any] = {}
    status = data.get("status")
    if isinstance(status, str):
        new["status"] = status
    step, revision = data.get("step"), data.get("revision")
    if outcome == "approved" and status == "submitted" and isinstance(step, int):
        new["approval_step"] = step + 1
    if status == "approved" and "max_amount" in data:
        new["approved_max_amount"] = data["max_amount"]
    trail.set(entry.id, new)
    if isinstance(revision, int) and isinstance(step, int):
        stated = {"outcome": outcome, "approver": entry.actor, **_stated(data, DECISION_FIELDS)}
        trail.decisions[(revision, step)] = (stated, entry.id)


def _becomes(status: str, *names: str) -> Callable[[Trail, Entry], None]:
    def handler(trail: Trail, entry: Entry) -> None:
        trail.set(entry.id, {"status": status, **_stated(entry.data, names)})
    return handler


HANDLERS: Dict[str, Callable[[Trail, Entry], None]] = {
    "request.created": _created,
    "request.submitted": _submitted,
    "request.updated": _diffs,
    "decision.approved": _decided,
    "decision.rejected": _decided,
    "decision.changes_requested": _decided,
    "request.cancelled": _becomes("cancelled"),
    "request.purchased": _becomes("purchased", "amount_paid", "approved_max_amount"),
    "request.received": _becomes("received"),
    "request.certified": _becomes("certified", "amount_paid"),
}


def replay(request_id: int, entries) -> Trail:
    """The trail of one request from its audit entries, in id order."""
    trail = Trail(request_id)
    for entry in entries:
        HANDLERS.get(entry.action, _diffs)(trail, entry)
    return trail


# ---------------------------------------------------------------- comparing

def _same(name: str, expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if name in MONEY:
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except ArithmeticError:
            return False
    if name == "fields_to_revisit":
        return jsonable(expected) == jsonable(actual)
    return expected == actual


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "empty"
    if name in MONEY or isinstance(value, (int, Decimal)):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _step(key: Tuple[int, int]) -> str:
    return f"revision {key[0]} step {key[1] + 1}"  # steps are counted from 1, as people count them


def disagreement(trail: Trail, stored: Any, decisions: List[Any]) -> Optional[str]:
    """What the stored request or its decisions say that the trail does not; None if they agree."""
    if not trail.created:
        return "its audit trail has no request.created row (inserted outside the application?)"
    for name in FIELDS:
        if name not in trail.fields:
            continue
        expected, row_id = trail.fields[name]
        actual = getattr(stored, name)
        if not _same(name, expected, actual):
            return (f"{name} is {_shown(name, actual)} in purchase_requests, but its audit trail says "
                    f"{_shown(name, expected)} (audit row {row_id})")
    stored_by_step = {(d.revision, d.step): d for d in decisions}
    for key, (expected, row_id) in sorted(trail.decisions.items()):
        decision = stored_by_step.pop(key, None)
        if decision is None:
            return (f"audit row {row_id} records a decision on {_step(key)} ({expected['outcome']} by "
                    f"{expected['approver']}), but the decisions table has none (deleted?)")
        for name, value in expected.items():
            if not _same(name, value, getattr(decision, name)):
                return (f"its decision on {_step(key)}: {name} is {_shown(name, getattr(decision, name))} in "
                        f"decisions, but audit row {row_id} says {_shown(name, value)}")
    if stored_by_step:
        key = min(stored_by_step)
        extra = stored_by_step[key]
        return (f"the decisions table has a decision on {_step(key)} ({extra.outcome} by {extra.approver}) "
                "that its audit trail does not record (added outside the application?)")
    return None


# ---------------------------------------------------------------- reading

class _Cursor:
    """An iterator with the next item in view, for walking sorted streams side by side."""

    def __init__(self, items: Iterator):
        self._items = items
        self.current: Any = None
        self.advance()

    def advance(self) -> None:
        self.current = next(self._items, None)


def _trails(session: Session, up_to: int, batch_size: int) -> Iterator[Trail]:
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.request_id, AuditEntry.actor, AuditEntry.action, AuditEntry.data)
        .where(AuditEntry.request_id.isnot(None), AuditEntry.id <= up_to)
        .order_by(AuditEntry.request_id, AuditEntry.id)
        .execution_options(stream_results=True, yield_per=batch_size)
    )
    for request_id, group in groupby(rows, key=lambda row: row.request_id):
        entries = []
        for row in group:
            try:
                data = json.loads(row.data)
            except ValueError:
                data = None
            entries.append(Entry(row.id, row.actor, row.action, data if isinstance(data, dict) else {}))
        yield replay(request_id, entries)


def _decisions(session: Session, batch_size: int) -> Iterator[Tuple[int, List[Any]]]:
    rows = session.execute(
        select(Decision.request_id, Decision.revision, Decision.step,
               *(getattr(Decision, name) for name in DECISION_FIELDS))
        .order_by(Decision.request_id, Decision.id)
        .execution_options(stream_results=True, yield_per=batch_size)
    )
    for request_id, group in groupby(rows, key=lambda row: row.request_id):
        yield request_id, list(group)


def reference(request_id: int) -> str:
    return f"MB-{request_id:06d}"


def check_requests(session: Session, *, up_to: Optional[int] = None, batch_size: int = 1000) -> RequestCheck:
    """Replay every request's audit trail (rows up to `up_to`, default the head) and name the
    first request, in id order, whose stored row or decisions disagree with it."""
    if up_to is None:
        up_to = session.execute(select(AuditHead.last_id).where(AuditHead.id == HEAD_ID)).scalar_one_or_none() or 0
    requests = session.execute(
        select(PurchaseRequest.id, *(getattr(PurchaseRequest, name) for name in FIELDS))
        .order_by(PurchaseRequest.id)
        .execution_options(stream_results=True, yield_per=batch_size)
    )
    trails = _Cursor(_trails(session, up_to, batch_size))
    decisions = _Cursor(_decisions(session, batch_size))
    checked = 0

    def bad(request_id: int, problem: str) -> RequestCheck:
        return RequestCheck(False, checked, request_id, reference(request_id), problem)

    def missing(trail: Trail) -> RequestCheck:
        return bad(trail.request_id, "its audit trail records it (request.created), but purchase_requests "
                                     "has no such request (deleted?)")

    for stored in requests:
        while trails.current is not None and trails.current.request_id < stored.id:
            if trails.current.created:
                return missing(trails.current)
            trails.advance()  # audit rows about a request that never existed: a refused click, say
        trail = Trail(stored.id)
        if trails.current is not None and trails.current.request_id == stored.id:
            trail = trails.current
            trails.advance()
        while decisions.current is not None and decisions.current[0] < stored.id:
            decisions.advance()  # cannot happen (foreign key), but never stall on it
        stored_decisions: List[Any] = []
        if decisions.current is not None and decisions.current[0] == stored.id:
            stored_decisions = decisions.current[1]
            decisions.advance()
        problem = disagreement(trail, stored, stored_decisions)
        if problem:
            return bad(stored.id, problem)
        checked += 1
    while trails.current is not None:
        if trails.current.created:
            return missing(trails.current)
        trails.advance()
    return RequestCheck(True, checked)
