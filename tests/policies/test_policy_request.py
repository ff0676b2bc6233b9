"""parse_request: every missing or invalid field reported by name, names checked against the pack."""
from datetime import date, datetime
from decimal import Decimal

import pytest

import policies
from policies import RequestError

from policy_kit import DROP


def _problems(kit, **overrides):
    with pytest.raises(RequestError) as info:
        kit.request(**overrides)
    problems = info.value.problems
    assert problems, "a RequestError with no problems"
    for field, reason in problems:
        assert field and reason.strip()
        assert f"{field}: {reason}" in str(info.value)
    return dict(problems)


def test_a_valid_request_parses(kit):
    request = kit.request(quantity="3", unit_price="$1,234.50", province=" on ", category="Office_Supplies",
                          needed_by="2026-12-15")
    assert request.quantity == 3
    assert request.unit_price == Decimal("1234.50")
    assert request.province == "ON"
    assert request.category == "office_supplies"
    assert request.needed_by == date(2026, 12, 15)


REQUIRED = ["requester", "cost_centre", "category", "description", "supplier", "quantity", "unit_price", "province",
            "needed_by", "data_classification", "payment_method"]


@pytest.mark.parametrize("field", REQUIRED)
def test_each_missing_field_is_named(kit, field):
    problems = _problems(kit, **{field: DROP})
    assert problems == {field: "is required"}


def test_every_missing_field_is_named_at_once(kit):
    problems = _problems(kit, **{field: DROP for field in REQUIRED})
    assert set(problems) == set(REQUIRED)


@pytest.mark.parametrize("value, words", [
    (0, "at least 1"), ("0", "at least 1"), (-2, "at least 1"), (2.5, "whole number"), ("2.5", "whole number"),
    (Decimal("2.5"), "whole number"), ("abc", "whole number"), (True, "whole number"), ("", "whole number"),
    (policies.request.MAX_QUANTITY + 1, "at most"),
])
def test_bad_quantities(kit, value, words):
    problems = _problems(kit, quantity=value)
    assert list(problems) == ["quantity"]
    assert words in problems["quantity"]


@pytest.mark.parametrize("value", [3, "3", " 3 ", 3.0, Decimal("3")])
def test_good_quantities(kit, value):
    assert kit.request(quantity=value).quantity == 3


@pytest.mark.parametrize("value", ["abc", "", "0", "-5", "1e9", "nan", None])
def test_bad_unit_prices(kit, value):
    problems = _problems(kit, unit_price=value)
    assert list(problems) == ["unit_price"]


def test_unit_price_reason_comes_from_the_amount_parser(kit):
    problems = _problems(kit, unit_price="abc")
    with pytest.raises(policies.AmountError) as info:
        policies.parse_amount("abc")
    assert str(info.value) in problems["unit_price"]


@pytest.mark.parametrize("value", ["next week", "", "15/13/2026", "2026-02-30", 20261215])
def test_bad_needed_by_dates(kit, value):
    problems = _problems(kit, needed_by=value)
    assert list(problems) == ["needed_by"]
    assert "date" in problems["needed_by"]


def test_needed_by_accepts_dates_and_datetimes(kit):
    assert kit.request(needed_by=date(2027, 1, 2)).needed_by == date(2027, 1, 2)
    parsed = kit.request(needed_by=datetime(2027, 1, 2, 15, 30)).needed_by
    assert parsed == date(2027, 1, 2) and type(parsed) is date
    assert kit.request(needed_by="2027-01-02T09:00:00").needed_by == date(2027, 1, 2)


def test_an_unknown_field_suggests_the_close_one(kit):
    problems = _problems(kit, supplyer="Staples")
    assert list(problems) == ["supplyer"]
    assert "did you mean 'supplier'?" in problems["supplyer"]


def test_an_unknown_field_with_nothing_close_points_to_the_docs(kit):
    problems = _problems(kit, colour="blue")
    assert "did you mean" not in problems["colour"]
    assert "request-fields" in problems["colour"]


@pytest.mark.parametrize("field, value, known", [
    ("category", "space_station", lambda rules: rules.categories),
    ("province", "ZZ", lambda rules: rules.tax.jurisdictions),
    ("cost_centre", "999999", lambda rules: rules.approval.cost_centres),
    ("data_classification", "top_secret", lambda rules: rules.data_classification.levels),
    ("payment_method", "cash", lambda rules: rules.payment.methods),
])
def test_unknown_names_list_the_known_ones(kit, field, value, known):
    problems = _problems(kit, **{field: value})
    assert list(problems) == [field]
    assert value.lower() in problems[field].lower()
    for name in known(kit.rules):
        assert name in problems[field]


def test_unknown_names_are_all_reported_together(kit):
    problems = _problems(kit, category="nope", province="ZZ")
    assert set(problems) == {"category", "province"}


@pytest.mark.parametrize("field", ["description", "supplier", "requester"])
def test_blank_text_is_refused(kit, field):
    assert list(_problems(kit, **{field: "   "})) == [field]


def test_a_request_must_be_a_mapping(kit):
    with pytest.raises(RequestError) as info:
        policies.parse_request(["not", "a", "mapping"], kit.policy)
    assert info.value.problems[0][0] == "request"


def test_parsed_requests_cannot_be_changed(kit):
    request = kit.request()
    with pytest.raises(TypeError):
        request.unit_price = Decimal("1")


@pytest.mark.parametrize("value, code", [("-5", "negative"), ("12 €", "other_currency"), (-5, "negative"),
                                         (Decimal("1e12"), "too_large")])
def test_a_refused_unit_price_keeps_the_amount_readers_code(kit, value, code):
    # Read as text by parse_request or as a number by the model: either way the caller can word it.
    with pytest.raises(RequestError) as info:
        kit.request(unit_price=value)
    assert list(info.value.amounts) == ["unit_price"]
    assert info.value.amounts["unit_price"].code == code
    assert dict(info.value.problems)["unit_price"] == str(info.value.amounts["unit_price"])
