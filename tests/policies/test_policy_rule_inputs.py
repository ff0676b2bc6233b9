"""policies.rules.INPUTS: the request fields each rule reads.

The dialogue trusts a rule's findings once every field in INPUTS[rule] is answered, so the map
must be complete: changing a request field that is NOT in INPUTS[rule] never changes that rule's
findings. "category.requirements" also reads the fields of the requirements its category names.

Proved two ways: a deterministic sweep (several base requests, several other values of every
field, one field changed at a time) and a hypothesis search over mixed requests. The history has
purchases from the same suppliers, the same need, the same card this month and another card, so
the splitting, sole-sourcing and monthly rules all have something to find; a power check shows
the sweep sees every field a rule does read, so a field missing from the map would not go unseen.
"""
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policies
from policies.request import REQUEST_FIELDS
from policies.rules import CHECKS, INPUTS

from policy_kit import ON, load_kit

KIT = load_kit()  # module level: the parametrize lists and the history are built from the pack
RULES = KIT.rules
REQUIREMENT_FIELDS = frozenset(req.field for req in RULES.requirements.values())
DS_CARD = RULES.approval.cost_centres["100200"].card
BDM_CARD = RULES.approval.cost_centres["100300"].card
PAPER = "Printer paper and toner for the team"
FOCUS_FIX = "Fix keyboard focus order in the date picker of an open-source form library"


def _days_ago(days):
    return ON - timedelta(days=days)


# Past purchases: the same supplier within 60 days (splitting, attestation) and within 365 (sole
# sourcing), the same need from another supplier, a card close to its monthly limit, a purchase
# on a card of its own, and the same supplier in the other cost centre.
HISTORY = (
    [KIT.purchase(total="2000.00", on=_days_ago(d), supplier="Grand & Toy", category="office_supplies",
                  description=PAPER) for d in (10, 20, 45)]
    + [KIT.purchase(total="1500.00", on=_days_ago(200), supplier="Grand & Toy Ltd.", category="office_supplies")]
    + [KIT.purchase(total="5000.00", on=_days_ago(d), supplier="Grand & Toy", category="publications")
       for d in (100, 150, 250)]
    + [KIT.purchase(total="3000.00", on=_days_ago(12), supplier="Staples", category="office_supplies",
                    description=PAPER)]
    + [KIT.purchase(total="6000.00", on=_days_ago(5), supplier="Jane Doe Consulting",
                    category="open_source_code_work", description=FOCUS_FIX)]
    + [KIT.purchase(total="3000.00", on=_days_ago(8), supplier="Other Co", category="training")]
    + [KIT.purchase(total="9000.00", on=_days_ago(15), supplier="Acme Learning", category="training",
                    cost_centre="100300", description="Accessibility course seats")]
    + [KIT.purchase(total="15000.00", on=_days_ago(3), supplier="Other Co", category="training",
                    cost_centre="100300")]
    + [KIT.purchase(total="4000.00", on=_days_ago(30), supplier="Grand & Toy", category="office_supplies",
                    cost_centre="100300", description=PAPER)]
    + [KIT.purchase(total="20000.00", on=_days_ago(4), supplier="Another Card Shop", category="training",
                    card_id="ESDC-CARD-SPARE-09")]
)

# Complete requests to start from; between them every rule finds something.
BASES = {
    "office": KIT.data(),
    "office_split": KIT.data(quantity=2, unit_price="4000.00"),
    "open_source": KIT.open_source_data(payment_method="paypal", payment_reason="The developer only takes PayPal",
                                        supplier_indigenous=None),
    "open_source_unmet": KIT.open_source_data(supplier="Jane Doe Consulting Inc.", unit_price="5000.00", quantity=2,
                                              ip_agreement=False, fixed_price=None, licence=None,
                                              attest_standalone=True),
    "training_rerouted": KIT.data(requester="U04KWAME", cost_centre="100300", category="training",
                                  supplier="Acme Learning", description="Accessibility course seats",
                                  unit_price="9500.00", province="NS", needed_by=(ON + timedelta(days=1)).isoformat(),
                                  supplier_former_public_servant=True, supplier_indigenous=None),
    "director_requester": KIT.data(requester="U02MARC", quantity=2, unit_price="2250.00",
                                   supplier="Brand New Supplier"),
    "office_dg_requester": KIT.data(requester="U03SOPHIE", quantity=2, unit_price="4000.00",
                                    supplier_former_public_servant=True),
    "banned_travel": KIT.data(requester="U01AMINA", category="travel", payment_method="invoice",
                              data_classification="protected_b", needed_by=_days_ago(2).isoformat(),
                              supplier="Staples", description=PAPER, card_id="ESDC-CARD-SPARE-09",
                              supplier_indigenous=True),
}

# Other values of every request field, each valid on its own.
ALTERNATIVES = {
    "requester": ["U09NADIA", "U01AMINA", "U02MARC", "U04KWAME", "U03SOPHIE"],
    "cost_centre": sorted(RULES.approval.cost_centres),
    "category": sorted(RULES.categories),
    "description": [PAPER, FOCUS_FIX, "Accessibility course seats", "Whiteboard markers, assorted colours"],
    "supplier": ["Grand & Toy", "Grand and Toy Ltd.", "Staples", "Jane Doe Consulting", "Acme Learning",
                 "Brand New Supplier"],
    "quantity": [1, 3, 40],
    "unit_price": ["0.01", "100.00", "2999.99", "8900.00", "9999.00"],
    "province": ["ON", "AB", "NS", "QC", "PE"],
    "needed_by": [_days_ago(1).isoformat(), ON.isoformat(), (ON + timedelta(days=2)).isoformat(),
                  (ON + timedelta(days=60)).isoformat()],
    "data_classification": sorted(RULES.data_classification.levels),
    "payment_method": sorted(RULES.payment.methods),
    "title": [None, "Pens for the team"],
    "justification": [None, "Needed for the accessibility sprint"],
    "supplier_url": [None, "https://supplier.example.com"],
    "supplier_former_public_servant": [False, True],
    "supplier_indigenous": [None, True, False],
    "supplier_small_business": [None, True, False],
    "payment_reason": [None, "The supplier only takes PayPal"],
    "card_id": [None, DS_CARD, BDM_CARD, "ESDC-CARD-SPARE-09"],
    "recurring": [False, True],
    "attest_standalone": [None, True, False],
    "attest_no_internal_capacity": [None, True, False],
    "ip_agreement": [None, True, False],
    "fixed_price": [None, True, False],
    "remote_only": [None, True, False],
    "licence": [None, "MIT"],
    "repository": [None, "https://github.com/example/form-library"],
    "acceptance_criteria": [None, "Pull request merged upstream"],
}
FIELDS = sorted(ALTERNATIVES)


def _ignored_by(rule):
    """The request fields rule must not read."""
    reads = INPUTS[rule] | (REQUIREMENT_FIELDS if rule == "category.requirements" else frozenset())
    return REQUEST_FIELDS - reads


def _with(data, field, value):
    changed = dict(data)
    if value is None:
        changed.pop(field, None)  # None and absent are the same to the request
    else:
        changed[field] = value
    return changed


_JUDGED = {}  # request (as sorted items) -> each rule's findings; the bases recur in every test


def _by_rule(data):
    """Each rule's findings (as dicts) for a request; a request the pack refuses is a test error."""
    key = tuple(sorted((k, repr(v)) for k, v in data.items()))
    if key not in _JUDGED:
        evaluation = policies.evaluate(KIT.policy, policies.parse_request(data, KIT.policy), HISTORY, on=ON)
        out = {rule: [] for rule in INPUTS}
        for finding in evaluation.findings:
            out.setdefault(finding.rule, []).append(finding.to_dict())
        _JUDGED[key] = out
    return _JUDGED[key]


def _leaks(data, field, value):
    """(rule, before, after) for every rule that ignores `field` yet changed when it did."""
    before, after = _by_rule(data), _by_rule(_with(data, field, value))
    return [
        (rule, before[rule], after[rule])
        for rule in INPUTS
        if field in _ignored_by(rule) and before[rule] != after[rule]
    ]


_SWEPT = {}


def _sweep(field):
    """rule -> each (base, value) where changing `field` from a base changed that rule's findings."""
    if field not in _SWEPT:
        changes = {rule: [] for rule in INPUTS}
        for name, data in BASES.items():
            before = _by_rule(data)
            for value in ALTERNATIVES[field]:
                if repr(value) == repr(data.get(field)):
                    continue
                after = _by_rule(_with(data, field, value))
                for rule in INPUTS:
                    if before[rule] != after[rule]:
                        changes[rule].append(f"base {name}, {field} {data.get(field)!r} -> {value!r}:\n"
                                             f"    before {before[rule]}\n    after  {after[rule]}")
        _SWEPT[field] = changes
    return _SWEPT[field]


# --- the map itself ---------------------------------------------------------------------------
def test_inputs_name_every_rule_and_only_request_fields():
    assert set(INPUTS) == set(CHECKS) | {"routing"}
    for rule, fields in INPUTS.items():
        assert fields <= REQUEST_FIELDS, (rule, sorted(fields - REQUEST_FIELDS))


def test_every_request_field_has_other_values_to_try():
    assert set(ALTERNATIVES) == set(REQUEST_FIELDS)
    assert all(len(set(map(repr, values))) >= 2 for values in ALTERNATIVES.values())


def test_the_bases_and_history_make_every_rule_find_something():
    """Otherwise the sweep below would compare empty lists and prove nothing."""
    found = set()
    for data in BASES.values():
        found |= {rule for rule, items in _by_rule(data).items() if items}
    assert set(INPUTS) - found == set()


# INPUTS lists the card for the splitting rules although they group past purchases by cost
# centre only: over-inclusion is safe (the dialogue just waits for one more answer).
CONSERVATIVE = {(rule, "card_id") for rule in
                ("splitting.same_supplier", "splitting.same_requirement", "splitting.attestation", "sole_sourcing")}
READ = sorted((rule, field) for rule, fields in INPUTS.items() for field in fields if (rule, field) not in CONSERVATIVE)


@pytest.mark.parametrize("rule, field", READ, ids=[f"{r}-{f}" for r, f in READ])
def test_the_sweep_sees_each_field_a_rule_reads(rule, field):
    """The sweep has the power to catch a missing field: for every field INPUTS names, some base
    and value change that rule's findings, so a map without it would be reported."""
    assert _sweep(field)[rule], f"no base or value of {field!r} changes {rule}'s findings"


# --- the sweep --------------------------------------------------------------------------------
@pytest.mark.parametrize("field", FIELDS)
def test_changing_a_field_a_rule_does_not_read_leaves_its_findings_alone(field):
    leaks = [f"{rule}: {change}" for rule, changes in _sweep(field).items() if field in _ignored_by(rule)
             for change in changes]
    assert not leaks, \
        f"rules whose findings change with {field!r}, which INPUTS says they do not read:\n" + "\n".join(leaks)


# --- the search ---------------------------------------------------------------------------------
@st.composite
def requests(draw):
    """A request mixing values from the alternatives, on top of one of the bases."""
    data = dict(draw(st.sampled_from(list(BASES.values()))))
    for field in draw(st.sets(st.sampled_from(FIELDS), max_size=8)):
        data = _with(data, field, draw(st.sampled_from(ALTERNATIVES[field])))
    return data


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=20, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=requests(), pick=st.data())
def test_no_rule_reads_a_field_outside_its_inputs(field, data, pick):
    value = pick.draw(st.sampled_from(ALTERNATIVES[field]), label=field)
    assert _leaks(data, field, value) == []
