"""Dollar limits: per purchase (taxes in), per category, and per card or cost centre per month."""
from __future__ import annotations

from decimal import Decimal

from ..evaluation import BLOCK
from ..facts import Facts, card_of, in_force
from ..money import max_pretax
from ..schema import Source


def per_transaction(facts: Facts):
    rule = facts.rules.limits.per_transaction
    limit = in_force(rule.amounts, facts.on)
    if limit is None or facts.tax_rate is None:  # a date before the pack's first limit or tax rate
        return [_not_in_force(facts, "limits.per_transaction", rule.source)]
    return _over_cap(facts, "limits.per_transaction", "over_transaction_limit", rule.source, limit.amount,
                     max_pretax=facts.money(max_pretax(limit.amount, facts.tax_percent)))


def category_cap(facts: Facts):
    category = facts.category
    if category.max_total is None:
        return None
    return _over_cap(facts, "category.max_total", "category_over_cap", category.source, category.max_total)


def _over_cap(facts: Facts, rule_id: str, key: str, source: Source, cap: Decimal, **values):
    """A block when the total including tax is over `cap`, saying by how much."""
    if facts.total <= cap:
        return []
    over = facts.total - cap
    return [
        facts.finding(
            rule_id, BLOCK, key, source, field="unit_price", data={"limit": cap, "over": over},
            limit=facts.money(cap), over=facts.money(over), **values,
        )
    ]


def monthly(facts: Facts):
    rule = facts.rules.limits.monthly
    limit = in_force(rule.amounts, facts.on)
    if limit is None:
        return [_not_in_force(facts, "limits.monthly", rule.source)]
    by_card = rule.per == "card" and facts.card is not None
    scope = facts.card if by_card else facts.request.cost_centre
    month = (facts.on.year, facts.on.month)
    spent = sum(
        (
            record.total
            for record in facts.history
            if (record.on.year, record.on.month) == month
            and (
                card_of(facts.rules, record.cost_centre, record.card_id) == facts.card
                if by_card
                else record.cost_centre == facts.request.cost_centre
            )
        ),
        start=Decimal("0.00"),
    )
    if spent + facts.total <= limit.amount:
        return []
    remaining = max(limit.amount - spent, Decimal("0.00"))
    return [
        facts.finding(
            "limits.monthly", BLOCK, "over_monthly_limit", rule.source, field="unit_price",
            data={"limit": limit.amount, "spent": spent, "remaining": remaining, "scope": scope},
            limit=facts.money(limit.amount), spent=facts.money(spent), remaining=facts.money(remaining),
            month=facts.date(facts.on, "MMMM y"), scope=scope,
        )
    ]


def _not_in_force(facts: Facts, rule_id: str, source: Source):
    label = facts.text(getattr(facts.rules.labels, rule_id.replace(".", "__")))
    return facts.finding(rule_id, BLOCK, "not_in_force", source, rule=label, date=facts.date(facts.on))
