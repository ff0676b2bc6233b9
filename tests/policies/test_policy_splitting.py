"""Contract splitting (same supplier, same need, the stand-alone attestation) and repeated
sole-sourcing, over the rolling windows the pack sets."""
from datetime import timedelta
from decimal import Decimal

import pytest

import policies
from policies import APPROVAL_REQUIRED, BLOCK, BLOCKED, WARN

from policy_kit import CENT, ON, findings, only

REQUEST = dict(
    supplier="Staples",
    category="office_supplies",
    description="Whiteboard markers and sticky notes for design sprints",
    unit_price="1000.00",
    attest_standalone=True,
)


def _total(kit, **overrides):
    return kit.judge(**{**REQUEST, **overrides}).total


def _pieces(amount: Decimal, count: int = 2):
    """`amount` in `count` pieces that add up to it exactly."""
    piece = (amount / count).quantize(CENT)
    return [piece] * (count - 1) + [amount - piece * (count - 1)]


def _history(kit, amount, *, supplier="Staples Canada Inc.", days_ago=(10, 20), category="publications",
             descriptions=None, **kw):
    return [
        kit.purchase(total=piece, on=ON - timedelta(days=days), supplier=supplier, category=category,
                     description=(descriptions[i] if descriptions else None), **kw)
        for i, (piece, days) in enumerate(zip(_pieces(amount, len(days_ago)), days_ago, strict=True))
    ]


# --- splitting.same_supplier --------------------------------------------------------------------
@pytest.mark.parametrize(
    "past_name, name",
    [("Staples Canada Inc.", "staples"), ("STAPLES", "Staples Canada Inc."), ("Staples Canada Ltd.", "Staples"),
     ("staples inc", "Staples, Inc."), ("Grand and Toy Ltd.", "Grand & Toy"), ("Staples Business Depot", "Staples")],
)
def test_same_supplier_over_the_limit_blocks_across_name_variants(kit, past_name, name):
    limit = kit.transaction_limit()
    total = _total(kit, supplier=name)
    history = _history(kit, limit - total + CENT, supplier=past_name)
    result = kit.judge(history, **{**REQUEST, "supplier": name})
    finding = only(result, "splitting.same_supplier")
    combined = sum(p.total for p in history) + total
    assert combined == limit + CENT
    assert result.outcome == BLOCKED
    assert finding.severity == BLOCK
    assert finding.field == "supplier"
    assert finding.data["combined"] == combined
    assert finding.data["limit"] == limit
    assert sorted(finding.data["purchases"]) == sorted(p.reference for p in history)
    kit.assert_worded(
        finding, "split_same_supplier", "en",
        name, kit.money(combined), kit.money(limit), str(kit.rules.splitting.window_days),
        *(p.reference for p in history), *(kit.money(p.total) for p in history),
    )


def test_same_supplier_just_inside_the_limit_is_not_splitting(kit):
    limit = kit.transaction_limit()
    total = _total(kit)
    history = _history(kit, limit - total)
    result = kit.judge(history, **REQUEST)
    assert sum(p.total for p in history) + total == limit
    assert not findings(result, "splitting.same_supplier")
    assert "splitting.same_supplier" in result.passed
    assert not findings(result, "splitting.same_requirement", BLOCK)


def test_window_boundary_day_counts_and_the_day_before_does_not(kit):
    window = kit.rules.splitting.window_days
    limit = kit.transaction_limit()
    total = _total(kit)
    inside = _history(kit, limit - total + CENT, days_ago=(window, window))
    assert findings(kit.judge(inside, **REQUEST), "splitting.same_supplier")
    outside = _history(kit, limit - total + CENT, days_ago=(window + 1, window + 1))
    result = kit.judge(outside, **REQUEST)
    assert not findings(result, "splitting.same_supplier")
    assert not findings(result, "splitting.attestation")  # nothing from the supplier in the window
    # One piece inside, one a day outside: only the inside one counts, so no splitting.
    mixed = _history(kit, limit - total + CENT, days_ago=(window, window + 1))
    assert not findings(kit.judge(mixed, **REQUEST), "splitting.same_supplier")


def test_other_suppliers_and_other_cost_centres_do_not_count(kit):
    limit = kit.transaction_limit()
    total = _total(kit)
    other_supplier = _history(kit, limit, supplier="Grand & Toy")
    assert not findings(kit.judge(other_supplier, **REQUEST), "splitting.same_supplier")
    other_centre = _history(kit, limit - total + CENT, cost_centre="100300")
    assert not findings(kit.judge(other_centre, **REQUEST), "splitting.same_supplier")


def test_future_dated_purchases_are_not_in_the_window(kit):
    limit = kit.transaction_limit()
    history = _history(kit, limit, days_ago=(-1, -2))
    assert not findings(kit.judge(history, **REQUEST), "splitting.same_supplier")


# --- splitting.same_requirement ------------------------------------------------------------------
def test_same_need_from_another_supplier_over_the_limit_blocks(kit):
    limit = kit.transaction_limit()
    total = _total(kit)
    history = _history(
        kit, limit - total + CENT, supplier="Grand & Toy", category=REQUEST["category"],
        descriptions=["Whiteboard markers and sticky notes for design sprint",
                      "whiteboard markers, sticky notes for design sprints"],
    )
    result = kit.judge(history, **REQUEST)
    finding = only(result, "splitting.same_requirement")
    combined = limit + CENT
    assert finding.severity == BLOCK
    assert finding.field == "description"
    assert finding.data["combined"] == combined
    assert not findings(result, "splitting.same_supplier")
    kit.assert_worded(
        finding, "split_same_requirement", "en",
        kit.money(combined), kit.money(limit), str(len(history)), *(p.reference for p in history),
    )
    # At exactly the limit it is not splitting.
    at = _history(kit, limit - total, supplier="Grand & Toy", category=REQUEST["category"],
                  descriptions=[REQUEST["description"]] * 2)
    assert not findings(kit.judge(at, **REQUEST), "splitting.same_requirement")


def test_same_need_needs_the_same_category_and_a_similar_description(kit):
    limit = kit.transaction_limit()
    other_category = _history(kit, limit, supplier="Grand & Toy", category="publications",
                              descriptions=[REQUEST["description"]] * 2)
    assert not findings(kit.judge(other_category, **REQUEST), "splitting.same_requirement")
    different_need = _history(kit, limit, supplier="Grand & Toy", category=REQUEST["category"],
                              descriptions=["Ergonomic footrest", "Printer toner cartridges"])
    assert not findings(kit.judge(different_need, **REQUEST), "splitting.same_requirement")


def test_same_need_from_the_same_supplier_is_reported_once(kit):
    limit = kit.transaction_limit()
    total = _total(kit)
    history = _history(kit, limit - total + CENT, category=REQUEST["category"],
                       descriptions=[REQUEST["description"]] * 2)
    result = kit.judge(history, **REQUEST)
    assert only(result, "splitting.same_supplier").severity == BLOCK
    assert not findings(result, "splitting.same_requirement")



def test_same_need_spread_over_suppliers_is_reported_beside_the_supplier_splitting(kit):
    limit = kit.transaction_limit()
    total = _total(kit)
    same_supplier = _history(kit, limit - total + CENT, category=REQUEST["category"],
                             descriptions=[REQUEST["description"]] * 2)
    elsewhere = _history(kit, Decimal("50.00"), supplier="Grand & Toy", category=REQUEST["category"],
                         descriptions=[REQUEST["description"]], days_ago=(3,))
    result = kit.judge(same_supplier + elsewhere, **REQUEST)
    assert only(result, "splitting.same_supplier").severity == BLOCK
    finding = only(result, "splitting.same_requirement")
    assert sorted(finding.data["purchases"]) == sorted(p.reference for p in same_supplier + elsewhere)
    assert finding.data["combined"] == limit + CENT + Decimal("50.00")

# --- the same need in other words (policies/same_need.py) ----------------------------------------
CHAIRS = dict(REQUEST, supplier="Grand & Toy", description="Ergonomic office chairs (Digital Service)")


@pytest.mark.parametrize("earlier", [
    "Ergonomic chairs for the Digital Service team",  # reworded, the team's name left out
    "Chaises ergonomiques pour l'équipe du Service numérique",  # in French
    "ergonomic chiars x6",  # misspelt
])
def test_the_same_need_in_other_words_blocks(kit, earlier):
    # Issue 19: $8,000 of chairs from Staples eight days ago, then $3,000 more from Grand & Toy.
    limit = kit.transaction_limit()
    total = _total(kit, **{k: v for k, v in CHAIRS.items() if k != "supplier"})
    history = _history(kit, limit - total + CENT, supplier="Staples", category=CHAIRS["category"],
                       descriptions=[earlier], days_ago=(8,))
    finding = only(kit.judge(history, **CHAIRS), "splitting.same_requirement")
    assert finding.severity == BLOCK
    assert finding.data["purchases"] == [history[0].reference]


@pytest.mark.parametrize("earlier", [
    "Chair repair for the Digital Service team",  # what is bought is a repair, not chairs
    "Ergonomic footrests",
    "Printer paper",
])
def test_different_needs_that_share_words_are_not_counted(kit, earlier):
    limit = kit.transaction_limit()
    history = _history(kit, limit, supplier="Staples", category=CHAIRS["category"], descriptions=[earlier],
                       days_ago=(8,))
    assert not findings(kit.judge(history, **CHAIRS), "splitting.same_requirement")


MESH = dict(CHAIRS, description="Mesh chairs")


def test_a_doubtful_match_warns_the_approver_with_the_purchase_it_looks_like(kit):
    # The same thing of another kind ("leather chairs", "mesh chairs") is for a person to judge:
    # a warning naming the purchase, its amount, supplier and date.
    limit = kit.transaction_limit()
    total = _total(kit, **{k: v for k, v in MESH.items() if k != "supplier"})
    history = _history(kit, limit - total + CENT, supplier="Staples", category=MESH["category"],
                       descriptions=["Leather chairs"], days_ago=(8,))
    result = kit.judge(history, **MESH)
    finding = only(result, "splitting.same_requirement")
    assert finding.severity == WARN
    assert result.outcome != BLOCKED
    past = history[0]
    assert finding.data["doubtful"] == [past.reference]
    band = kit.policy.rules.splitting.same_need
    assert band.warn <= finding.data["scores"][past.reference] < band.block
    assert f"{past.reference}, {kit.money(past.total)} (Staples, {past.on.isoformat()})" in finding.message
    # Under the limit together: nothing to judge.
    small = _history(kit, Decimal("50.00"), supplier="Staples", category=MESH["category"],
                     descriptions=["Leather chairs"], days_ago=(8,))
    assert not findings(kit.judge(small, **MESH), "splitting.same_requirement")


def test_the_bands_come_from_the_pack(kit):
    # An admin who lowers the block band to a doubtful match's score turns its warning into a block.
    limit = kit.transaction_limit()
    total = _total(kit, **{k: v for k, v in MESH.items() if k != "supplier"})
    history = _history(kit, limit - total + CENT, supplier="Staples", category=MESH["category"],
                       descriptions=["Leather chairs"], days_ago=(8,))
    finding = only(kit.judge(history, **MESH), "splitting.same_requirement")
    assert finding.severity == WARN
    score = finding.data["scores"][history[0].reference]
    band = kit.policy.rules.splitting.same_need
    stricter = kit.variant((f"    block: {band.block}\n", f"    block: {score}\n"),
                           (f"    warn: {band.warn}\n", f"    warn: {min(band.warn, score)}\n"))
    assert only(kit.judge(history, policy=stricter, **MESH), "splitting.same_requirement").severity == BLOCK


# --- splitting.attestation -----------------------------------------------------------------------
@pytest.mark.parametrize("answer", [None, False])
def test_a_past_purchase_from_the_supplier_needs_the_attestation(kit, answer):
    history = _history(kit, Decimal("200.00"), days_ago=(5,))
    result = kit.judge(history, **{**REQUEST, "attest_standalone": answer})
    finding = only(result, "splitting.attestation")
    assert result.outcome == BLOCKED
    assert finding.severity == BLOCK
    assert finding.field == "attest_standalone"
    assert finding.data["purchases"] == [history[0].reference]
    kit.assert_worded(
        finding, "split_attestation_needed", "en",
        REQUEST["supplier"], history[0].reference, kit.money(history[0].total),
        kit.day(history[0].on, style="medium"), str(kit.rules.splitting.window_days),
    )


def test_an_attested_purchase_only_warns(kit):
    history = _history(kit, Decimal("200.00"), days_ago=(5,))
    result = kit.judge(history, **REQUEST)
    finding = only(result, "splitting.attestation")
    assert finding.severity == WARN
    assert result.outcome == APPROVAL_REQUIRED
    kit.assert_worded(finding, "split_attested", "en", history[0].reference)


def test_no_past_purchase_from_the_supplier_needs_no_attestation(kit):
    result = kit.judge(**{**REQUEST, "attest_standalone": None})
    assert not findings(result, "splitting.attestation")
    assert result.outcome == APPROVAL_REQUIRED


# --- sole_sourcing --------------------------------------------------------------------------------
def _older(kit, amounts, *, category="publications", supplier="Staples Canada Inc."):
    """Purchases from the supplier inside the sole-sourcing window but outside the splitting one."""
    first = kit.rules.splitting.window_days + 1
    last = kit.rules.sole_sourcing.window_days
    step = max((last - first) // max(len(amounts), 1), 1)
    return [
        kit.purchase(total=amount, on=ON - timedelta(days=first + i * step), supplier=supplier, category=category)
        for i, amount in enumerate(amounts)
    ]


def test_frequent_purchases_from_one_supplier_warn(kit):
    rule = kit.rules.sole_sourcing
    many = _older(kit, [Decimal("100.00")] * rule.warn_after_count)
    result = kit.judge(many, **REQUEST)
    finding = only(result, "sole_sourcing", WARN)
    count = rule.warn_after_count + 1  # the past ones and this one
    assert finding.field == "supplier"
    assert finding.data["count"] == count
    kit.assert_worded(finding, "sole_source_frequent", "en", str(count), str(rule.window_days), REQUEST["supplier"])
    assert result.outcome == APPROVAL_REQUIRED

    fewer = _older(kit, [Decimal("100.00")] * (rule.warn_after_count - 1))
    assert not findings(kit.judge(fewer, **REQUEST), "sole_sourcing")


def test_purchases_older_than_the_sole_sourcing_window_do_not_count(kit):
    rule = kit.rules.sole_sourcing
    old = [kit.purchase(total=Decimal("100.00"), on=ON - timedelta(days=rule.window_days + 1), supplier="Staples")
           for _ in range(rule.warn_after_count + 2)]
    assert not findings(kit.judge(old, **REQUEST), "sole_sourcing")


@pytest.mark.parametrize("kind, past_category, request_category", [
    ("goods", "publications", "office_supplies"),
    ("services", "training", "training"),
])
def test_combined_value_over_the_sole_source_limit_blocks(kit, kind, past_category, request_category):
    rule = kit.rules.sole_sourcing
    assert kit.rules.categories[past_category].kind == kind == kit.rules.categories[request_category].kind
    cap = rule.max_total[kind]
    request = {**REQUEST, "category": request_category, "description": "Something new for the team"}
    total = _total(kit, **request)
    count = int(cap // kit.transaction_limit()) + 1  # pieces each under the transaction limit
    over = _older(kit, _pieces(cap - total + CENT, count), category=past_category)
    assert all(p.total <= kit.transaction_limit() for p in over)
    result = kit.judge(over, **request)
    finding = only(result, "sole_sourcing", BLOCK)
    assert result.outcome == BLOCKED
    assert finding.field == "supplier"
    assert finding.data == {"combined": cap + CENT, "limit": cap}
    kit.assert_worded(
        finding, "sole_source_over_value", "en",
        kit.money(cap + CENT), kit.money(cap), kit.text(rule.kind_names[kind]), str(rule.window_days),
    )
    at = _older(kit, _pieces(cap - total, count), category=past_category)
    assert not findings(kit.judge(at, **request), "sole_sourcing", BLOCK)


def test_sole_source_value_counts_only_the_same_kind(kit):
    rule = kit.rules.sole_sourcing
    assert kit.rules.categories["training"].kind != kit.rules.categories[REQUEST["category"]].kind
    services = _older(kit, _pieces(rule.max_total["goods"], 3), category="training")
    assert not findings(kit.judge(services, **REQUEST), "sole_sourcing", BLOCK)


# --- the history the engine asks for --------------------------------------------------------------
def test_history_window_covers_every_window_and_the_month(kit):
    request = kit.request()
    since, until, card = policies.history_window(kit.policy, request, ON)
    longest = max(kit.rules.splitting.window_days, kit.rules.sole_sourcing.window_days)
    assert until == ON
    assert since <= ON - timedelta(days=longest)
    assert since <= ON.replace(day=1)
    assert card == kit.rules.approval.cost_centres[request.cost_centre].card
    assert policies.history_window(kit.policy, kit.request(card_id="CARD-X"), ON)[2] == "CARD-X"
