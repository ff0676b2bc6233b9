"""Test data for storage tests (a module with a unique name, so importing it
never picks up another folder's conftest)."""

from decimal import Decimal

ONE_STEP_ROUTE = [
    {"level": "s32", "name": "Fund centre manager", "approvers": ["U_MGR"], "delegates": ["U_DELEGATE"]},
]
TWO_STEP_ROUTE = [
    {"level": "s32", "name": "Fund centre manager", "approvers": ["U_MGR"], "delegates": ["U_DELEGATE"]},
    {"level": "cfo", "name": "CFO branch", "approvers": ["U_CFO"], "delegates": []},
]


def request_fields(**overrides):
    fields = dict(
        requester="U_REQ",
        cost_centre="CC100",
        category="training",
        supplier="Acme Learning",
        description="Two seats on a course",
        subtotal=Decimal("100.00"),
        tax=Decimal("13.00"),
        total=Decimal("113.00"),
        answers={"quantity": "2", "unit_price": "50.00", "supplier": "Acme Learning"},
        evaluation={"ok": True, "findings": []},
        route=ONE_STEP_ROUTE,
        policy_version="esdc-2026.1",
    )
    fields.update(overrides)
    return fields
