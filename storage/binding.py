"""What a section 32 approval binds to: the whole purchase, not an amount.

The approver signs for what is bought, from whom, why, on whose budget and card, for how much,
and by which route of approvers (ESDC Procurement Bulletin 2018-16: the approval is for that
specific transaction). A change to any of it is a new transaction to approve. The one change
that keeps an approval is a lower total: fewer of the same thing, or the same thing for less,
with nothing else changed.

The rule is an allow-list on purpose: an answer an admin adds to the dialogue tomorrow is
material until someone decides otherwise here.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Optional, Sequence

# Answers that may change, each only downwards, while the approval holds.
LOWERABLE_ANSWERS = ("quantity", "unit_price")
# Columns that follow from the answers and the policy rather than describe the purchase: the
# amounts are checked as a whole (the total must fall), the evaluation is the engine's reading.
DERIVED = frozenset({"subtotal", "tax", "total", "evaluation", "policy_version"})


def route_signature(route: Optional[Sequence[Mapping[str, Any]]]) -> list:
    """Who decides, step by step: the level, its approvers and delegates. Escalations and the
    names shown are left out (they are not a different route)."""
    return [(str(step.get("level")), tuple(step.get("approvers") or ()), tuple(step.get("delegates") or ()))
            for step in route or ()]


def _number(value: Any) -> Optional[Decimal]:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _lowered(change: Mapping[str, Any]) -> bool:
    old, new = _number(change.get("old")), _number(change.get("new"))
    return old is not None and new is not None and new <= old


def approval_holds(changes: Mapping[str, Mapping[str, Any]], *, old_total: Decimal, new_total: Decimal,
                   approved_max: Optional[Decimal], old_route: Sequence[Mapping[str, Any]],
                   new_route: Sequence[Mapping[str, Any]]) -> bool:
    """Whether an approved request keeps its approval after `changes`.

    `changes` maps each changed column (`supplier`, `cost_centre`, `route`, ...) or answer
    (`answers.<name>`) to {"old": ..., "new": ...}, as storage.update_request audits them.
    """
    if approved_max is None or not (new_total < old_total and new_total <= approved_max):
        return False
    if route_signature(old_route) != route_signature(new_route):
        return False
    for name, change in changes.items():
        if name in DERIVED or name == "route":  # the route was compared above, without escalations
            continue
        answer = name[len("answers."):] if name.startswith("answers.") else None
        if answer in LOWERABLE_ANSWERS and _lowered(change):
            continue
        return False
    return True
