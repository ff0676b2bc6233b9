"""Every shipped pack loads, and the second pack runs on the same engine with nothing but data."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from policies import evaluate, load_policy, parse_request
from policies.rules.splitting import is_same_supplier

POLICIES = Path(__file__).resolve().parents[2] / "policies"
US_EXAMPLE = POLICIES / "examples" / "us-far" / "conference_over_threshold.json"


@pytest.mark.parametrize("pack", sorted(POLICIES.glob("*.yml")), ids=lambda p: p.name)
def test_every_shipped_pack_loads(pack):
    loaded = load_policy(pack)
    assert loaded.rules.categories and loaded.rules.approval.cost_centres


@pytest.fixture(scope="module")
def us_far():
    return load_policy(POLICIES / "us-far.yml")


def _threshold_request(us_far, total: Decimal):
    data = dict(json.loads(US_EXAMPLE.read_text()), quantity=1, unit_price=str(total))
    return parse_request(data, us_far)


@pytest.mark.parametrize(
    "on, total, blocked",
    [
        (date(2025, 9, 30), Decimal("10000.00"), False),
        (date(2025, 9, 30), Decimal("10000.01"), True),
        (date(2025, 10, 1), Decimal("10000.01"), False),
        (date(2025, 10, 1), Decimal("15000.00"), False),
        (date(2025, 10, 1), Decimal("15000.01"), True),
    ],
)
def test_us_micro_purchase_threshold_follows_its_effective_date(us_far, on, total, blocked):
    request = _threshold_request(us_far, total)
    result = evaluate(us_far, request, [], on)
    limit_blocks = [f for f in result.findings if f.rule == "limits.per_transaction"]
    assert result.tax == Decimal("0.00") and result.total == total  # federal purchases: no state tax
    assert bool(limit_blocks) is blocked
    if blocked:
        assert limit_blocks[0].severity == "block"
        assert "$" in limit_blocks[0].message and f"{total:,.2f}" in limit_blocks[0].message


def test_us_pack_speaks_its_own_currency_and_people(us_far):
    result = evaluate(us_far, _threshold_request(us_far, Decimal("16000")), [], date(2026, 11, 25))
    assert result.currency == "USD"
    everyone = {person for step in result.approval_route for person in step.approvers}
    assert everyone and everyone <= set(us_far.rules.people)
    assert not everyone & set(load_policy(POLICIES / "esdc.yml").rules.people)


@pytest.mark.parametrize("pack", ["esdc.yml", "us-far.yml"])
def test_supplier_legal_forms_are_the_packs_to_ignore(pack):
    rules = load_policy(POLICIES / pack).rules.splitting
    assert is_same_supplier("Acme Inc.", "ACME Ltd", rules.supplier_similarity, rules.supplier_ignore_words)
    # Without the pack's list, differing legal forms make two names differ.
    assert not is_same_supplier("Acme Inc.", "ACME Ltd", rules.supplier_similarity, [])
    assert not is_same_supplier("Staples", "Best Buy", rules.supplier_similarity, rules.supplier_ignore_words)
