"""A section 32 approval binds to the whole purchase (storage.binding, storage.update_request).

Every case lowers the total, the one change that may keep an approval, and changes one more
thing: so only that thing can send the request back. The table must name every answer a
request has (policies.PurchaseRequest), so a field added tomorrow fails here until someone
decides what changing it means.
"""
from decimal import Decimal

import pytest
from sqlalchemy import select

from policies import PurchaseRequest as RequestModel
from storage import AuditEntry, Status, create_request, get_request, record_decision, update_request, verify_audit
from storage.binding import approval_holds

ROUTE = [{"level": "manager", "name": "Manager", "approvers": ["U_MGR"], "delegates": []}]
BASE = {
    "cost_centre": "100200", "category": "open_source_code_work", "description": "Fix the PDF export",
    "supplier": "Jane Dev", "quantity": 2, "unit_price": "500.00", "province": "ON",
    "needed_by": "2027-02-01", "data_classification": "unclassified", "payment_method": "acquisition_card",
    "justification": "Citizens cannot print their forms", "supplier_url": "https://jane.example",
    "supplier_former_public_servant": False, "supplier_indigenous": False, "supplier_small_business": True,
    "recurring": False, "attest_standalone": True, "attest_no_internal_capacity": True, "ip_agreement": True,
    "fixed_price": True, "remote_only": True, "licence": "MIT", "repository": "https://git.example/forms",
    "acceptance_criteria": "The export passes the form tests",
}
# One other value for every answer a request can have.
OTHER = {
    "cost_centre": "100300", "category": "training", "description": "Fix the PDF export and the CSV one",
    "supplier": "Attacker Ltd", "province": "QC", "needed_by": "2027-03-01",
    "data_classification": "protected_a", "payment_method": "paypal", "justification": "Because",
    "supplier_url": "https://attacker.example", "supplier_former_public_servant": True,
    "supplier_indigenous": True, "supplier_small_business": False, "payment_reason": "The supplier takes no cards",
    "card_id": "ESDC-CARD-OTHER", "recurring": True, "attest_standalone": False,
    "attest_no_internal_capacity": False, "ip_agreement": False, "fixed_price": False, "remote_only": False,
    "licence": "GPL-3.0", "repository": "https://git.example/other", "acceptance_criteria": "It compiles",
}
# Answers also kept in their own column (the approval post, the card log and the checks read them).
COLUMNS = ("cost_centre", "category", "description", "supplier", "card_id")
PRICE, LOWER_PRICE, TOTAL, LOWER_TOTAL = "500.00", "450.00", Decimal("1130.00"), Decimal("1017.00")


def test_the_table_names_every_answer_a_request_has():
    answers = set(RequestModel.__fields__) - {"requester", "title"}
    # quantity and unit_price have cases of their own below.
    assert set(OTHER) | {"quantity", "unit_price"} == answers


def _approved(session_factory) -> int:
    with session_factory.begin() as s:
        req = create_request(
            s, requester="U_REQ", cost_centre="100200", card_id="ESDC-CARD-DS-01", category=BASE["category"],
            supplier=BASE["supplier"], description=BASE["description"], subtotal=Decimal("1000.00"),
            tax=Decimal("130.00"), total=TOTAL, answers=BASE, evaluation={"outcome": "approval_required"},
            route=ROUTE, policy_version="v1")
        record_decision(s, req.id, revision=1, step=0, approver="U_MGR", outcome="approved")
        return req.id


def _revise(session_factory, request_id, *, answers, total=LOWER_TOTAL, route=ROUTE, **columns):
    subtotal = (total / Decimal("1.13")).quantize(Decimal("0.01"))
    with session_factory.begin() as s:
        req = update_request(
            s, request_id, expected_revision=1, actor="U_REQ", answers=answers, subtotal=subtotal,
            tax=total - subtotal, total=total, evaluation={"outcome": "approval_required", "total": str(total)},
            route=route, policy_version="v2", **columns)
        return req.status, req.revision, req.approved_max_amount


def _cases():
    cheaper = {**BASE, "unit_price": LOWER_PRICE}
    yield pytest.param({**cheaper}, {}, ROUTE, "approved", id="lower-unit-price-only")
    yield pytest.param({**BASE, "quantity": 1}, {}, ROUTE, "approved", id="fewer-of-the-same-only")
    yield pytest.param({**BASE, "quantity": 3, "unit_price": "300.00"}, {}, ROUTE, "submitted",
                       id="more-items-for-a-lower-total")
    yield pytest.param({**BASE, "quantity": 1, "unit_price": "900.00"}, {}, ROUTE, "submitted",
                       id="dearer-unit-for-a-lower-total")
    other_route = [{**ROUTE[0], "approvers": ["U_OTHER"]}]
    yield pytest.param(cheaper, {}, other_route, "submitted", id="route-other-approver")
    longer = ROUTE + [{"level": "director_general", "name": "DG", "approvers": ["U_DG"], "delegates": []}]
    yield pytest.param(cheaper, {}, longer, "submitted", id="route-grows")
    delegated = [{**ROUTE[0], "delegates": ["U_DELEGATE"]}]
    yield pytest.param(cheaper, {}, delegated, "submitted", id="route-new-delegate")
    for name, value in sorted(OTHER.items()):
        columns = {name: value} if name in COLUMNS else {}
        answers = {**cheaper, name: value} if name != "card_id" else cheaper
        yield pytest.param(answers, columns, ROUTE, "submitted", id=f"lower-and-{name}")
    yield pytest.param({k: v for k, v in cheaper.items() if k != "justification"}, {}, ROUTE, "submitted",
                       id="lower-and-an-answer-dropped")


@pytest.mark.parametrize("answers,columns,route,expected", list(_cases()))
def test_what_keeps_an_approval(session_factory, answers, columns, route, expected):
    request_id = _approved(session_factory)
    status, revision, approved_max = _revise(session_factory, request_id, answers=answers, route=route, **columns)
    assert (status, revision) == (expected, 2)
    # Kept: the approved maximum stays the amount signed for; sent back: nothing is approved.
    assert approved_max == (TOTAL if expected == "approved" else None)
    with session_factory() as s:
        req = get_request(s, request_id)
        for name, value in columns.items():
            assert getattr(req, name) == value  # every column follows the revision
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "request.updated")).scalar_one()
        if expected == "submitted":
            assert entry.payload["status"] == {"old": "approved", "new": "submitted"}
        else:
            assert "status" not in entry.payload
        assert verify_audit(s).ok


def test_a_total_that_does_not_fall_never_keeps_it(session_factory):
    request_id = _approved(session_factory)
    status, _, _ = _revise(session_factory, request_id, answers={**BASE, "unit_price": LOWER_PRICE}, total=TOTAL)
    assert status == Status.SUBMITTED.value


@pytest.mark.parametrize("old,new,holds", [
    ("500.00", "450.00", True), ("500.00", "500.00", True), ("500.00", "500.01", False),
    ("500.00", "about 450", False), (None, "450.00", False),
])
def test_a_lowerable_answer_must_not_rise(old, new, holds):
    changes = {"answers.unit_price": {"old": old, "new": new}, "total": {"old": "1130.00", "new": "1017.00"}}
    assert approval_holds(changes, old_total=TOTAL, new_total=LOWER_TOTAL, approved_max=TOTAL,
                          old_route=ROUTE, new_route=ROUTE) is holds


def test_an_escalation_on_the_old_route_is_not_a_route_change():
    escalated = [{**ROUTE[0], "escalated_to": {"level": "director", "people": ["U_DIR"]}}]
    changes = {"answers.unit_price": {"old": "500.00", "new": "450.00"}, "route": {"old": escalated, "new": ROUTE}}
    assert approval_holds(changes, old_total=TOTAL, new_total=LOWER_TOTAL, approved_max=TOTAL,
                          old_route=escalated, new_route=ROUTE)
