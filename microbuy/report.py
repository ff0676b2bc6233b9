"""The monthly report per cost centre: spend, requests, decision times, what waits, Indigenous
procurement and proactive disclosure; as tidy rows for a spreadsheet and as an HTML page.

DEFINITIONS says what each figure counts; the page shows it too. Days are UTC calendar days, as in
`microbuy export`, so the purchased spend of a month is the total of that month's card log.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

import storage
import workflow
from policies import LoadedPolicy, format_money
from storage.history import PURCHASED_STATUSES, parse_month
from storage.types import date_to_utc

TEMPLATES = Path(__file__).with_name("templates")
ALL = "all"  # the cost_centre of the department-wide figures
TENTH = Decimal("0.1")
S = storage.Status
APPROVED_STATUSES = frozenset({S.APPROVED, S.PURCHASED, S.RECEIVED, S.CERTIFIED})
# Each request's status now, as finance reads it.
OUTCOMES = {
    S.SUBMITTED: "pending", S.CHANGES_REQUESTED: "changes_requested", S.APPROVED: "approved",
    S.PURCHASED: "approved", S.RECEIVED: "approved", S.CERTIFIED: "approved",
    S.REJECTED: "rejected", S.CANCELLED: "cancelled",
}
DEFINITIONS = (
    ("Approved spend", "requests whose final approval was given in the month, at the approved total."),
    ("Purchased spend", "purchases made in the month, at the amount paid (the month's card log, microbuy export)."),
    ("Requests by category and by outcome", "requests (last) submitted in the month, by their status now."),
    ("Time to decision", "from the request's (last) submission to the approver's decision (approved, rejected "
                         "or sent back for changes), for decisions made in the month; median and longest, in hours."),
    ("Waiting", "requests awaiting an approval decision when the report was made, and for how long (hours)."),
    ("Indigenous share", "of the purchased spend, the part paid to suppliers the requester said are in the "
                         "Indigenous Business Directory; 'unknown' where the requester did not know."),
    ("Proactive disclosure", "requests submitted in the month whose total including tax is over the policy's "
                             "proactive-disclosure threshold."),
)
OUTCOME_NAMES = {"approved": "Approved", "pending": "Waiting for approval",
                 "changes_requested": "Sent back for changes", "rejected": "Rejected", "cancelled": "Cancelled"}


@dataclass(frozen=True)
class Listed:
    """One request named in the report (waiting, or over the disclosure threshold)."""
    reference: str
    supplier: str
    category: str
    status: str
    total: Decimal
    hours: Optional[Decimal] = None  # how long it has waited


@dataclass(frozen=True)
class Figures:
    cost_centre: str
    name: str
    approved_spend: Decimal
    approved_count: int
    purchased_spend: Decimal
    purchased_count: int
    by_category: Dict[str, int]
    by_outcome: Dict[str, int]
    decisions: int
    decision_hours_median: Optional[Decimal]
    decision_hours_max: Optional[Decimal]
    waiting: Tuple[Listed, ...]  # longest wait first
    indigenous_spend: Decimal
    indigenous_unknown_spend: Decimal
    indigenous_percent: Optional[Decimal]  # of the purchased spend; None with no purchases
    over_threshold: Tuple[Listed, ...]

    @property
    def title(self) -> str:
        return self.name if self.cost_centre == ALL else f"{self.cost_centre} {self.name}".strip()

    @property
    def submitted(self) -> int:
        return sum(self.by_category.values())

    @property
    def waiting_hours_max(self) -> Optional[Decimal]:
        return self.waiting[0].hours if self.waiting else None


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    now: datetime
    currency: str
    threshold: Decimal
    target_percent: Decimal
    policy: LoadedPolicy
    centres: Tuple[Figures, ...]
    overall: Optional[Figures]  # department-wide; None when the report is for one cost centre

    @property
    def target_text(self) -> str:
        return f"{self.target_percent.normalize():f}"  # 5, not 5.00 nor 1E+1

    @property
    def all_figures(self) -> Tuple[Figures, ...]:
        return self.centres + ((self.overall,) if self.overall else ())


def build_report(session: Session, policy: LoadedPolicy, month: str, *, cost_centre: Optional[str] = None,
                 now: Optional[datetime] = None) -> MonthlyReport:
    """The month's figures per cost centre (every centre of the pack and any with requests)."""
    first, after = parse_month(month)  # ValueError for a bad month
    # Submissions and decisions are moments: the month is the pack's (a request sent at 21:00 on
    # 30 November in Toronto is November's). A purchase date is a calendar date kept as 00:00 UTC.
    zone = workflow.zone(policy)
    moments = (datetime.combine(first, time(0), tzinfo=zone), datetime.combine(after, time(0), tzinfo=zone))
    days = (date_to_utc(first), date_to_utc(after))
    now = now or datetime.now(timezone.utc)
    model = storage.PurchaseRequest
    in_month = [and_(column >= start, column < end) for column, (start, end)
                in ((model.submitted_at, moments), (model.decided_at, moments), (model.purchased_at, days))]
    stmt = select(model).where(or_(*in_month, model.status == S.SUBMITTED.value))
    if cost_centre is not None:
        stmt = stmt.where(model.cost_centre == cost_centre)
    rows = list(session.execute(stmt.order_by(model.id)).scalars())

    rules = policy.rules
    codes = [cost_centre] if cost_centre is not None \
        else sorted(set(rules.approval.cost_centres) | {r.cost_centre for r in rows})
    period = (moments, days)
    centres = tuple(_figures(code, _centre_name(policy, code), [r for r in rows if r.cost_centre == code], period, now,
                             rules.proactive_disclosure.threshold) for code in codes)
    overall = None if cost_centre is not None else _figures(ALL, "All cost centres", rows, period, now,
                                                             rules.proactive_disclosure.threshold)
    return MonthlyReport(month=month, now=now, currency=rules.pack.currency,
                         threshold=rules.proactive_disclosure.threshold,
                         target_percent=rules.indigenous_business.target_percent, policy=policy,
                         centres=centres, overall=overall)


def _centre_name(policy: LoadedPolicy, code: str) -> str:
    centre = policy.rules.approval.cost_centres.get(code)
    pack = policy.rules.pack
    return centre.name.get_text(pack.default_language, pack.default_language) if centre else ""


def _figures(code: str, name: str, rows: Sequence[storage.PurchaseRequest],
             period: Tuple[Tuple[datetime, datetime], Tuple[datetime, datetime]], now: datetime,
             threshold: Decimal) -> Figures:
    (start, end), (first_day, day_after) = period

    def within(moment: Optional[datetime]) -> bool:
        return moment is not None and start <= moment < end

    submitted = [r for r in rows if within(r.submitted_at)]
    approved = [r for r in rows if within(r.decided_at) and S(r.status) in APPROVED_STATUSES]
    purchased = [r for r in rows if r.purchased_at is not None and first_day <= r.purchased_at < day_after
                 and S(r.status) in PURCHASED_STATUSES]
    decided = [hours(r.decided_at - r.submitted_at) for r in rows
               if within(r.decided_at) and r.submitted_at is not None and r.decided_at >= r.submitted_at]
    waiting = sorted(((hours(now - r.submitted_at), r) for r in rows if r.status == S.SUBMITTED.value),
                     key=lambda waited: (-waited[0], waited[1].reference))
    purchased_spend = _sum(r.amount_paid for r in purchased)
    indigenous = _sum(r.amount_paid for r in purchased if (r.answers or {}).get("supplier_indigenous") is True)
    unknown = _sum(r.amount_paid for r in purchased if (r.answers or {}).get("supplier_indigenous") is None)
    return Figures(
        cost_centre=code, name=name,
        approved_spend=_sum(r.approved_max_amount if r.approved_max_amount is not None else r.total for r in approved),
        approved_count=len(approved),
        purchased_spend=purchased_spend, purchased_count=len(purchased),
        by_category=dict(sorted(Counter(r.category for r in submitted).items())),
        by_outcome=dict(sorted(Counter(OUTCOMES.get(S(r.status), r.status) for r in submitted).items())),
        decisions=len(decided),
        decision_hours_median=_round(_median(decided)) if decided else None,
        decision_hours_max=_round(max(decided)) if decided else None,
        waiting=tuple(_listed(r, _round(waited)) for waited, r in waiting),
        indigenous_spend=indigenous, indigenous_unknown_spend=unknown,
        indigenous_percent=_round(indigenous * 100 / purchased_spend) if purchased_spend else None,
        over_threshold=tuple(_listed(r) for r in submitted if r.total > threshold),
    )


def _listed(r: storage.PurchaseRequest, waited: Optional[Decimal] = None) -> Listed:
    assert r.reference is not None  # a stored request has its reference
    return Listed(reference=r.reference, supplier=r.supplier, category=r.category, status=r.status,
                  total=r.total, hours=waited)


def hours(span: timedelta) -> Decimal:
    """A duration in hours, exactly (no float on the way)."""
    micro = (span.days * 86400 + span.seconds) * 1_000_000 + span.microseconds
    return Decimal(micro) / Decimal(3_600_000_000)


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _round(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def _sum(amounts: Iterable[Optional[Decimal]]) -> Decimal:
    return sum((a for a in amounts if a is not None), Decimal("0.00"))


# --- the spreadsheet --------------------------------------------------------------------------
CSV_COLUMNS = ("month", "cost_centre", "cost_centre_name", "measure", "key", "label", "value", "unit")


def rows(report: MonthlyReport) -> List[tuple]:
    """Tidy rows (one figure each) in CSV_COLUMNS order: money as Decimal, counts as int, hours
    and percentages as text with one decimal, None where there is no figure."""
    pack = report.policy.rules.pack
    categories = report.policy.rules.categories
    money = report.currency
    out: List[tuple] = []
    for f in report.all_figures:
        def add(measure, value, unit, key="", label=""):
            if unit in ("hours", "percent") and value is not None:
                value = str(value)  # 12.5, not the 12.50 of an amount
            # (B023) add() is only called in the iteration that defines it: `f` is this iteration's
            out.append((report.month, f.cost_centre, f.name, measure, key, label, value, unit))  # noqa: B023

        add("spend_approved", f.approved_spend, money)
        add("requests_approved", f.approved_count, "requests")
        add("spend_purchased", f.purchased_spend, money)
        add("requests_purchased", f.purchased_count, "requests")
        add("requests_submitted", f.submitted, "requests")
        for category, count in f.by_category.items():
            name = categories[category].name.get_text(pack.default_language, pack.default_language) \
                if category in categories else ""
            add("requests_by_category", count, "requests", category, name)
        for outcome, count in f.by_outcome.items():
            add("requests_by_outcome", count, "requests", outcome, OUTCOME_NAMES.get(outcome, outcome))
        add("decisions", f.decisions, "decisions")
        add("decision_hours_median", f.decision_hours_median, "hours")
        add("decision_hours_max", f.decision_hours_max, "hours")
        add("waiting", len(f.waiting), "requests")
        add("waiting_hours_max", f.waiting_hours_max, "hours")
        for item in f.waiting:
            add("waiting_request", item.hours, "hours", item.reference, item.supplier)
        add("indigenous_spend", f.indigenous_spend, money)
        add("indigenous_unknown_spend", f.indigenous_unknown_spend, money)
        add("indigenous_share", f.indigenous_percent, "percent")
        add("over_disclosure_threshold", len(f.over_threshold), "requests")
        for item in f.over_threshold:
            add("over_disclosure_threshold_request", item.total, money, item.reference, item.supplier)
    return out


# --- the HTML page ------------------------------------------------------------------------------
CHART_LABEL_WIDTH, CHART_BAR_WIDTH, CHART_ROW = 250, 320, 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # as shown beside the bar
    width: Decimal  # in pixels, from 0 to CHART_BAR_WIDTH


@dataclass(frozen=True)
class Chart:
    title: str
    bars: Tuple[Bar, ...]
    marker: Optional[Decimal] = None  # x of a target line, in pixels from the bars' start
    marker_label: str = ""

    @property
    def height(self) -> int:
        return CHART_ROW * len(self.bars) + (CHART_ROW if self.marker is not None else 8)


def chart(title: str, items: Sequence[Tuple[str, Decimal, str]], scale: Optional[Decimal] = None,
          marker: Optional[Decimal] = None, marker_label: str = "") -> Chart:
    """Horizontal bars for (label, value, value as shown); widths are Decimal ratios of the scale."""
    top = scale if scale is not None else max((value for _, value, _ in items), default=Decimal(0))
    top = max(top, marker or Decimal(0))

    def width(value: Decimal) -> Decimal:
        return (Decimal(value) * CHART_BAR_WIDTH / top).quantize(TENTH) if top else Decimal(0)

    return Chart(title, tuple(Bar(_short(label), shown, width(value)) for label, value, shown in items),
                 marker=width(marker) if marker is not None else None, marker_label=marker_label)


def _short(label: str, limit: int = 36) -> str:
    # SVG text does not wrap; a long name would run into its bar.
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def html(report: MonthlyReport) -> str:
    """A self-contained page: inline CSS and SVG, no script; every text escaped by Jinja2."""
    pack = report.policy.rules.pack
    locale = pack.locales[pack.default_language]
    categories = report.policy.rules.categories

    def money(amount: Decimal) -> str:
        return format_money(amount, currency=report.currency, locale=locale)

    def category_name(key: str) -> str:
        return categories[key].name.get_text(pack.default_language, pack.default_language) if key in categories else key

    spend = chart("Purchased spend by cost centre",
                  [(f.title, f.purchased_spend, money(f.purchased_spend)) for f in report.centres])
    share = chart("Share of purchased spend with Indigenous businesses",
                  [(f.title, f.indigenous_percent or Decimal(0),
                    "no purchases" if f.indigenous_percent is None else f"{f.indigenous_percent}%")
                   for f in report.all_figures],
                  scale=Decimal(100), marker=report.target_percent, marker_label=f"target {report.target_text}%")
    per_centre = [
        (f,
         chart("Requests by category", [(category_name(k), Decimal(v), str(v)) for k, v in f.by_category.items()]),
         chart("Requests by outcome", [(OUTCOME_NAMES.get(k, k), Decimal(v), str(v)) for k, v in f.by_outcome.items()]))
        for f in report.all_figures
    ]
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    return environment.get_template("report.html.j2").render(
        report=report, pack_name=pack.name.get_text(pack.default_language, pack.default_language),
        money=money, category_name=category_name, spend=spend, share=share, per_centre=per_centre,
        label_width=CHART_LABEL_WIDTH, bar_width=CHART_BAR_WIDTH, row=CHART_ROW, language=pack.default_language,
        definitions=DEFINITIONS,
    )

