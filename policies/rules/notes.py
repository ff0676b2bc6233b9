"""Things the requester and approver should know that never block: publication, Indigenous
procurement."""
from __future__ import annotations

from ..evaluation import INFO
from ..facts import Facts


def proactive_disclosure(facts: Facts):
    rule = facts.rules.proactive_disclosure
    if facts.total <= rule.threshold:
        return []
    return [facts.finding("disclosure.proactive", INFO, "proactive_disclosure", rule.source,
                          threshold=facts.money(rule.threshold))]


def indigenous_business(facts: Facts):
    rule = facts.rules.indigenous_business
    target = f"{rule.target_percent.normalize():f}"
    indigenous = facts.request.supplier_indigenous
    if indigenous is True:
        return [facts.finding("indigenous_business", INFO, "indigenous_recorded", rule.source, target_percent=target)]
    if indigenous is None:
        return [
            facts.finding(
                "indigenous_business", INFO, "indigenous_unknown", rule.source, field="supplier_indigenous",
                target_percent=target, directory_url=str(rule.directory_url or ""),
            )
        ]
    return []
