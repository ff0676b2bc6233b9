"""Everything one evaluation knows: the request, its amounts, past spending, and how to word it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Iterable, List, Optional, Protocol, Sequence, TypeVar

from babel.dates import format_date

from .evaluation import Finding
from .loader import LoadedPolicy
from .messages import MESSAGES
from .money import format_money, tax_on
from .request import PurchaseRequest
from .schema import Category, CostCentre, Policy
from .text import LocalText, render


class Purchase(Protocol):
    """What the engine reads of a purchase already requested or made: a PastPurchase, or any
    object with these attributes (storage's SpendingRecord)."""

    @property
    def reference(self) -> str: ...
    @property
    def requester(self) -> str: ...
    @property
    def cost_centre(self) -> str: ...
    @property
    def card_id(self) -> Optional[str]: ...
    @property
    def supplier(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def on(self) -> date: ...


@dataclass(frozen=True)
class PastPurchase:
    """A purchase already requested or made (a Purchase)."""

    reference: str
    requester: str
    cost_centre: str
    card_id: Optional[str]
    supplier: str
    category: str
    description: str
    total: Decimal
    on: date


class _HasFrom(Protocol):
    @property
    def from_(self) -> date: ...


Dated = TypeVar("Dated", bound=_HasFrom)


def card_of(rules: Policy, cost_centre: str, card_id: Optional[str]) -> Optional[str]:
    """The card a purchase goes on: its own, else its cost centre's card."""
    if card_id:
        return card_id
    centre = rules.approval.cost_centres.get(cost_centre)
    return centre.card if centre else None


def in_force(entries: Sequence[Dated], on: date) -> Optional[Dated]:
    """The entry in force on a date: the latest whose 'from' is on or before it."""
    current = None
    for entry in entries:  # the schema keeps them in date order
        if entry.from_ <= on:
            current = entry
    return current


@dataclass
class Facts:
    policy: LoadedPolicy
    request: PurchaseRequest
    history: List[Purchase]
    on: date
    language: str
    memo: dict = field(default_factory=dict)  # results several rules share, computed once

    @property
    def rules(self) -> Policy:
        return self.policy.rules

    @property
    def category(self) -> Category:
        return self.rules.categories[self.request.category]

    @property
    def cost_centre(self) -> CostCentre:
        return self.rules.approval.cost_centres[self.request.cost_centre]

    @property
    def card(self) -> Optional[str]:
        return card_of(self.rules, self.request.cost_centre, self.request.card_id)

    @cached_property
    def subtotal(self) -> Decimal:
        return self.request.unit_price * self.request.quantity

    @cached_property
    def tax_rate(self):
        return in_force(self.rules.tax.jurisdictions[self.request.province].rates, self.on)

    @property
    def tax_percent(self) -> Decimal:
        return self.tax_rate.percent if self.tax_rate else Decimal(0)

    @cached_property
    def tax(self) -> Decimal:
        return tax_on(self.subtotal, self.tax_percent)

    @property
    def tax_label(self) -> str:
        return self.text(self.rules.tax.kinds[self.tax_rate.kind]) if self.tax_rate else ""

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    # --- wording -------------------------------------------------------------------------
    @property
    def locale(self) -> str:
        return self.rules.pack.locales[self.language]

    def money(self, amount: Decimal) -> str:
        return format_money(amount, currency=self.rules.pack.currency, locale=self.locale)

    def date(self, day: date, style: str = "long") -> str:
        return format_date(day, format=style, locale=self.locale)

    def text(self, text: LocalText) -> str:
        return text.get_text(self.language, self.rules.pack.default_language)

    def names(self, texts: Iterable[LocalText]) -> str:
        return ", ".join(self.text(text) for text in texts)

    def purchases(self, records: Iterable[Purchase]) -> str:
        return "; ".join(f"{r.reference} ({self.date(r.on, 'medium')}, {self.money(r.total)})" for r in records)

    @cached_property
    def common_values(self) -> dict:
        request = self.request
        return {
            "supplier": request.supplier,
            "category": self.text(self.category.name),
            "description": request.description,
            "quantity": request.quantity,
            "unit_price": self.money(request.unit_price),
            "subtotal": self.money(self.subtotal),
            "tax": self.money(self.tax),
            "tax_label": self.tax_label,
            "total": self.money(self.total),
            "jurisdiction": self.text(self.rules.tax.jurisdictions[request.province].name),
            "needed_by": self.date(request.needed_by),
            "today": self.date(self.on),
            "cost_centre": request.cost_centre,
        }

    def finding(self, rule: str, severity: str, key: str, source: LocalText, /, *, field: str | None = None,
                data: dict | None = None, **values) -> Finding:
        """A finding worded by the policy's message `key`, filled with the common and given values;
        its source cited in the reader's language too."""
        if not set(values) <= MESSAGES[key]:  # a programming error: the catalogue and the rule disagree
            raise ValueError(f"message {key} cannot use {sorted(set(values) - MESSAGES[key])}")
        template = self.text(getattr(self.rules.messages, key))
        message = render(template, {**self.common_values, **values})
        return Finding(rule, severity, message, self.text(source), field, data or {})

    def finding_from(self, rule: str, severity: str, text: LocalText, source: LocalText, /, *, field: str | None = None,
                     data: dict | None = None) -> Finding:
        """A finding worded by a text of its own in the policy (a category requirement's message)."""
        message = render(self.text(text), self.common_values)
        return Finding(rule, severity, message, self.text(source), field, data or {})


def history_window(policy: LoadedPolicy, request: PurchaseRequest, on: date) -> tuple[date, date, Optional[str]]:
    """The past spending the engine needs for a request: (since, until, card).

    Callers fetch it from storage for the request's cost centre and card; the engine then looks
    only at what each rule's window covers.
    """
    rules = policy.rules
    longest = max(rules.splitting.window_days, rules.sole_sourcing.window_days)
    since = min(on - timedelta(days=longest), on.replace(day=1))
    return since, on, card_of(rules, request.cost_centre, request.card_id)
