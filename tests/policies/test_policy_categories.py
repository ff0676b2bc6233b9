"""What is bought and how: allowed, banned and standing-offer categories, a category's extra
requirements, payment methods and data classification."""
import pytest

from policies import APPROVAL_REQUIRED, BLOCK, BLOCKED, INFO, WARN

from policy_kit import findings, load_kit, only, problems_of

_PACK = load_kit()  # for parametrize ids only; the tests use the session fixture
_BY_STATUS = {
    status: sorted(key for key, c in _PACK.rules.categories.items() if c.status == status)
    for status in ("allowed", "banned", "standing_offer")
}


def test_the_pack_has_every_kind_of_category():
    assert all(_BY_STATUS.values()), _BY_STATUS


def _data_for(kit, category):
    if kit.rules.categories[category].requires:
        return kit.open_source_data(category=category)
    return kit.data(category=category)


@pytest.mark.parametrize("category", _BY_STATUS["banned"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_banned_categories_block_with_reason_and_alternative(kit, category, language):
    rule = kit.rules.categories[category]
    result = kit.judge_data(_data_for(kit, category), language=language)
    finding = only(result, "category.allowed")
    assert result.outcome == BLOCKED
    assert finding.severity == BLOCK
    assert finding.field == "category"
    assert finding.source == kit.text(rule.source, language)
    kit.assert_worded(
        finding, "category_banned", language,
        kit.text(rule.name, language), kit.text(rule.reason, language), kit.text(rule.alternative, language),
    )


@pytest.mark.parametrize("category", _BY_STATUS["standing_offer"])
def test_standing_offer_categories_block_naming_the_offer(kit, category):
    rule = kit.rules.categories[category]
    offer = kit.rules.standing_offers[rule.standing_offer]
    result = kit.judge_data(_data_for(kit, category))
    finding = only(result, "category.allowed")
    assert result.outcome == BLOCKED
    assert finding.severity == BLOCK
    assert finding.field == "category"
    assert finding.data["standing_offer"] == rule.standing_offer
    assert finding.source == kit.text(offer.source)
    kit.assert_worded(
        finding, "category_standing_offer", "en",
        kit.text(rule.name), kit.text(offer.name), kit.text(offer.how_to_order),
    )


@pytest.mark.parametrize("category", _BY_STATUS["allowed"])
def test_allowed_categories_pass(kit, category):
    result = kit.judge_data(_data_for(kit, category))
    assert not findings(result, "category.allowed")
    assert "category.allowed" in result.passed
    assert result.outcome == APPROVAL_REQUIRED, [f.to_dict() for f in problems_of(result)]


# --- category.requirements ---------------------------------------------------------------------
_OPEN_SOURCE = _PACK.rules.categories["open_source_code_work"]


def test_a_complete_open_source_request_passes(kit):
    result = kit.judge_data(kit.open_source_data(payment_method="acquisition_card"))
    assert not findings(result, "category.requirements")
    assert "category.requirements" in result.passed
    assert result.outcome == APPROVAL_REQUIRED, [f.to_dict() for f in problems_of(result)]


@pytest.mark.parametrize("requirement", _OPEN_SOURCE.requires)
def test_each_missing_requirement_blocks_on_its_own_field(kit, requirement):
    spec = kit.rules.requirements[requirement]
    data = kit.open_source_data()
    del data[spec.field]
    result = kit.judge_data(data)
    found = findings(result, "category.requirements")
    assert len(found) == 1, [f.to_dict() for f in found]
    finding = found[0]
    assert finding.severity == BLOCK
    assert finding.field == spec.field
    assert finding.data["requirement"] == requirement
    assert finding.source == kit.text(spec.source)
    assert finding.message == kit.text(spec.message)  # no values in these texts
    assert result.outcome == BLOCKED


@pytest.mark.parametrize(
    "requirement", [r for r in _OPEN_SOURCE.requires if _PACK.rules.requirements[r].kind == "attestation"]
)
def test_an_attestation_answered_no_is_not_met(kit, requirement):
    spec = kit.rules.requirements[requirement]
    result = kit.judge_data(kit.open_source_data(**{spec.field: False}))
    assert [f.field for f in findings(result, "category.requirements")] == [spec.field]


def test_all_requirements_missing_gives_one_finding_each(kit):
    data = kit.open_source_data()
    for requirement in _OPEN_SOURCE.requires:
        del data[kit.rules.requirements[requirement].field]
    result = kit.judge_data(data)
    fields = [f.field for f in findings(result, "category.requirements")]
    assert fields == [kit.rules.requirements[r].field for r in _OPEN_SOURCE.requires]


def test_categories_without_requirements_skip_the_check(kit):
    assert not kit.rules.categories["office_supplies"].requires
    result = kit.judge()
    assert not findings(result, "category.requirements")
    assert "category.requirements" not in result.passed


def test_open_source_work_adds_finance_to_the_route(kit):
    result = kit.judge_data(kit.open_source_data())
    levels = [step.level for step in result.approval_route]
    for level in _OPEN_SOURCE.extra_approval:
        assert level in levels
        step = next(s for s in result.approval_route if s.level == level)
        assert step.approvers == tuple(kit.rules.approval.approvers[level])
    info = only(result, "routing", INFO)
    names = [kit.text(kit.rules.approval.levels[level].name) for level in _OPEN_SOURCE.extra_approval]
    kit.assert_worded(info, "category_extra_approval", "en", kit.text(_OPEN_SOURCE.name), *names)
    assert "finance" not in [s.level for s in kit.judge().approval_route]


# --- payment.method -----------------------------------------------------------------------------
def test_a_method_not_allowed_for_the_category_blocks(kit):
    rule = kit.rules.payment
    not_allowed = [m for m in rule.methods if m not in rule.allowed]
    assert not_allowed
    for method in not_allowed:
        result = kit.judge(payment_method=method, payment_reason="The supplier takes nothing else.")
        finding = only(result, "payment.method")
        assert finding.severity == BLOCK
        assert finding.field == "payment_method"
        allowed_names = [kit.text(rule.methods[m].name) for m in rule.allowed]
        kit.assert_worded(finding, "payment_method_not_allowed", "en", kit.text(rule.methods[method].name),
                          *allowed_names)


def test_paypal_needs_a_reason(kit):
    rule = kit.rules.payment
    assert rule.methods["paypal"].reason_required
    assert "paypal" in _OPEN_SOURCE.payment_methods
    result = kit.judge_data(kit.open_source_data(payment_method="paypal"))
    finding = only(result, "payment.method")
    assert finding.severity == BLOCK
    assert finding.field == "payment_reason"
    kit.assert_worded(finding, "payment_reason_missing", "en", kit.text(rule.methods["paypal"].name))

    given = kit.judge_data(kit.open_source_data(payment_method="paypal",
                                                payment_reason="The developer only takes PayPal."))
    assert not findings(given, "payment.method")
    assert "payment.method" in given.passed


def test_the_card_needs_no_reason(kit):
    assert not kit.rules.payment.methods["acquisition_card"].reason_required
    result = kit.judge(payment_method="acquisition_card")
    assert not findings(result, "payment.method")


def test_paypal_is_not_allowed_for_ordinary_categories(kit):
    assert "paypal" not in kit.rules.payment.allowed
    result = kit.judge(payment_method="paypal", payment_reason="The shop only takes PayPal.")
    assert only(result, "payment.method").field == "payment_method"


# --- data.classification -----------------------------------------------------------------------
def test_data_above_the_allowed_classification_blocks(kit):
    rule = kit.rules.data_classification
    refused = [level for level in rule.levels if level not in rule.allowed]
    assert refused
    for level in refused:
        result = kit.judge(data_classification=level)
        finding = only(result, "data.classification")
        assert finding.severity == BLOCK
        assert finding.field == "data_classification"
        assert result.outcome == BLOCKED
        allowed_names = [kit.text(rule.levels[name]) for name in rule.allowed]
        kit.assert_worded(finding, "classification_not_allowed", "en", kit.text(rule.levels[level]), *allowed_names)
    for level in rule.allowed:
        assert not findings(kit.judge(data_classification=level), "data.classification")


def test_a_categorys_own_classification_list_wins(kit):
    allowed = _OPEN_SOURCE.data_classifications
    assert allowed
    for level in kit.rules.data_classification.levels:
        result = kit.judge_data(kit.open_source_data(data_classification=level))
        assert bool(findings(result, "data.classification")) == (level not in allowed), level


def test_warnings_alone_do_not_block(kit):
    # A former public servant only warns: the outcome is still approval required.
    result = kit.judge(supplier_former_public_servant=True)
    assert [f.severity for f in problems_of(result)] == [WARN]
    assert result.outcome == APPROVAL_REQUIRED
