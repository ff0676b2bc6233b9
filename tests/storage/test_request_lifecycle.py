"""The lifecycle table, and the request functions that move requests along it."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from storage import (
    TRANSITIONS,
    AmountExceedsApproval,
    AuditEntry,
    InvalidTransition,
    NotAuthorized,
    NotFound,
    PurchaseRequest,
    SelfApproval,
    StaleRevision,
    Status,
    cancel_request,
    certify_receipt,
    check_transition,
    create_request,
    get_request,
    list_requests,
    mark_purchased,
    mark_received,
    record_decision,
    submit_request,
    update_request,
    verify_audit,
)

from storage_factories import ONE_STEP_ROUTE, TWO_STEP_ROUTE, request_fields

S = Status
EXPECTED = {
    (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.CANCELLED),
    (S.SUBMITTED, S.SUBMITTED), (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.CHANGES_REQUESTED), (S.SUBMITTED, S.CANCELLED),
    (S.CHANGES_REQUESTED, S.SUBMITTED), (S.CHANGES_REQUESTED, S.CANCELLED),
    (S.APPROVED, S.PURCHASED), (S.APPROVED, S.CANCELLED), (S.APPROVED, S.SUBMITTED),
    (S.PURCHASED, S.RECEIVED), (S.RECEIVED, S.CERTIFIED),
}


# ------------------------------------------------------------------ the table

def test_transition_table_is_exactly_the_specified_one():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == EXPECTED
    assert set(TRANSITIONS) == set(Status)


@pytest.mark.parametrize("current,new", sorted(itertools.product(Status, Status)))
def test_check_transition_every_pair(current, new):
    if (current, new) in EXPECTED:
        assert check_transition(current, new) is new
        assert check_transition(current.value, new.value) is new  # plain strings work too
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, new)


def test_unknown_status_is_refused():
    with pytest.raises(InvalidTransition, match="unknown"):
        check_transition("submitted", "paid")


# ------------------------------------------------------------------ helpers

def _snapshot(session_factory, request_id):
    """The request row and the audit log size, to prove a refusal changed nothing."""
    with session_factory() as session:
        req = get_request(session, request_id)
        row = {c.key: getattr(req, c.key) for c in PurchaseRequest.__table__.columns}
        audit = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        return row, audit


def _refused(session_factory, request_id, exc, call, match=None):
    before = _snapshot(session_factory, request_id)
    with session_factory() as session:
        with pytest.raises(exc, match=match):
            call(session)
        session.commit()  # even if the caller commits after catching, nothing was applied
    assert _snapshot(session_factory, request_id) == before


def _in_status(session_factory, new_request, status, **overrides):
    """A committed request brought to `status` through the public functions."""
    request_id = new_request(submit=status != S.DRAFT, **overrides)
    with session_factory.begin() as s:
        if status == S.APPROVED or status in (S.PURCHASED, S.RECEIVED, S.CERTIFIED):
            record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="approved")
        elif status in (S.REJECTED, S.CHANGES_REQUESTED):
            record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome=status.value)
        elif status == S.CANCELLED:
            cancel_request(s, request_id, actor="U_REQ", reason="no longer needed")
        if status in (S.PURCHASED, S.RECEIVED, S.CERTIFIED):
            mark_purchased(s, request_id, actor="U_REQ", amount_paid=Decimal("113.00"),
                           purchased_on=dt.date(2026, 3, 2))
        if status in (S.RECEIVED, S.CERTIFIED):
            mark_received(s, request_id, actor="U_REQ", received_on=dt.date(2026, 3, 5))
        if status == S.CERTIFIED:
            certify_receipt(s, request_id, actor="U_MGR")
    with session_factory() as s:
        assert get_request(s, request_id).status == status.value
    return request_id


def _for_each_status(session_factory, new_request, statuses, check):
    """Run `check(request_id)` on a request in each status (one database, to keep the suite fast)."""
    for status in statuses:
        request_id = _in_status(session_factory, new_request, status)
        try:
            check(request_id)
        except BaseException as exc:  # pytest.raises failures are not AssertionErrors
            pytest.fail(f"from status {status}: {exc}", pytrace=True)


# ------------------------------------------------------------------ create / get / list

def test_create_submitted_and_draft(session_factory):
    with session_factory.begin() as session:
        submitted = create_request(session, **request_fields())
        draft = create_request(session, **request_fields(submit=False))
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    assert submitted.reference == f"MB-{submitted.id:06d}"
    assert (submitted.revision, submitted.approval_step) == (1, 0)
    assert draft.status == "draft" and draft.submitted_at is None
    with session_factory() as session:
        actions = session.execute(
            select(AuditEntry.request_id, AuditEntry.action).order_by(AuditEntry.id)
        ).all()
        assert [tuple(a) for a in actions] == [
            (submitted.id, "request.created"), (submitted.id, "request.submitted"),
            (draft.id, "request.created"),
        ]
        assert verify_audit(session).ok


def test_create_validates_before_writing(session_factory):
    with session_factory() as session:
        with pytest.raises(ValueError, match="not subtotal"):
            create_request(session, **request_fields(total=Decimal("999.00")))
        with pytest.raises(ValueError, match="approver"):
            create_request(session, **request_fields(route=[{"level": "s32", "approvers": []}]))
        with pytest.raises(ValueError, match="no approval steps"):
            create_request(session, **request_fields(route=[]))
        with pytest.raises(ValueError, match="limit is 200"):
            create_request(session, **request_fields(supplier="x" * 201))
        session.commit()
        assert session.execute(select(func.count()).select_from(PurchaseRequest)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_answers_are_stored_as_plain_json(session_factory):
    with session_factory.begin() as session:
        req = create_request(session, **request_fields(answers={"unit_price": Decimal("50.00"),
                                                                "needed_by": dt.date(2026, 4, 1)}))
    assert req.answers == {"unit_price": "50.00", "needed_by": "2026-04-01"}
    with session_factory() as session:
        assert get_request(session, req.id).answers == {"unit_price": "50.00", "needed_by": "2026-04-01"}


def test_get_request_not_found(session_factory):
    with session_factory() as session:
        with pytest.raises(NotFound):
            get_request(session, 12345)
        with pytest.raises(NotFound):
            submit_request(session, 12345, actor="U_REQ")


def test_list_requests_newest_first_with_filters(session_factory, new_request):
    a = new_request()
    b = new_request(requester="U_OTHER")
    c = new_request(submit=False)
    with session_factory() as session:
        assert [r.id for r in list_requests(session)] == [c, b, a]
        assert [r.id for r in list_requests(session, requester="U_REQ")] == [c, a]
        assert [r.id for r in list_requests(session, statuses=[S.SUBMITTED])] == [b, a]
        assert [r.id for r in list_requests(session, statuses=["draft"], requester="U_REQ")] == [c]
        assert [r.id for r in list_requests(session, limit=1)] == [c]


# ------------------------------------------------------------------ submit

def test_submit_draft_and_resubmit_after_changes(session_factory, new_request):
    request_id = new_request(submit=False)
    with session_factory.begin() as session:
        req = submit_request(session, request_id, actor="U_REQ")
        assert (req.status, req.revision) == ("submitted", 1)
    _refused(session_factory, request_id, InvalidTransition,
             lambda s: submit_request(s, request_id, actor="U_REQ"))  # already submitted

    with session_factory.begin() as session:
        record_decision(session, request_id, revision=1, step=0, approver="U_MGR", outcome="changes_requested")
    with session_factory.begin() as session:
        req = submit_request(session, request_id, actor="U_REQ")
        # A new round on a new revision: the old round's buttons are stale.
        assert (req.status, req.revision, req.approval_step, req.decided_at) == ("submitted", 2, 0, None)


def test_submit_refused_from_other_statuses(session_factory, new_request):
    def check(request_id):
        _refused(session_factory, request_id, InvalidTransition,
                 lambda s: submit_request(s, request_id, actor="U_REQ"))

    _for_each_status(session_factory, new_request,
                     [S.APPROVED, S.REJECTED, S.CANCELLED, S.PURCHASED, S.RECEIVED, S.CERTIFIED], check)


# ------------------------------------------------------------------ update

def _edit(session, request_id, *, expected_revision, total="113.00", **overrides):
    total = Decimal(total)
    fields = dict(
        expected_revision=expected_revision, actor="U_REQ",
        answers={"quantity": "2", "unit_price": str(total / 2)},
        subtotal=total, tax=Decimal("0.00"), total=total,
        evaluation={"ok": True}, route=ONE_STEP_ROUTE, policy_version="esdc-2026.1",
    )
    fields.update(overrides)
    return update_request(session, request_id, **fields)


def test_update_bumps_revision_resets_step_and_audits_changes(session_factory, new_request):
    request_id = new_request(route=TWO_STEP_ROUTE)
    with session_factory.begin() as s:
        record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="approved")
        first_submitted = get_request(s, request_id).submitted_at
    with session_factory.begin() as s:
        req = _edit(s, request_id, expected_revision=1, total="120.00", supplier="Beta Training", route=TWO_STEP_ROUTE)
        assert (req.status, req.revision, req.approval_step) == ("submitted", 2, 0)
        assert req.supplier == "Beta Training"
        # The new revision waits from now: reminders count from its submission, not the first.
        assert req.submitted_at > first_submitted
    with session_factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "request.updated")).scalar_one()
        changes = entry.payload["changes"]
        assert changes["supplier"] == {"old": "Acme Learning", "new": "Beta Training"}
        assert changes["total"] == {"old": "113.00", "new": "120.00"}
        assert changes["answers.unit_price"] == {"old": "50.00", "new": "60.00"}
        assert entry.payload["revision"] == {"old": 1, "new": 2}
        assert verify_audit(s).ok


def test_update_with_stale_revision_is_refused(session_factory, new_request):
    request_id = new_request()
    with session_factory.begin() as s:
        _edit(s, request_id, expected_revision=1, total="100.00")
    _refused(session_factory, request_id, StaleRevision,
             lambda s: _edit(s, request_id, expected_revision=1, total="90.00"), match="revision 2")


def test_update_without_changes_keeps_revision(session_factory, new_request):
    request_id = new_request()
    with session_factory.begin() as s:
        _edit(s, request_id, expected_revision=1, total="100.00")
    with session_factory.begin() as s:
        req = _edit(s, request_id, expected_revision=2, total="100.00")
        assert req.revision == 2


def test_update_after_changes_requested_resubmits(session_factory, new_request):
    request_id = _in_status(session_factory, new_request, S.CHANGES_REQUESTED)
    with session_factory.begin() as s:
        req = _edit(s, request_id, expected_revision=1, total="100.00")
        assert (req.status, req.revision) == ("submitted", 2)


def test_update_of_draft_stays_draft(session_factory, new_request):
    request_id = new_request(submit=False)
    with session_factory.begin() as s:
        req = _edit(s, request_id, expected_revision=1, total="100.00")
        assert (req.status, req.revision, req.submitted_at) == ("draft", 2, None)


def test_approved_request_goes_back_for_approval_when_total_rises(session_factory, new_request):
    # Every other change is in test_approval_binding.py.
    request_id = _in_status(session_factory, new_request, S.APPROVED)
    with session_factory.begin() as s:
        req = _edit(s, request_id, expected_revision=1, total="100.00",  # cheaper, nothing else: still approved
                    answers={"quantity": "2", "unit_price": "50.00", "supplier": "Acme Learning"})
        assert (req.status, req.approved_max_amount) == ("approved", Decimal("113.00"))
    with session_factory.begin() as s:
        req = _edit(s, request_id, expected_revision=2, total="150.00")  # dearer: back for approval
        assert (req.status, req.revision, req.approval_step) == ("submitted", 3, 0)
        assert req.approved_max_amount is None
    with session_factory() as s:
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        assert entry.payload["status"] == {"old": "approved", "new": "submitted"}


def test_update_refused_once_closed(session_factory, new_request):
    def check(request_id):
        _refused(session_factory, request_id, InvalidTransition,
                 lambda s: _edit(s, request_id, expected_revision=1, total="100.00"))

    _for_each_status(session_factory, new_request,
                     [S.REJECTED, S.CANCELLED, S.PURCHASED, S.RECEIVED, S.CERTIFIED], check)


# ------------------------------------------------------------------ cancel

def test_only_the_requester_cancels_with_a_reason(session_factory, new_request):
    request_id = new_request()
    _refused(session_factory, request_id, NotAuthorized,
             lambda s: cancel_request(s, request_id, actor="U_MGR", reason="nope"))
    _refused(session_factory, request_id, ValueError,
             lambda s: cancel_request(s, request_id, actor="U_REQ", reason="  "))
    with session_factory.begin() as s:
        assert cancel_request(s, request_id, actor="U_REQ", reason="found it cheaper").status == "cancelled"
    with session_factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "request.cancelled")).scalar_one()
        assert entry.payload["reason"] == "found it cheaper"


def test_cancel_allowed_only_before_purchase(session_factory, new_request):
    def allowed(request_id):
        with session_factory.begin() as s:
            assert cancel_request(s, request_id, actor="U_REQ", reason="x").status == "cancelled"

    def refused(request_id):
        _refused(session_factory, request_id, InvalidTransition,
                 lambda s: cancel_request(s, request_id, actor="U_REQ", reason="x"))

    _for_each_status(session_factory, new_request,
                     [S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED], allowed)
    _for_each_status(session_factory, new_request,
                     [S.REJECTED, S.CANCELLED, S.PURCHASED, S.RECEIVED, S.CERTIFIED], refused)


# ------------------------------------------------------------------ purchase, receipt, certification

def test_purchase_receive_certify(session_factory, new_request):
    request_id = _in_status(session_factory, new_request, S.APPROVED)
    _refused(session_factory, request_id, NotAuthorized,
             lambda s: mark_purchased(s, request_id, actor="U_MGR", amount_paid="100.00",
                                      purchased_on=dt.date(2026, 3, 2)))
    _refused(session_factory, request_id, AmountExceedsApproval,
             lambda s: mark_purchased(s, request_id, actor="U_REQ", amount_paid="113.01",
                                      purchased_on=dt.date(2026, 3, 2)))
    _refused(session_factory, request_id, ValueError,
             lambda s: mark_purchased(s, request_id, actor="U_REQ", amount_paid=113.0,
                                      purchased_on=dt.date(2026, 3, 2)))
    _refused(session_factory, request_id, InvalidTransition,
             lambda s: mark_received(s, request_id, actor="U_REQ", received_on=dt.date(2026, 3, 3)))

    with session_factory.begin() as s:
        req = mark_purchased(s, request_id, actor="U_REQ", amount_paid="113.00", purchased_on=dt.date(2026, 3, 2))
        assert (req.status, req.amount_paid) == ("purchased", Decimal("113.00"))
        assert req.purchased_at == dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)

    _refused(session_factory, request_id, InvalidTransition,
             lambda s: certify_receipt(s, request_id, actor="U_MGR"))  # not received yet
    _refused(session_factory, request_id, NotAuthorized,
             lambda s: mark_received(s, request_id, actor="U_MGR", received_on=dt.date(2026, 3, 3)))
    with session_factory.begin() as s:
        assert mark_received(s, request_id, actor="U_REQ", received_on=dt.date(2026, 3, 3)).status == "received"

    _refused(session_factory, request_id, SelfApproval, lambda s: certify_receipt(s, request_id, actor="U_REQ"))
    _refused(session_factory, request_id, NotAuthorized, lambda s: certify_receipt(s, request_id, actor="U_RANDOM"))
    with session_factory.begin() as s:
        req = certify_receipt(s, request_id, actor="U_DELEGATE")  # delegates may certify
        assert (req.status, req.certified_by) == ("certified", "U_DELEGATE")
        assert req.certified_at is not None
    with session_factory() as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
        assert actions[-3:] == ["request.purchased", "request.received", "request.certified"]
        assert verify_audit(s).ok


def test_purchase_refused_without_approval(session_factory, new_request):
    def check(request_id):
        _refused(session_factory, request_id, InvalidTransition,
                 lambda s: mark_purchased(s, request_id, actor="U_REQ", amount_paid="1.00",
                                          purchased_on=dt.date(2026, 3, 2)))

    _for_each_status(session_factory, new_request,
                     [S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.REJECTED, S.CANCELLED, S.PURCHASED], check)


def test_failed_operation_leaves_callers_earlier_work_intact(session_factory, new_request):
    # The savepoint rolls back only the refused operation, not the caller's transaction.
    request_id = new_request()
    with session_factory.begin() as s:
        other = create_request(s, **request_fields(requester="U_OTHER"))
        with pytest.raises(NotAuthorized):
            cancel_request(s, request_id, actor="U_OTHER", reason="x")
    with session_factory() as s:
        assert get_request(s, other.id).status == "submitted"
        assert get_request(s, request_id).status == "submitted"
        assert verify_audit(s).ok
