"""Who approves: the tier for the total, levels the category or supplier add, and never the
requester, whose step passes up the escalation chain instead."""
from __future__ import annotations

from typing import List, Tuple

from .evaluation import BLOCK, INFO, Finding, RouteStep
from .facts import Facts


def levels_for(facts: Facts) -> List[str]:
    approval = facts.rules.approval
    # Above the last tier's up_to (a pack may bound every tier), the highest tier still decides.
    tier = next((t for t in approval.tiers if t.up_to is None or facts.total <= t.up_to), approval.tiers[-1])
    levels = list(tier.levels) + list(facts.category.extra_approval)
    if facts.request.supplier_former_public_servant:
        levels += facts.rules.former_public_servant.extra_approval
    return list(dict.fromkeys(levels))  # in order, each once


def approvers_at(facts: Facts, level: str) -> Tuple[str, ...]:
    own = facts.cost_centre.approvers.get(level)
    return tuple(own or facts.rules.approval.approvers.get(level) or ())


def route(facts: Facts) -> Tuple[Tuple[RouteStep, ...], List[Finding]]:
    approval = facts.rules.approval
    steps: List[RouteStep] = []
    findings: List[Finding] = []
    extra = facts.category.extra_approval
    if extra:
        findings.append(
            facts.finding("routing", INFO, "category_extra_approval", facts.category.source,
                          levels=facts.names(approval.levels[level].name for level in extra))
        )
    for wanted in levels_for(facts):
        level, eligible = wanted, _eligible(facts, wanted)
        while not eligible and approval.levels[level].escalates_to:
            level = approval.levels[level].escalates_to
            eligible = _eligible(facts, level)
        wanted_name = facts.text(approval.levels[wanted].name)
        if not eligible:
            findings.append(
                facts.finding("routing", BLOCK, "no_eligible_approver", approval.source,
                              data={"level": wanted}, level=wanted_name)
            )
            continue
        if level != wanted:
            findings.append(
                facts.finding("routing", INFO, "self_approval_rerouted", approval.source,
                              data={"level": wanted, "to_level": level},
                              level=wanted_name, to_level=facts.text(approval.levels[level].name))
            )
        if any(step.level == level for step in steps):
            continue  # passed up to a level already in the route: one step, not two
        steps.append(RouteStep(level, facts.text(approval.levels[level].name), eligible, _delegates(facts, eligible)))
    return tuple(steps), findings


def _eligible(facts: Facts, level: str) -> Tuple[str, ...]:
    return tuple(person for person in approvers_at(facts, level) if person != facts.request.requester)


def _delegates(facts: Facts, approvers: Tuple[str, ...]) -> Tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            d.delegate
            for d in facts.rules.approval.delegates
            if d.person in approvers and d.from_ <= facts.on <= d.to and d.delegate != facts.request.requester
        )
    )
