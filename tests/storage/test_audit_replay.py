"""Each request replayed from its audit trail (storage/audit_replay.py): every path of the
lifecycle agrees with what is stored, and a change made behind the application's back, which
writes no audit row, names the request it was made to."""

import os
from datetime import date
from decimal import Decimal

import pytest

from storage import (
    append_audit,
    cancel_request,
    certify_receipt,
    create_request,
    escalate_step,
    mark_purchased,
    mark_received,
    reassign_step,
    record_decision,
    submit_request,
    update_request,
    verify_audit,
)
from storage.audit_replay import Entry, check_requests, replay

from audit_kit import approved_then_more, hmac_with, rewrite, sql
from storage_factories import TWO_STEP_ROUTE, request_fields


def _edit(session, request_id, revision, **changes):
    fields = request_fields()
    values = dict(expected_revision=revision, actor="U_REQ", answers=fields["answers"], subtotal=fields["subtotal"],
                  tax=fields["tax"], total=fields["total"], evaluation=fields["evaluation"], route=fields["route"],
                  policy_version=fields["policy_version"])
    values.update(changes)
    return update_request(session, request_id, **values)


def _every_path(session_factory) -> dict:
    """One request down each path of the lifecycle, with every action storage writes."""
    ids = {}
    with session_factory.begin() as s:
        # draft, edited as a draft, submitted, approved in two steps (one escalated, one
        # reassigned), then a lower total that keeps the approval, purchased, received, certified
        r = create_request(s, **request_fields(route=TWO_STEP_ROUTE), submit=False)
        _edit(s, r.id, 1, route=TWO_STEP_ROUTE, supplier="Staples", description="Pens")
        submit_request(s, r.id, actor="U_REQ")
        escalate_step(s, r.id, revision=2, step=0, level="director", people=["U_DIR"], actor="system")
        record_decision(s, r.id, revision=2, step=0, approver="U_DIR", outcome="approved", on_behalf_of="U_MGR")
        route = reassign_step(s, r.id, revision=2, step=1, approvers=["U_CFO2"], delegates=[], escalated_people=[],
                              actor="system", why="the policy names someone else now").route
        record_decision(s, r.id, revision=2, step=1, approver="U_CFO2", outcome="approved", reason="fine")
        _edit(s, r.id, 2, route=route, supplier="Staples", description="Pens",
              answers={"quantity": "1", "unit_price": "50.00", "supplier": "Acme Learning"},
              subtotal="50.00", tax="6.50", total="56.50")
        mark_purchased(s, r.id, actor="U_REQ", amount_paid="55.00", purchased_on=date(2026, 11, 20))
        mark_received(s, r.id, actor="U_REQ", received_on=date(2026, 11, 22))
        certify_receipt(s, r.id, actor="U_MGR")
        ids["certified"] = r.id
        # changes requested, edited (back to submitted on a new revision), rejected
        r = create_request(s, **request_fields())
        record_decision(s, r.id, revision=1, step=0, approver="U_MGR", outcome="changes_requested",
                        reason="which course?", fields_to_revisit=["description"])
        _edit(s, r.id, 1, description="Two seats on the Python course")
        record_decision(s, r.id, revision=2, step=0, approver="U_MGR", outcome="rejected", reason="no budget")
        ids["rejected"] = r.id
        # approved, then dearer: back for approval, approved again
        r = create_request(s, **request_fields())
        record_decision(s, r.id, revision=1, step=0, approver="U_MGR", outcome="approved")
        _edit(s, r.id, 1, subtotal="200.00", tax="26.00", total="226.00")
        record_decision(s, r.id, revision=2, step=0, approver="U_MGR", outcome="approved")
        ids["approved"] = r.id
        # cancelled, and audit rows about it that change nothing (a reminder, a refused click)
        r = create_request(s, **request_fields(card_id="CARD-9"))
        append_audit(s, actor="system", action="reminder.sent", request_id=r.id, data={"revision": 1, "step": 0})
        append_audit(s, actor="U_X", action="decision.refused", request_id=r.id, data={"why": "not an approver"})
        cancel_request(s, r.id, actor="U_REQ", reason="bought elsewhere")
        ids["cancelled"] = r.id
        # a refused click on a request that does not exist
        append_audit(s, actor="U_X", action="decision.refused", request_id=9999, data={"why": "no such request"})
    return ids


def test_every_path_of_the_lifecycle_agrees_with_its_trail(session_factory):
    ids = _every_path(session_factory)
    with session_factory() as s:
        assert verify_audit(s).ok
        result = check_requests(s)
    assert (result.ok, result.requests_checked, result.problem) == (True, len(ids), None)


# The changes made behind the application's back: SQL, then what the report must name.
TAMPERING = {
    "certified without a word": ("UPDATE purchase_requests SET status = 'certified' WHERE id = :id",
                                 "status is 'certified' in purchase_requests, but its audit trail says 'approved'"),
    "total edited": ("UPDATE purchase_requests SET total = 99999 WHERE id = :id",
                     "total is 999.99 in purchase_requests, but its audit trail says 226.00"),
    "approved maximum raised": ("UPDATE purchase_requests SET approved_max_amount = 500000 WHERE id = :id",
                                "approved_max_amount is 5000.00 in purchase_requests, but its audit trail says 226.00"),
    "amount paid set": ("UPDATE purchase_requests SET amount_paid = 100 WHERE id = :id",
                        "amount_paid is 1.00 in purchase_requests, but its audit trail says empty"),
    "supplier changed": ("UPDATE purchase_requests SET supplier = 'Attacker Ltd' WHERE id = :id",
                         "supplier is 'Attacker Ltd' in purchase_requests, but its audit trail says 'Acme Learning'"),
    "cost centre changed": ("UPDATE purchase_requests SET cost_centre = '999999' WHERE id = :id",
                            "cost_centre is '999999' in purchase_requests"),
    "revision bumped": ("UPDATE purchase_requests SET revision = 3 WHERE id = :id",
                        "revision is 3 in purchase_requests, but its audit trail says 2"),
    "decision deleted": ("DELETE FROM decisions WHERE id = (SELECT max(id) FROM decisions WHERE request_id = :id)",
                         "audit row {row} records a decision on revision 2 step 1 (approved by U_MGR), "
                         "but the decisions table has none"),
    "decision's approver changed": ("UPDATE decisions SET approver = 'U_CFO' WHERE request_id = :id AND revision = 2",
                                    "its decision on revision 2 step 1: approver is 'U_CFO' in decisions"),
    "decision added": ("INSERT INTO decisions (request_id, revision, step, level, approver, outcome, decided_at) "
                       "VALUES (:id, 3, 0, 's32', 'U_MGR', 'approved', '2026-11-20 10:00:00')",
                       "the decisions table has a decision on revision 3 step 1 (approved by U_MGR) that its "
                       "audit trail does not record"),
}


@pytest.mark.parametrize("tamper", TAMPERING)
def test_a_change_behind_the_applications_back_names_the_request(db_engine, session_factory, tamper):
    ids = _every_path(session_factory)
    statement, expected = TAMPERING[tamper]
    target = ids["approved"]
    with db_engine.connect() as connection:
        row = connection.exec_driver_sql(
            f"SELECT max(id) FROM audit_log WHERE request_id = {target} AND action = 'decision.approved'").scalar_one()
    sql(db_engine, statement, id=target)
    with session_factory() as s:
        assert verify_audit(s).ok  # the log itself is untouched
        result = check_requests(s)
    assert (result.ok, result.request_id, result.reference) == (False, target, f"MB-{target:06d}")
    assert expected.format(row=row) in result.problem
    # the requests before it in id order agreed
    assert result.requests_checked == sum(1 for i in ids.values() if i < target)


def test_an_insider_with_the_key_rewriting_the_approval_is_caught_by_the_replay(db_engine, session_factory):
    # The full tamper of test_audit_tamper.py, re-sealed with the right key: the chain checks out,
    # but the approval it records is not the decision stored.
    approved_row = approved_then_more(session_factory)
    rewrite(db_engine, hmac_with(os.environ["MICROBUY_AUDIT_KEY"]), edit_id=approved_row, actor="U_CFO")
    with session_factory() as s:
        assert verify_audit(s).ok
        result = check_requests(s)
    assert (result.ok, result.reference) == (False, "MB-000001")
    assert result.problem == ("its decision on revision 1 step 1: approver is 'U_MGR' in decisions, "
                              f"but audit row {approved_row} says 'U_CFO'")


def test_a_request_with_no_trail_or_a_trail_with_no_request_is_named(db_engine, session_factory):
    ids = _every_path(session_factory)
    sql(db_engine, "INSERT INTO purchase_requests (id, requester, cost_centre, category, supplier, description, "
                   "subtotal, tax, total, answers, evaluation, route, approval_step, policy_version, status, revision, "
                   "created_at, updated_at) VALUES (500, 'U_REQ', 'CC100', 'training', 'Acme', 'x', 100, 13, 113, "
                   "'{}', '{}', '[]', 0, 'v1', 'approved', 1, '2026-11-01 10:00:00', '2026-11-01 10:00:00')")
    with session_factory() as s:
        result = check_requests(s)
    assert (result.ok, result.reference) == (False, "MB-000500")
    assert "no request.created" in result.problem

    sql(db_engine, "DELETE FROM purchase_requests WHERE id = 500",
        "DELETE FROM decisions WHERE request_id = :id", "DELETE FROM purchase_requests WHERE id = :id",
        id=ids["cancelled"])
    with session_factory() as s:
        result = check_requests(s)
    assert (result.ok, result.request_id) == (False, ids["cancelled"])
    assert "purchase_requests has no such request (deleted?)" in result.problem


# The replay is driven by the audit data: an action it does not model applies the diffs it
# carries, and one that carries none changes nothing.
def test_an_unknown_action_applies_its_diffs_and_is_otherwise_passed_over():
    created = Entry(1, "U_REQ", "request.created", {"requester": "U_REQ", "cost_centre": "CC100",
                                                     "subtotal": "100.00", "tax": "13.00", "total": "113.00"})
    submitted = Entry(2, "U_REQ", "request.submitted", {"revision": 1, "total": "113.00"})
    revised = Entry(3, "U_REQ", "request.revised_somehow", {
        "revision": {"old": 1, "new": 2}, "status": {"old": "submitted", "new": "submitted"},
        "changes": {"cost_centre": {"old": "CC100", "new": "CC300"}, "answers.cost_centre": {"old": "a", "new": "b"}}})
    noise = Entry(4, "system", "route.reassigned", {"revision": 2, "step": 0, "approvers": ["U_X"]})
    trail = replay(7, [created, submitted, revised, noise])
    assert {name: value for name, (value, _) in trail.fields.items()} == {
        "requester": "U_REQ", "cost_centre": "CC300", "subtotal": "100.00", "tax": "13.00", "total": "113.00",
        "status": "submitted", "revision": 2, "approval_step": 0, "approved_max_amount": None, "amount_paid": None}
    assert trail.fields["cost_centre"][1] == 3 and trail.created and not trail.decisions


def test_the_amounts_compare_as_money(session_factory, new_request):
    request_id = new_request(subtotal=Decimal("100"), tax=Decimal("13.0"), total=Decimal("113"))
    with session_factory() as s:
        assert check_requests(s).ok, request_id
