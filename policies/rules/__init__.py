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
