"""Approval decisions: routing, separation of duties, delegates, stale buttons."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import (
    AuditEntry,
    Decision,
    NotAuthorized,
    NotFound,
    SelfApproval,
    StaleDecision,
    cancel_request,
    escalate_step,
    get_request,
    record_decision,
    step_deciders,
    update_request,
    verify_audit,
)

from storage_factories import ONE_STEP_ROUTE, TWO_STEP_ROUTE


def _decide(session_factory, request_id, **kwargs):
    fields = dict(revision=1, step=0, approver="U_MGR", outcome="approved")
    fields.update(kwargs)
    with session_factory.begin() as s:
        return record_decision(s, request_id, **fields)


def _counts(session_factory):
    with session_factory() as s:
        return (
            s.execute(select(func.count()).select_from(Decision)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def _refused(session_factory, request_id, exc, match=None, **kwargs):
    before_counts = _counts(session_factory)
    with session_factory() as s:
        before = get_request(s, request_id)
        state = (before.status, before.revision, before.approval_step, before.approved_max_amount)
    with pytest.raises(exc, match=match) as info:
        _decide(session_factory, request_id, **kwargs)
    with session_factory() as s:
        after = get_request(s, request_id)
        assert (after.status, after.revision, after.approval_step, after.approved_max_amount) == state
    assert _counts(session_factory) == before_counts
    return info.value


def test_multi_level_route(session_factory, new_request):
    request_id = new_request(route=TWO_STEP_ROUTE)

    first = _decide(session_factory, request_id, step=0, approver="U_MGR", reason="fine")
    assert not first.final
    assert (first.request.status, first.request.approval_step) == ("submitted", 1)
    assert first.request.approved_max_amount is None
    assert (first.decision.level, first.decision.step, first.decision.max_amount) == ("s32", 0, Decimal("113.00"))

    # The CFO clicking an old step-0 button is stale; so is the manager clicking again.
    error = _refused(session_factory, request_id, StaleDecision, step=0, approver="U_CFO")
    assert "already approved by U_MGR" in str(error)
    _refused(session_factory, request_id, StaleDecision, step=0, approver="U_MGR")
    # The manager is not on step 1.
    _refused(session_factory, request_id, NotAuthorized, step=1, approver="U_MGR")

    last = _decide(session_factory, request_id, step=1, approver="U_CFO")
    assert last.final
    assert last.request.status == "approved"
    assert last.request.approved_max_amount == Decimal("113.00")
    assert last.request.decided_at is not None

    with session_factory() as s:
        stored = get_request(s, request_id)
        assert (stored.status, stored.approved_max_amount) == ("approved", Decimal("113.00"))
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
        assert actions.count("decision.approved") == 2
        assert verify_audit(s).ok


def test_step_not_yet_open_is_stale(session_factory, new_request):
    request_id = new_request(route=TWO_STEP_ROUTE)
    error = _refused(session_factory, request_id, StaleDecision, step=1, approver="U_CFO")
    assert "waiting for approval step 1, not step 2" in str(error)


def test_self_approval_refused_even_when_routed(session_factory, new_request):
    route = [{"level": "s32", "name": "Manager", "approvers": ["U_REQ", "U_MGR"], "delegates": []}]
    request_id = new_request(route=route)
    for outcome in ("approved", "rejected"):
        _refused(session_factory, request_id, SelfApproval, approver="U_REQ", outcome=outcome)
    assert issubclass(SelfApproval, NotAuthorized)


def test_non_routed_user_refused(session_factory, new_request):
    request_id = new_request()
    _refused(session_factory, request_id, NotAuthorized, match="not an approver", approver="U_STRANGER")


def test_delegate_decision_records_on_behalf_of(session_factory, new_request):
    request_id = new_request()
    result = _decide(session_factory, request_id, approver="U_DELEGATE")
    assert result.final and result.request.status == "approved"
    assert (result.decision.approver, result.decision.on_behalf_of) == ("U_DELEGATE", "U_MGR")
    with session_factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "decision.approved")).scalar_one()
        assert (entry.actor, entry.payload["on_behalf_of"]) == ("U_DELEGATE", "U_MGR")


def test_delegate_cannot_claim_to_act_for_a_stranger(session_factory, new_request):
    request_id = new_request()
    _refused(session_factory, request_id, NotAuthorized, approver="U_DELEGATE", on_behalf_of="U_CEO")


def test_approver_deciding_directly_has_no_on_behalf_of(session_factory, new_request):
    request_id = new_request()
    assert _decide(session_factory, request_id, approver="U_MGR").decision.on_behalf_of is None


def _escalate(session_factory, request_id, **kwargs):
    fields = dict(revision=1, step=0, level="director", people=["U_DIR"], actor="microbuy")
    fields.update(kwargs)
    with session_factory.begin() as s:
        return escalate_step(s, request_id, **fields)


def test_an_escalated_step_can_be_decided_by_the_escalation_level(session_factory, new_request):
    request_id = new_request(route=TWO_STEP_ROUTE)
    _refused(session_factory, request_id, NotAuthorized, approver="U_DIR")
    req = _escalate(session_factory, request_id)
    assert req.route[0]["escalated_to"] == {"level": "director", "people": ["U_DIR"]}
    assert step_deciders(req.route[0]) == ["U_MGR", "U_DELEGATE", "U_DIR"]
    assert "escalated_to" not in req.route[1]  # only the waiting step
    with session_factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "decision.escalated")).scalar_one()
        assert entry.payload["to"] == ["U_DIR"] and entry.payload["to_level"] == "director"
    # Escalated to, not for the next step: the director may not decide step 1.
    result = _decide(session_factory, request_id, approver="U_DIR")
    assert (result.decision.approver, result.decision.on_behalf_of) == ("U_DIR", "U_MGR")
    _refused(session_factory, request_id, NotAuthorized, step=1, approver="U_DIR")
    assert verify_audit(session_factory()).ok


def test_escalating_twice_adds_people_once(session_factory, new_request):
    request_id = new_request()
    _escalate(session_factory, request_id)
    req = _escalate(session_factory, request_id, level="dg", people=["U_DIR", "U_DG"])
    assert req.route[0]["escalated_to"] == {"level": "dg", "people": ["U_DIR", "U_DG"]}


def test_a_decided_step_is_not_escalated(session_factory, new_request):
    request_id = new_request()
    _decide(session_factory, request_id)
    with pytest.raises(StaleDecision, match="already decided"):
        _escalate(session_factory, request_id)
    with session_factory() as s:
        assert "escalated_to" not in get_request(s, request_id).route[0]


def test_the_requester_cannot_decide_even_when_escalated_to(session_factory, new_request):
    request_id = new_request()
    with session_factory() as s:
        requester = get_request(s, request_id).requester
    _escalate(session_factory, request_id, people=[requester])
    _refused(session_factory, request_id, SelfApproval, approver=requester)


def test_reject_and_changes_requested(session_factory, new_request):
    rejected = new_request()
    result = _decide(session_factory, rejected, outcome="rejected", reason="not eligible")
    assert result.final and result.request.status == "rejected" and result.decision.reason == "not eligible"

    sent_back = new_request(route=TWO_STEP_ROUTE)
    result = _decide(session_factory, sent_back, outcome="changes_requested", fields_to_revisit=["supplier"])
    assert result.final and result.request.status == "changes_requested"
    assert result.decision.fields_to_revisit == ["supplier"]
    assert result.decision.max_amount is None


def test_decision_after_final_outcome_says_who_decided(session_factory, new_request):
    request_id = new_request()
    _decide(session_factory, request_id, outcome="rejected")
    error = _refused(session_factory, request_id, StaleDecision, approver="U_DELEGATE")
    assert "already decided: rejected by U_MGR" in str(error)


def test_decision_on_edited_request_is_stale(session_factory, new_request):
    request_id = new_request()
    with session_factory.begin() as s:
        update_request(
            s, request_id, expected_revision=1, actor="U_REQ", answers={"quantity": "3"},
            subtotal="150.00", tax="0.00", total="150.00", evaluation={}, route=ONE_STEP_ROUTE,
            policy_version="esdc-2026.1",
        )
    error = _refused(session_factory, request_id, StaleDecision, revision=1)
    assert "edited since" in str(error)
    assert _decide(session_factory, request_id, revision=2).request.approved_max_amount == Decimal("150.00")


def test_decision_on_cancelled_request_is_stale(session_factory, new_request):
    request_id = new_request()
    with session_factory.begin() as s:
        cancel_request(s, request_id, actor="U_REQ", reason="changed my mind")
    error = _refused(session_factory, request_id, StaleDecision)
    assert "cancelled" in str(error)


def test_check_order(session_factory, new_request):
    with pytest.raises(NotFound):
        _decide(session_factory, 999)
    request_id = new_request()
    _decide(session_factory, request_id)
    # Self-approval is reported before staleness; staleness before routing.
    _refused(session_factory, request_id, SelfApproval, approver="U_REQ")
    _refused(session_factory, request_id, StaleDecision, approver="U_STRANGER")


def test_bad_outcome_refused(session_factory, new_request):
    request_id = new_request()
    _refused(session_factory, request_id, ValueError, outcome="maybe")


def test_unique_constraint_is_a_second_guard(session_factory, new_request):
    request_id = new_request()
    _decide(session_factory, request_id)
    with session_factory() as s:
        s.add(Decision(request_id=request_id, revision=1, step=0, level="s32", approver="U_X", outcome="approved"))
        with pytest.raises(IntegrityError):
            s.flush()
