"""Who approves: the tier for the total, levels the category or supplier add, and never the
requester, whose step passes up the escalation chain instead."""
from __future__ import annotations

from datetime import date
from typing import List, Tuple

from .evaluation import BLOCK, INFO, Finding, RouteStep
from .facts import Facts
from .schema import Policy


def levels_for(facts: Facts) -> List[str]:
    approval = facts.rules.approval
    # Above the last tier's up_to (a pack may bound every tier), the highest tier still decides.
    tier = next((t for t in approval.tiers if t.up_to is None or facts.total <= t.up_to), approval.tiers[-1])
    levels = list(tier.levels) + list(facts.category.extra_approval)
    if facts.request.supplier_former_public_servant:
        levels += facts.rules.former_public_servant.extra_approval
    return list(dict.fromkeys(levels))  # in order, each once


def approvers_at(facts: Facts, level: str) -> Tuple[str, ...]:
    return level_approvers(facts.rules, facts.request.cost_centre, level)


def level_approvers(rules: Policy, cost_centre: str, level: str) -> Tuple[str, ...]:
    """The approvers of `level` for `cost_centre`: the centre's own, else the department's."""
    centre = rules.approval.cost_centres.get(cost_centre)
    own = centre.approvers.get(level) if centre is not None else None
    return tuple(own or rules.approval.approvers.get(level) or ())


def active_delegates(rules: Policy, approvers: Tuple[str, ...], requester: str, on: date) -> Tuple[str, ...]:
    """The delegates of `approvers` whose delegation covers `on`, never the requester."""
    return tuple(dict.fromkeys(
        d.delegate for d in rules.approval.delegates
        if d.person in approvers and d.from_ <= on <= d.to and d.delegate != requester
    ))


def step_deciders(rules: Policy, cost_centre: str, level: str, requester: str,
                  on: date) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """Who may decide a route step of `level` on `on`, as the rules name them that day: its
    approvers (never the requester) and their delegates. A decision is checked against this
    when it is made, not only when the request was judged."""
    approvers = tuple(p for p in level_approvers(rules, cost_centre, level) if p != requester)
    return approvers, active_delegates(rules, approvers, requester, on)


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
        while not eligible and (up := approval.levels[level].escalates_to):
            level = up
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
    return active_delegates(facts.rules, approvers, facts.request.requester, facts.on)
