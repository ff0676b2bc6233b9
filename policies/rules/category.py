"""What is being bought: allowed, banned, or bought elsewhere; what extra answers it needs."""
from __future__ import annotations

from ..evaluation import BLOCK
from ..facts import Facts


def allowed(facts: Facts):
    category = facts.category
    if category.status == "allowed":
        return []
    if category.status == "banned":
        assert category.reason and category.alternative  # the schema requires both of a banned category
        return [
            facts.finding(
                "category.allowed", BLOCK, "category_banned", category.source, field="category",
                reason=facts.text(category.reason), alternative=facts.text(category.alternative),
            )
        ]
    assert category.standing_offer  # the schema requires it of the status standing_offer
    offer = facts.rules.standing_offers[category.standing_offer]
    return [
        facts.finding(
            "category.allowed", BLOCK, "category_standing_offer", offer.source, field="category",
            data={"standing_offer": category.standing_offer},
            standing_offer=facts.text(offer.name), how_to_order=facts.text(offer.how_to_order),
            url=str(offer.url or ""),
        )
    ]


def requirements(facts: Facts):
    if not facts.category.requires:
        return None
    findings = []
    for key in facts.category.requires:
        requirement = facts.rules.requirements[key]
        answer = getattr(facts.request, requirement.field)
        met = answer is True if requirement.kind == "attestation" else bool(answer and str(answer).strip())
        if not met:
            findings.append(
                facts.finding_from(
                    "category.requirements", BLOCK, requirement.message, requirement.source,
                    field=requirement.field, data={"requirement": key},
                )
            )
    return findings


def classification(facts: Facts):
    rule = facts.rules.data_classification
    allowed_levels = facts.category.data_classifications or rule.allowed
    level = facts.request.data_classification
    if level in allowed_levels:
        return []
    return [
        facts.finding(
            "data.classification", BLOCK, "classification_not_allowed", rule.source, field="data_classification",
            classification=facts.text(rule.levels[level]),
            allowed=facts.names(rule.levels[name] for name in allowed_levels),
        )
    ]
