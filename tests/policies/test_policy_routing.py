"""Who approves: the tier for the total, levels a category or supplier adds, delegates on the
date, and never the requester."""
from datetime import timedelta
from decimal import Decimal

import pytest

from policies import BLOCK, BLOCKED, INFO

from policy_kit import CENT, ON, findings, load_kit, only

_PACK = load_kit()


def _approvers(kit, centre, level):
    own = kit.rules.approval.cost_centres[centre].approvers.get(level)
    return tuple(own or kit.rules.approval.approvers.get(level) or ())


def _tier_levels(kit, total):
    for tier in kit.rules.approval.tiers:
        if tier.up_to is None or total <= tier.up_to:
            return list(tier.levels)
    raise AssertionError("no tier")


def _bounds():
    return [tier.up_to for tier in _PACK.rules.approval.tiers if tier.up_to is not None]


@pytest.mark.parametrize("bound", _bounds(), ids=str)
@pytest.mark.parametrize("offset", [Decimal(0), CENT], ids=["at", "one_cent_over"])
def test_tiers_by_total_at_and_across_each_boundary(kit, bound, offset):
    total = bound + offset
    result = kit.judge(unit_price=str(kit.price_for_total(total)))
    assert result.total == total
    expected = _tier_levels(kit, total)
    assert [step.level for step in result.approval_route] == expected
    for step in result.approval_route:
        assert step.approvers == _approvers(kit, "100200", step.level)
        assert step.name == kit.text(kit.rules.approval.levels[step.level].name)


def test_the_first_boundary_changes_the_route(kit):
    first = kit.rules.approval.tiers[0]
    assert first.up_to == Decimal("5000")
    at = kit.judge(unit_price=str(kit.price_for_total(first.up_to)))
    over = kit.judge(unit_price=str(kit.price_for_total(first.up_to + CENT)))
    assert [s.level for s in at.approval_route] == list(first.levels)
    assert [s.level for s in over.approval_route] == list(kit.rules.approval.tiers[1].levels)
    assert len(over.approval_route) > len(at.approval_route)


def test_each_cost_centre_uses_its_own_approvers(kit):
    for centre in kit.rules.approval.cost_centres:
        result = kit.judge(cost_centre=centre, unit_price="6000")
        for step in result.approval_route:
            assert step.approvers == _approvers(kit, centre, step.level)


_PEOPLE = sorted(_PACK.rules.people)


@pytest.mark.parametrize("requester", _PEOPLE)
def test_the_requester_is_never_in_their_own_route(kit, requester):
    for centre in kit.rules.approval.cost_centres:
        for price in ("100", "6000", "9500"):
            for fps in (False, True):
                for data in (kit.data(), kit.open_source_data()):
                    data.update(requester=requester, cost_centre=centre, unit_price=price,
                                supplier_former_public_servant=fps)
                    for on in (ON, kit.rules.approval.delegates[0].from_):
                        data["needed_by"] = (on + timedelta(days=30)).isoformat()
                        result = kit.judge_data(data, on=on)
                        for step in result.approval_route:
                            assert requester not in step.approvers, (centre, price, fps, step)
                            assert requester not in step.delegates, (centre, price, fps, step)
                        if not result.approval_route or findings(result, "routing", BLOCK):
                            assert result.outcome == BLOCKED


def test_a_manager_requesting_goes_to_the_director(kit):
    manager = _approvers(kit, "100200", "manager")
    assert len(manager) == 1
    escalates_to = kit.rules.approval.levels["manager"].escalates_to
    result = kit.judge(requester=manager[0])
    assert [s.level for s in result.approval_route] == [escalates_to]
    assert result.approval_route[0].approvers == _approvers(kit, "100200", escalates_to)
    info = only(result, "routing", INFO)
    assert info.data == {"level": "manager", "to_level": escalates_to}
    levels = kit.rules.approval.levels
    kit.assert_worded(info, "self_approval_rerouted", "en", kit.text(levels["manager"].name),
                      kit.text(levels[escalates_to].name))
    assert "routing" in result.passed


def test_a_manager_requesting_in_a_two_level_tier_gets_one_director_step(kit):
    manager = _approvers(kit, "100200", "manager")[0]
    result = kit.judge(requester=manager, unit_price=str(kit.price_for_total(kit.rules.approval.tiers[0].up_to + CENT)))
    assert [s.level for s in result.approval_route] == ["director"]


def test_a_director_requesting_passes_their_step_up(kit):
    director = _approvers(kit, "100200", "director")[0]
    result = kit.judge(requester=director, unit_price="6000")
    levels = [s.level for s in result.approval_route]
    assert levels == ["manager", kit.rules.approval.levels["director"].escalates_to]


def test_the_only_approver_at_a_top_level_cannot_approve_their_own(kit):
    levels = kit.rules.approval.levels
    top = [name for name, level in levels.items() if not level.escalates_to]
    assert top == ["deputy_head"]
    (head,) = _approvers(kit, "100200", "deputy_head")
    assert "deputy_head" in kit.rules.former_public_servant.extra_approval
    result = kit.judge(requester=head, supplier_former_public_servant=True)
    finding = only(result, "routing", BLOCK)
    assert result.outcome == BLOCKED
    assert finding.data == {"level": "deputy_head"}
    assert "routing" not in result.passed
    assert "deputy_head" not in [s.level for s in result.approval_route]
    kit.assert_worded(finding, "no_eligible_approver", "en", kit.text(levels["deputy_head"].name), "100200")


def test_a_department_wide_approver_requesting_passes_up(kit):
    (finance,) = kit.rules.approval.approvers["finance"]
    result = kit.judge_data(kit.open_source_data(requester=finance))
    up = kit.rules.approval.levels["finance"].escalates_to
    levels = [s.level for s in result.approval_route]
    assert "finance" not in levels and up in levels
    assert not findings(result, "routing", BLOCK)
    rerouted = [f for f in findings(result, "routing", INFO) if f.data.get("level") == "finance"]
    assert [f.data["to_level"] for f in rerouted] == [up]


# --- delegates ---------------------------------------------------------------------------------------
_DELEGATION = _PACK.rules.approval.delegates[0]


@pytest.mark.parametrize("on, active", [
    (_DELEGATION.from_ - timedelta(days=1), False),
    (_DELEGATION.from_, True),
    (_DELEGATION.to, True),
    (_DELEGATION.to + timedelta(days=1), False),
])
def test_delegates_appear_only_while_active(kit, on, active):
    centre = next(code for code, c in kit.rules.approval.cost_centres.items()
                  if _DELEGATION.person in c.approvers.get("manager", []))
    result = kit.judge(cost_centre=centre, on=on, needed_by=(on + timedelta(days=30)).isoformat())
    step = result.approval_route[0]
    assert _DELEGATION.person in step.approvers
    assert (_DELEGATION.delegate in step.delegates) == active


def test_the_delegate_requesting_is_not_their_own_delegate_approver(kit):
    on = _DELEGATION.from_
    result = kit.judge(requester=_DELEGATION.delegate, on=on, needed_by=(on + timedelta(days=30)).isoformat())
    step = result.approval_route[0]
    assert _DELEGATION.person in step.approvers
    assert step.delegates == ()


# --- packs whose tiers all have a bound -------------------------------------------------------------
def test_a_total_above_a_bounded_last_tier_goes_to_the_highest_tier(kit):
    last = kit.rules.approval.tiers[-1]
    assert last.up_to is None
    bound = Decimal("20000")
    policy = kit.variant((
        "- {levels: [manager, director, director_general]}",
        f"- {{up_to: {bound}, levels: [manager, director, director_general]}}",
    ))
    result = kit.judge(policy=policy, unit_price=str(kit.price_for_total(bound + CENT)))
    assert [s.level for s in result.approval_route] == list(last.levels)
    assert result.outcome == BLOCKED  # over the per-purchase limit all the same
    assert findings(result, "limits.per_transaction")
