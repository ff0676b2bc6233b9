"""Builders for the policy engine tests (imported by conftest.py and the tests).

The ESDC pack is loaded once per session. Tests build requests with `parse_request`, history as
frozen `Purchase` records (the shape of `policies.facts.PastPurchase`), and judge them on a fixed
date. Expected figures are worked out here independently of `policies.money` (exact fractions,
babel for formatting) and from the values in the loaded pack, never copied from a run.
"""
from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, List, Optional

from babel.dates import format_date
from babel.numbers import format_currency

import policies
from policies import BLOCK, WARN, PastPurchase

ON = date(2026, 11, 25)  # the date every test judges on unless it says otherwise
CENT = Decimal("0.01")


Purchase = PastPurchase


# --- independent arithmetic ---------------------------------------------------------------
def tax_exact(subtotal: Decimal, percent: Decimal) -> Decimal:
    """Tax in cents, half-up, worked out with exact fractions (not with policies.money)."""
    cents = Fraction(subtotal) * Fraction(percent)  # subtotal * percent / 100, in cents
    rounded = math.floor(cents + Fraction(1, 2))
    return Decimal(rounded) / 100


def total_exact(subtotal: Decimal, percent: Decimal) -> Decimal:
    return (subtotal + tax_exact(subtotal, percent)).quantize(CENT)


def largest_pretax(limit: Decimal, percent: Decimal) -> Decimal:
    """The largest pre-tax amount in cents whose total with tax stays within `limit` (search)."""
    guess = (Fraction(limit) / (1 + Fraction(percent) / 100))
    cents = math.floor(guess * 100) + 3
    while cents >= 0 and total_exact(Decimal(cents) / 100, percent) > limit:
        cents -= 1
    return Decimal(cents) / 100


def pretax_for_total(target: Decimal, percent: Decimal) -> Decimal:
    """A pre-tax price (in cents) whose total with tax is exactly `target`."""
    base = math.floor(Fraction(target) / (1 + Fraction(percent) / 100) * 100)
    for cents in range(base - 5, base + 6):
        price = Decimal(cents) / 100
        if total_exact(price, percent) == target:
            return price
    raise AssertionError(f"no pre-tax price gives exactly {target} at {percent}%")


def template_regex(template: str) -> re.Pattern:
    """A pattern matching any rendering of a {{ value }} template: its literal text, in order."""
    parts = re.split(r"\{\{.*?\}\}", template.strip())
    return re.compile("(?s)" + "(.+?)".join(re.escape(part) for part in parts))


@dataclass
class Kit:
    """The loaded pack and builders bound to it."""

    policy: policies.LoadedPolicy
    yaml: str  # the pack file's text, for variants

    _refs = itertools.count(1)

    @property
    def rules(self):
        return self.policy.rules

    # --- requests and history ---------------------------------------------------------------
    def data(self, **overrides) -> dict:
        data = {
            "requester": "U09NADIA",  # not an approver anywhere in the pack
            "cost_centre": "100200",
            "category": "office_supplies",
            "description": "Printer paper and toner for the team",
            "supplier": "Grand & Toy",
            "quantity": 1,
            "unit_price": "100.00",
            "province": "ON",
            "needed_by": (ON + timedelta(days=30)).isoformat(),
            "data_classification": "unclassified",
            "payment_method": "acquisition_card",
            "supplier_indigenous": False,
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not DROP}

    def open_source_data(self, **overrides) -> dict:
        """A complete open-source code work request (every requirement met)."""
        values = dict(
            category="open_source_code_work",
            description="Fix keyboard focus order in the date picker of an open-source form library",
            supplier="Jane Doe Consulting",
            unit_price="2500.00",
            ip_agreement=True,
            fixed_price=True,
            remote_only=True,
            licence="MIT",
            repository="https://github.com/example/form-library",
            acceptance_criteria="Focus moves in visual order; pull request merged upstream.",
        )
        values.update(overrides)
        return self.data(**values)

    def request(self, policy: Optional[policies.LoadedPolicy] = None, **overrides):
        return policies.parse_request(self.data(**overrides), policy or self.policy)

    def judge(self, history: Iterable[Purchase] = (), *, on: date = ON, language: str = "en",
              policy: Optional[policies.LoadedPolicy] = None, **overrides) -> policies.Evaluation:
        policy = policy or self.policy
        request = policies.parse_request(self.data(**overrides), policy)
        return policies.evaluate(policy, request, list(history), on=on, language=language)

    def judge_data(self, data: dict, history: Iterable[Purchase] = (), *, on: date = ON, language: str = "en",
                   policy: Optional[policies.LoadedPolicy] = None) -> policies.Evaluation:
        policy = policy or self.policy
        return policies.evaluate(policy, policies.parse_request(data, policy), list(history), on=on, language=language)

    def purchase(self, *, total, on: date, supplier: str = "Some Other Supplier Ltd.", category: str = "training",
                 description: Optional[str] = None, cost_centre: str = "100200", card_id: Optional[str] = "default",
                 requester: str = "U09NADIA") -> Purchase:
        number = next(self._refs)
        if card_id == "default":
            card_id = self.rules.approval.cost_centres[cost_centre].card
        return Purchase(
            reference=f"MB-T{number:04d}",
            requester=requester,
            cost_centre=cost_centre,
            card_id=card_id,
            supplier=supplier,
            category=category,
            description=description or f"Unrelated purchase number {number} of widgets type {number * 7919}",
            total=Decimal(total),
            on=on,
        )

    # --- the pack's figures -----------------------------------------------------------------
    def percent(self, province: str, on: date = ON) -> Decimal:
        rates = [r for r in self.rules.tax.jurisdictions[province].rates if r.from_ <= on]
        return max(rates, key=lambda r: r.from_).percent

    def transaction_limit(self, on: date = ON) -> Decimal:
        amounts = [a for a in self.rules.limits.per_transaction.amounts if a.from_ <= on]
        return max(amounts, key=lambda a: a.from_).amount

    def monthly_limit(self, on: date = ON) -> Decimal:
        amounts = [a for a in self.rules.limits.monthly.amounts if a.from_ <= on]
        return max(amounts, key=lambda a: a.from_).amount

    def price_for_total(self, total: Decimal, province: str = "ON", on: date = ON) -> Decimal:
        return pretax_for_total(Decimal(total), self.percent(province, on))

    # --- wording ------------------------------------------------------------------------------
    def money(self, amount: Decimal, language: str = "en") -> str:
        """How the reader sees an amount: babel's own formatting for the pack's locale."""
        pack = self.rules.pack
        return format_currency(Decimal(amount), pack.currency, locale=pack.locales[language])

    def day(self, day: date, language: str = "en", style: str = "long") -> str:
        return format_date(day, format=style, locale=self.rules.pack.locales[language])

    def text(self, text, language: str = "en") -> str:
        return text.get_text(language, self.rules.pack.default_language)

    def template(self, key: str, language: str = "en") -> str:
        return self.text(getattr(self.rules.messages, key), language)

    def assert_worded(self, finding, key: str, language: str = "en", *figures: str) -> None:
        """The finding reads as the pack's message `key` in `language` and shows each figure."""
        template = self.template(key, language)
        assert template_regex(template).fullmatch(finding.message), (
            f"{finding.message!r} is not worded as {key}/{language}: {template!r}"
        )
        for figure in figures:
            assert figure in finding.message, f"{figure!r} not in {finding.message!r}"

    # --- policy variants ----------------------------------------------------------------------
    def variant_text(self, *replacements) -> str:
        text = self.yaml
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} is not in the pack exactly once"
            text = text.replace(old, new)
        return text

    def variant(self, *replacements, name: str = "variant.yml") -> policies.LoadedPolicy:
        return policies.parse_policy(self.variant_text(*replacements).encode("utf-8"), name)


DROP = object()  # pass as a field's value to leave the field out


def findings(evaluation: policies.Evaluation, rule: str, severity: Optional[str] = None) -> List[policies.Finding]:
    return [f for f in evaluation.findings if f.rule == rule and (severity is None or f.severity == severity)]


def only(evaluation: policies.Evaluation, rule: str, severity: Optional[str] = None) -> policies.Finding:
    found = findings(evaluation, rule, severity)
    assert len(found) == 1, (f"expected one {rule} {severity or ''} finding, got "
                             f"{[f.to_dict() for f in evaluation.findings]}")
    return found[0]


def problems_of(evaluation: policies.Evaluation) -> List[policies.Finding]:
    return [f for f in evaluation.findings if f.severity in (BLOCK, WARN)]


@functools.lru_cache(maxsize=None)
def load_kit() -> Kit:
    """The ESDC pack, loaded once per test session (the fixture and parametrize lists share it)."""
    path = policies.DEFAULT_POLICY
    return Kit(policy=policies.load_policy(path), yaml=path.read_text(encoding="utf-8"))
