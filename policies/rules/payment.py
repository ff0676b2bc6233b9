"""How it is paid: a method allowed for the category, and a reason when it is not the card."""
from __future__ import annotations

from ..evaluation import BLOCK
from ..facts import Facts


def method(facts: Facts):
    rule = facts.rules.payment
    allowed = facts.category.payment_methods or rule.allowed
    chosen = facts.request.payment_method
    name = facts.text(rule.methods[chosen].name)
    if chosen not in allowed:
        return [
            facts.finding(
                "payment.method", BLOCK, "payment_method_not_allowed", rule.source, field="payment_method",
                method=name, allowed=facts.names(rule.methods[m].name for m in allowed),
            )
        ]
    if rule.methods[chosen].reason_required and not facts.request.payment_reason:
        return [facts.finding("payment.method", BLOCK, "payment_reason_missing", rule.source, field="payment_reason",
                              method=name)]
    return []
