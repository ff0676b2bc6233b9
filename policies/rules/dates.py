"""When it is needed: not in the past, and a note when approval may not come in time."""
from __future__ import annotations

from ..evaluation import BLOCK, INFO
from ..facts import Facts


def needed_by(facts: Facts):
    rule = facts.rules.needed_by
    days = (facts.request.needed_by - facts.on).days
    if days < 0:
        return [facts.finding("needed_by", BLOCK, "needed_by_past", rule.source, field="needed_by")]
    if days < rule.short_notice_days:
        return [facts.finding("needed_by", INFO, "needed_by_short_notice", rule.source, field="needed_by", days=days)]
    return []
