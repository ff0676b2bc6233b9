"""Who is paid: former public servants need more approval."""
from __future__ import annotations

from ..evaluation import WARN
from ..facts import Facts


def former_public_servant(facts: Facts):
    if not facts.request.supplier_former_public_servant:
        return []
    rule = facts.rules.former_public_servant
    levels = facts.rules.approval.levels
    return [
        facts.finding(
            "supplier.former_public_servant", WARN, "former_public_servant", rule.source,
            field="supplier_former_public_servant", data={"extra_approval": list(rule.extra_approval)},
            levels=facts.names(levels[level].name for level in rule.extra_approval),
        )
    ]
