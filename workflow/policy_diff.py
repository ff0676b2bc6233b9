"""What a draft policy would change: stored requests judged again under it.

Each submitted request of the window is judged by the draft on the date it was judged then,
with the spending history it had then (the requests that existed and counted when it was
submitted, at the amounts known at that moment; never itself, never a later request). The
result is compared with what the policy in force says about it: the stored evaluation when the
request was judged by that very version, else a fresh judgement by it, so the diff shows the
draft's effect alone and not that of an earlier edit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import storage
from policies import BLOCK, LoadedPolicy, RequestError, evaluate, history_window, parse_request
from storage.history import COUNTING_STATUSES
from storage.types import date_to_utc

# The outcome of a request the policy cannot judge at all (e.g. the draft dropped its category).
REFUSED = "refused"
STORED, RE_JUDGED = "stored", "re-judged"

Route = Tuple[Tuple[str, Tuple[str, ...]], ...]  # ((level, (approver, ...)), ...)


@dataclass(frozen=True)
class Judgement:
    outcome: str  # approval_required, blocked or refused
    route: Route
    total: Optional[Decimal]
    tax_percent: Optional[str]
    blocks: Tuple[Tuple[str, str], ...]  # (rule, message) of each blocking finding
    problem: Optional[str] = None  # why it could not be judged

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "route": [{"level": level, "approvers": list(approvers)} for level, approvers in self.route],
            "total": None if self.total is None else f"{self.total:.2f}",
            "blocks": [{"rule": rule, "message": message} for rule, message in self.blocks],
            **({"problem": self.problem} if self.problem else {}),
        }


@dataclass(frozen=True)
class Change:
    request_id: int
    reference: str
    requester: str
    supplier: str
    status: str
    judged_on: date
    before: Judgement
    after: Judgement
    baseline: str  # STORED or RE_JUDGED: where "before" comes from
    changed: Tuple[str, ...]  # among outcome, route, total
    why: Tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "request_id": self.request_id, "reference": self.reference, "requester": self.requester,
            "supplier": self.supplier, "status": self.status, "judged_on": self.judged_on.isoformat(),
            "changed": list(self.changed), "why": list(self.why), "baseline": self.baseline,
            "before": self.before.to_dict(), "after": self.after.to_dict(),
        }


@dataclass(frozen=True)
class PolicyDiff:
    current_version: str
    draft_version: str
    since: date
    until: date
    rejudged: int
    changes: Tuple[Change, ...]
    re_judged_baselines: int  # requests judged by another version than the one in force

    def count(self, what: str) -> int:
        return sum(what in change.changed for change in self.changes)

    def to_dict(self) -> dict:
        return {
            "current_version": self.current_version, "draft_version": self.draft_version,
            "since": self.since.isoformat(), "until": self.until.isoformat(),
            "rejudged": self.rejudged, "changed": len(self.changes),
            "outcome_changed": self.count("outcome"), "route_changed": self.count("route"),
            "total_changed": self.count("total"),
            "re_judged_baselines": self.re_judged_baselines,
            "changes": [change.to_dict() for change in self.changes],
        }


def diff_policy(session: Session, current: LoadedPolicy, draft: LoadedPolicy, since: date, until: date) -> PolicyDiff:
    """Judge the requests submitted in [since, until] (days in the pack's time zone, like every
    "today" of microbuy) under `draft` and compare."""
    if since > until:
        raise ValueError(f"since ({since}) is after until ({until})")
    zone = ZoneInfo(current.rules.pack.timezone)
    requests = list(session.execute(
        select(storage.PurchaseRequest)
        .where(storage.PurchaseRequest.submitted_at >= datetime.combine(since, time(0), tzinfo=zone),
               storage.PurchaseRequest.submitted_at < datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone))
        .order_by(storage.PurchaseRequest.submitted_at, storage.PurchaseRequest.id)
    ).scalars())
    pool = _history_pool(session, since, current, draft)
    changes, re_judged = [], 0
    for req in requests:
        on = _judged_on(req, current)
        if req.policy_version == current.version:
            before, baseline = _stored(req), STORED
        else:
            before, baseline = _judge(current, req, pool, on), RE_JUDGED
            re_judged += 1
        after = _judge(draft, req, pool, on)
        changed = _changed(before, after)
        if changed:
            changes.append(Change(
                request_id=req.id, reference=req.reference, requester=req.requester, supplier=req.supplier,
                status=req.status, judged_on=on, before=before, after=after, baseline=baseline,
                changed=changed, why=_why(before, after),
            ))
    return PolicyDiff(current.version, draft.version, since, until, len(requests), tuple(changes), re_judged)


# --- judging ------------------------------------------------------------------------------------
def _judged_on(req: storage.PurchaseRequest, policy: LoadedPolicy) -> date:
    """The date the request was judged on (dated rules and 'needed by' depend on it)."""
    stored = (req.evaluation or {}).get("evaluated_on")
    if stored:
        return date.fromisoformat(stored)
    return req.submitted_at.astimezone(ZoneInfo(policy.rules.pack.timezone)).date()


def _stored(req: storage.PurchaseRequest) -> Judgement:
    evaluation = req.evaluation or {}
    blocks = tuple((f.get("rule", ""), f.get("message", "")) for f in evaluation.get("findings", [])
                   if f.get("severity") == BLOCK)
    return Judgement(outcome=evaluation.get("outcome", ""), route=_route(req.route or []), total=req.total,
                     tax_percent=evaluation.get("tax_percent"), blocks=blocks)


def _judge(policy: LoadedPolicy, req: storage.PurchaseRequest, pool: Sequence[storage.PurchaseRequest],
           on: date) -> Judgement:
    try:
        request = parse_request(req.answers or {}, policy)
    except RequestError as exc:
        problem = "; ".join(f"{field}: {reason}" for field, reason in exc.problems)
        return Judgement(REFUSED, (), None, None, (), problem=problem)
    language = (req.evaluation or {}).get("language")
    evaluation = evaluate(policy, request, _history_as_of(policy, request, req, pool, on), on, language)
    return Judgement(
        outcome=evaluation.outcome,
        route=_route([step.to_dict() for step in evaluation.approval_route]),
        total=evaluation.total,
        tax_percent=str(evaluation.tax_percent),
        blocks=tuple((f.rule, f.message) for f in evaluation.by_severity(BLOCK)),
    )


def _route(steps: Sequence[Dict[str, Any]]) -> Route:
    return tuple((str(step.get("level")), tuple(step.get("approvers") or ())) for step in steps)


# --- spending history as of a submission ---------------------------------------------------------
def _history_pool(session: Session, since: date, *policies: LoadedPolicy) -> List[storage.PurchaseRequest]:
    """Every request that may be in the history of a request of the window, read once."""
    longest = max(max(p.rules.splitting.window_days, p.rules.sole_sourcing.window_days) for p in policies)
    # A month's limit reaches back to the 1st, so a month more than the longest window.
    earliest = date_to_utc(since - timedelta(days=longest + 31))
    model = storage.PurchaseRequest
    return list(session.execute(
        select(model).where(model.submitted_at.isnot(None),
                            or_(model.created_at >= earliest, model.purchased_at >= earliest))
    ).scalars())


def _history_as_of(policy: LoadedPolicy, request, req: storage.PurchaseRequest,
                   pool: Sequence[storage.PurchaseRequest], on: date) -> List[storage.SpendingRecord]:
    """What storage.spending_history (via workflow.judging.spending_for) returned when `req` was
    submitted: the same cost centre or card, within the policy's window, counting then."""
    since, until, card = history_window(policy, request, on)
    where = ZoneInfo(policy.rules.pack.timezone)
    moment = req.submitted_at
    records = []
    for other in pool:
        if other.id == req.id or other.created_at >= moment or not _counted_at(other, moment):
            continue
        if other.cost_centre != request.cost_centre and not (card and other.card_id == card):
            continue
        paid = other.purchased_at is not None and other.purchased_at <= moment and other.amount_paid is not None
        if paid:
            day = other.purchased_at.astimezone(timezone.utc).date()  # a calendar date, kept as 00:00 UTC
        elif other.submitted_at <= moment:
            day = storage.local_day(other.submitted_at, where)
        else:  # resubmitted after `moment`: it existed from its creation
            day = storage.local_day(other.created_at, where)
        if not since <= day <= until:
            continue
        assert other.reference is not None  # a stored request has its reference
        records.append(storage.SpendingRecord(
            request_id=other.id, reference=other.reference, requester=other.requester,
            cost_centre=other.cost_centre, card_id=other.card_id, supplier=other.supplier,
            category=other.category, description=other.description,
            total=other.amount_paid if paid else other.total, on=day, status=other.status,
        ))
    records.sort(key=lambda r: (r.on, r.request_id))
    return records


def _counted_at(other: storage.PurchaseRequest, moment: datetime) -> bool:
    """Whether a request committed money at `moment`: it does now, or it was rejected or
    cancelled only later (a decision or a cancellation ends it; both are final)."""
    status = storage.Status(other.status)
    if status in COUNTING_STATUSES:
        return True
    if status is storage.Status.REJECTED:
        return other.decided_at is not None and other.decided_at > moment
    if status is storage.Status.CANCELLED:
        return other.updated_at > moment  # a cancelled request is never touched again
    return False


# --- comparing ----------------------------------------------------------------------------------
def _changed(before: Judgement, after: Judgement) -> Tuple[str, ...]:
    changed = []
    if before.outcome != after.outcome:
        changed.append("outcome")
    if before.route != after.route:
        changed.append("route")
    if before.total != after.total:
        changed.append("total")
    return tuple(changed)


def _why(before: Judgement, after: Judgement) -> Tuple[str, ...]:
    """In the draft's words: what now blocks, what no longer does, what changed the total."""
    if after.problem:
        return (f"the draft cannot judge it: {after.problem}",)
    reasons = [message for rule, message in after.blocks if (rule, message) not in before.blocks]
    if not reasons and before.outcome != after.outcome:
        reasons = [f"no longer: {message}" for rule, message in before.blocks if (rule, message) not in after.blocks]
    if before.total != after.total and before.tax_percent != after.tax_percent and after.tax_percent is not None:
        reasons.append(f"tax {before.tax_percent or '?'}% → {after.tax_percent}%")
    return tuple(reasons)
