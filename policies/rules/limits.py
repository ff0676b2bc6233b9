"""Dollar limits: per purchase (taxes in), per category, and per card or cost centre per month."""
from __future__ import annotations

from ..evaluation import BLOCK
from ..facts import Facts, in_force
from ..money import max_pretax


def per_transaction(facts: Facts):
    rule = facts.rules.limits.per_transaction
    limit = in_force(rule.amounts, facts.on)
    if limit is None or facts.tax_rate is None:  # a date before the pack's first limit or tax rate
        return [_not_in_force(facts, "limits.per_transaction", rule.source)]
    if facts.total <= limit.amount:
        return []
    over = facts.total - limit.amount
    return [
        facts.finding(
            "limits.per_transaction", BLOCK, "over_transaction_limit", rule.source, field="unit_price",
            data={"limit": limit.amount, "over": over},
            limit=facts.money(limit.amount), over=facts.money(over),
            max_pretax=facts.money(max_pretax(limit.amount, facts.tax_percent)),
        )
    ]


def category_cap(facts: Facts):
    category = facts.category
    if category.max_total is None:
        return None
    if facts.total <= category.max_total:
        return []
    over = facts.total - category.max_total
    return [
        facts.finding(
            "category.max_total", BLOCK, "category_over_cap", category.source, field="unit_price",
            data={"limit": category.max_total, "over": over},
            limit=facts.money(category.max_total), over=facts.money(over),
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
            and (_card_of(facts, record) == facts.card if by_card else record.cost_centre == facts.request.cost_centre)
        ),
        start=facts.subtotal * 0,
    )
    if spent + facts.total <= limit.amount:
        return []
    remaining = max(limit.amount - spent, spent * 0)
    return [
        facts.finding(
            "limits.monthly", BLOCK, "over_monthly_limit", rule.source, field="unit_price",
            data={"limit": limit.amount, "spent": spent, "remaining": remaining, "scope": scope},
            limit=facts.money(limit.amount), spent=facts.money(spent), remaining=facts.money(remaining),
            month=facts.date(facts.on, "MMMM y"), scope=scope,
        )
    ]


def _card_of(facts: Facts, record) -> str | None:
    # A purchase with no card of its own went on its cost centre's card, as a request does.
    if record.card_id:
        return record.card_id
    centre = facts.rules.approval.cost_centres.get(record.cost_centre)
    return centre.card if centre else None


def _not_in_force(facts: Facts, rule_id: str, source: str):
    label = facts.text(getattr(facts.rules.labels, rule_id.replace(".", "__")))
    return facts.finding(rule_id, BLOCK, "not_in_force", source, rule=label, date=facts.date(facts.on))
