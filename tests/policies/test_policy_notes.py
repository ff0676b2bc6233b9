"""Former public servants, the needed-by date, proactive disclosure and Indigenous business."""
from datetime import timedelta
from decimal import Decimal

import pytest

import policies
from policies import APPROVAL_REQUIRED, BLOCK, BLOCKED, INFO, WARN

from policy_kit import CENT, ON, findings, only


# --- supplier.former_public_servant ----------------------------------------------------------------
def test_former_public_servant_warns_and_adds_approvers(kit):
    rule = kit.rules.former_public_servant
    assert rule.extra_approval
    result = kit.judge(supplier_former_public_servant=True)
    finding = only(result, "supplier.former_public_servant")
    assert finding.severity == WARN
    assert finding.field == "supplier_former_public_servant"
    assert finding.data["extra_approval"] == list(rule.extra_approval)
    names = [kit.text(kit.rules.approval.levels[level].name) for level in rule.extra_approval]
    kit.assert_worded(finding, "former_public_servant", "en", "Grand & Toy", *names)
    levels = [step.level for step in result.approval_route]
    for level in rule.extra_approval:
        assert level in levels
    assert {"director_general", "deputy_head"} <= set(levels)
    assert result.outcome == APPROVAL_REQUIRED

    plain = kit.judge(supplier_former_public_servant=False)
    assert not findings(plain, "supplier.former_public_servant")
    assert not set(rule.extra_approval) & {step.level for step in plain.approval_route}


# --- needed_by ---------------------------------------------------------------------------------------
def test_a_needed_by_date_in_the_past_blocks(kit):
    yesterday = ON - timedelta(days=1)
    result = kit.judge(needed_by=yesterday.isoformat())
    finding = only(result, "needed_by")
    assert result.outcome == BLOCKED
    assert finding.severity == BLOCK
    assert finding.field == "needed_by"
    kit.assert_worded(finding, "needed_by_past", "en", kit.day(yesterday), kit.day(ON))


@pytest.mark.parametrize("days", [0, 1, 2, 3, 4])
def test_short_notice_is_information_below_the_pack_days(kit, days):
    short = kit.rules.needed_by.short_notice_days
    result = kit.judge(needed_by=(ON + timedelta(days=days)).isoformat())
    assert result.outcome == APPROVAL_REQUIRED
    found = findings(result, "needed_by")
    assert "needed_by" in result.passed
    if days < short:
        finding = only(result, "needed_by")
        assert finding.severity == INFO
        assert finding.field == "needed_by"
        kit.assert_worded(finding, "needed_by_short_notice", "en", str(days))
    else:
        assert not found


def test_short_notice_boundary_follows_the_pack(kit):
    short = kit.rules.needed_by.short_notice_days
    assert short > 0
    last_short = kit.judge(needed_by=(ON + timedelta(days=short - 1)).isoformat())
    first_normal = kit.judge(needed_by=(ON + timedelta(days=short)).isoformat())
    assert only(last_short, "needed_by").severity == INFO
    assert not findings(first_normal, "needed_by")


# --- disclosure.proactive ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def higher_limit(kit):
    """The pack with a per-purchase limit above the disclosure threshold."""
    threshold = kit.rules.proactive_disclosure.threshold
    return kit.variant(("- {from: 2019-04-01, amount: 10000}", f"- {{from: 2019-04-01, amount: {threshold * 2}}}"))


def test_disclosure_above_the_threshold_only(kit, higher_limit):
    threshold = kit.rules.proactive_disclosure.threshold
    at = kit.judge(policy=higher_limit, unit_price=str(kit.price_for_total(threshold)))
    assert at.total == threshold
    assert not findings(at, "disclosure.proactive")

    above = kit.judge(policy=higher_limit, unit_price=str(kit.price_for_total(threshold + CENT)))
    assert above.total == threshold + CENT
    finding = only(above, "disclosure.proactive")
    assert finding.severity == INFO
    assert finding.field is None
    kit.assert_worded(finding, "proactive_disclosure", "en", kit.money(threshold))
    assert above.outcome == APPROVAL_REQUIRED
    assert "disclosure.proactive" in above.passed


def test_disclosure_note_also_comes_with_the_default_pack(kit):
    threshold = kit.rules.proactive_disclosure.threshold
    result = kit.judge(unit_price=str(kit.price_for_total(threshold + CENT)))
    assert only(result, "disclosure.proactive").severity == INFO


# --- indigenous_business ----------------------------------------------------------------------------------
def test_indigenous_supplier_is_recorded(kit):
    rule = kit.rules.indigenous_business
    result = kit.judge(supplier_indigenous=True)
    finding = only(result, "indigenous_business")
    assert finding.severity == INFO
    assert finding.field is None
    target = f"{rule.target_percent.normalize():f}"
    kit.assert_worded(finding, "indigenous_recorded", "en", "Grand & Toy", f"{target}%")


def test_unknown_indigenous_status_points_to_the_directory(kit):
    rule = kit.rules.indigenous_business
    result = kit.judge(supplier_indigenous=None)
    finding = only(result, "indigenous_business")
    assert finding.severity == INFO
    assert finding.field == "supplier_indigenous"
    assert rule.directory_url
    kit.assert_worded(finding, "indigenous_unknown", "en", str(rule.directory_url), "Grand & Toy")
    assert result.outcome == APPROVAL_REQUIRED


def test_not_indigenous_adds_nothing(kit):
    result = kit.judge(supplier_indigenous=False)
    assert not findings(result, "indigenous_business")
    assert "indigenous_business" in result.passed


# --- the whole evaluation -------------------------------------------------------------------------------
def test_a_clean_request_passes_every_check_that_applies(kit):
    result = kit.judge()
    assert result.outcome == APPROVAL_REQUIRED
    assert not result.findings
    for rule in ("category.allowed", "limits.per_transaction", "limits.monthly", "payment.method",
                 "data.classification", "splitting.same_supplier", "splitting.same_requirement", "sole_sourcing",
                 "supplier.former_public_servant", "needed_by", "disclosure.proactive", "indigenous_business",
                 "routing"):
        assert rule in result.passed
    assert result.currency == kit.rules.pack.currency
    assert result.evaluated_on == ON
    assert result.policy_version == kit.policy.version


def test_to_dict_keeps_amounts_as_strings(kit):
    result = kit.judge(quantity=3, unit_price="33.33")
    out = result.to_dict()
    subtotal = Decimal("33.33") * 3
    assert out["subtotal"] == f"{subtotal:.2f}"
    assert out["total"] == f"{result.total:.2f}"
    assert Decimal(out["tax"]) == result.tax
    assert not any(isinstance(value, float) for value in out.values())


def test_the_engine_is_pure(kit):
    history = (kit.purchase(total=Decimal("500.00"), on=ON - timedelta(days=3), supplier="Grand & Toy"),)
    request = kit.request()
    first = policies.evaluate(kit.policy, request, iter(history), on=ON)  # any iterable will do
    second = policies.evaluate(kit.policy, request, list(history), on=ON)
    assert first == second
    assert findings(first, "splitting.attestation")  # the generator's records were seen
