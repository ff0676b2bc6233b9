"""The messages the rules can show, and the values each one may use.

The wording lives in the policy file (`messages:`), so admins can reword it; this catalogue is
what `policy check` holds that wording to: every message present, and only known values used.
"""
from __future__ import annotations

# Values every message can use: amounts are already formatted for the reader's language.
COMMON = frozenset(
    {
        "supplier",
        "category",
        "description",
        "quantity",
        "unit_price",
        "subtotal",
        "tax",
        "tax_label",
        "total",
        "jurisdiction",
        "needed_by",
        "today",
        "cost_centre",
    }
)

# message key -> the extra values it may use
MESSAGES: dict[str, frozenset[str]] = {
    "over_transaction_limit": frozenset({"limit", "over", "max_pretax"}),
    "over_monthly_limit": frozenset({"limit", "spent", "remaining", "month", "scope"}),
    "not_in_force": frozenset({"rule", "date"}),
    "category_banned": frozenset({"reason", "alternative"}),
    "category_standing_offer": frozenset({"standing_offer", "how_to_order", "url"}),
    "category_over_cap": frozenset({"limit", "over"}),
    "category_extra_approval": frozenset({"levels"}),
    "payment_method_not_allowed": frozenset({"method", "allowed"}),
    "payment_reason_missing": frozenset({"method"}),
    "classification_not_allowed": frozenset({"classification", "allowed"}),
    "split_same_supplier": frozenset({"window_days", "combined", "limit", "purchases", "count"}),
    "split_same_requirement": frozenset({"window_days", "combined", "limit", "purchases", "count"}),
    "split_same_need_doubtful": frozenset({"window_days", "combined", "limit", "matches", "count"}),
    "split_attestation_needed": frozenset({"window_days", "purchases", "count"}),
    "split_attested": frozenset({"window_days", "purchases", "count"}),
    "sole_source_frequent": frozenset({"window_days", "count"}),
    "sole_source_over_value": frozenset({"window_days", "combined", "limit", "kind"}),
    "former_public_servant": frozenset({"levels"}),
    "needed_by_past": frozenset(),
    "needed_by_short_notice": frozenset({"days"}),
    "proactive_disclosure": frozenset({"threshold"}),
    "indigenous_recorded": frozenset({"target_percent"}),
    "indigenous_unknown": frozenset({"target_percent", "directory_url"}),
    "self_approval_rerouted": frozenset({"level", "to_level"}),
    "no_eligible_approver": frozenset({"level"}),
}

# A category requirement's own message (requirements:) can use the common values.
REQUIREMENT_VALUES = COMMON


def allowed_values(key: str) -> set[str]:
    return set(COMMON | MESSAGES[key])
