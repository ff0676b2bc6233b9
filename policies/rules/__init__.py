"""The checks, one module per area of the policy. Each check takes the Facts of one request and
returns its findings (an empty list when the request passes), or None when it does not apply."""
from typing import Callable, List, Optional

from ..evaluation import Finding
from ..facts import Facts
from . import category, dates, limits, notes, payment, splitting, supplier

Check = Callable[[Facts], Optional[List[Finding]]]

# rule id -> check, in the order a requester should read the results
CHECKS: dict[str, Check] = {
    "category.allowed": category.allowed,
    "category.requirements": category.requirements,
    "limits.per_transaction": limits.per_transaction,
    "category.max_total": limits.category_cap,
    "limits.monthly": limits.monthly,
    "payment.method": payment.method,
    "data.classification": category.classification,
    "splitting.same_supplier": splitting.same_supplier,
    "splitting.same_requirement": splitting.same_requirement,
    "splitting.attestation": splitting.attestation,
    "sole_sourcing": splitting.sole_sourcing,
    "supplier.former_public_servant": supplier.former_public_servant,
    "needed_by": dates.needed_by,
    "disclosure.proactive": notes.proactive_disclosure,
    "indigenous_business": notes.indigenous_business,
}

# The request fields each rule reads. A dialogue that checks answers one at a time trusts a
# rule's findings only once every field it reads has been answered (tests/policies prove the map:
# changing a field outside it never changes that rule's findings).
_AMOUNT = frozenset({"quantity", "unit_price", "province"})
INPUTS: dict[str, frozenset] = {
    "category.allowed": frozenset({"category"}),
    # ...and the fields of the requirements the category names; each finding names its own.
    "category.requirements": frozenset({"category"}),
    "limits.per_transaction": _AMOUNT,
    "category.max_total": _AMOUNT | {"category"},
    "limits.monthly": _AMOUNT | {"cost_centre", "card_id"},
    "payment.method": frozenset({"category", "payment_method", "payment_reason"}),
    "data.classification": frozenset({"category", "data_classification"}),
    "splitting.same_supplier": _AMOUNT | {"supplier", "cost_centre", "card_id"},
    "splitting.same_requirement": _AMOUNT | {"category", "description", "supplier", "cost_centre", "card_id"},
    "splitting.attestation": frozenset({"supplier", "cost_centre", "card_id", "attest_standalone"}),
    "sole_sourcing": _AMOUNT | {"supplier", "category", "cost_centre", "card_id"},
    "supplier.former_public_servant": frozenset({"supplier", "supplier_former_public_servant"}),
    "needed_by": frozenset({"needed_by"}),
    "disclosure.proactive": _AMOUNT,
    "indigenous_business": frozenset({"supplier", "supplier_indigenous"}),
    "routing": _AMOUNT | {"cost_centre", "category", "supplier_former_public_servant", "requester"},
}
