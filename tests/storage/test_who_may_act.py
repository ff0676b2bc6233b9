"""Every state change checks who is asking, in storage, whichever process calls it: only the
requester files, revises, submits or cancels; one person never decides two steps of a revision;
a step's people can be brought up to date (reassign_step), audited."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from storage import (
    AuditEntry,
    NotAuthorized,
    SecondDecision,
    StaleDecision,
    cancel_request,
    create_request,
    escalate_step,
    get_request,
    reassign_step,
    record_decision,
    step_deciders,
    submit_request,
    update_request,
    verify_audit,
)

from storage_factories import ONE_STEP_ROUTE, TWO_STEP_ROUTE, request_fields


def _state(session_factory, request_id):
    with session_factory() as s:
        req = get_request(s, request_id)
        audit = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        return (req.status, req.revision, req.supplier, req.total, req.approval_step, req.route), audit


def _update(session, request_id, actor):
    return update_request(
        session, request_id, expected_revision=1, actor=actor, answers={"supplier": "Attacker Ltd"},
        subtotal=Decimal("100.00"), tax=Decimal("13.00"), total=Decimal("113.00"), evaluation={},
        route=ONE_STEP_ROUTE, policy_version="esdc-2026.1", supplier="Attacker Ltd")


CHANGES = {
    "revise": lambda s, rid, actor: _update(s, rid, actor),
    "submit": lambda s, rid, actor: submit_request(s, rid, actor=actor),
    "cancel": lambda s, rid, actor: cancel_request(s, rid, actor=actor, reason="not needed"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("actor", ["U_MGR", "U_SOMEONE", "U_REQ "])
def test_only_the_requester_changes_a_request(session_factory, new_request, change, actor):
    # A draft can be submitted, revised and cancelled by its requester: anyone else changes nothing.
    request_id = new_request(submit=False)
    before = _state(session_factory, request_id)
    with session_factory() as s:
        with pytest.raises(NotAuthorized, match="only the requester"):
            CHANGES[change](s, request_id, actor)
        s.commit()
    assert _state(session_factory, request_id) == before
    with session_factory.begin() as s:
        CHANGES[change](s, request_id, "U_REQ")  # the requester may


def test_nobody_files_in_someone_elses_name(session_factory):
    with session_factory() as s:
        with pytest.raises(NotAuthorized, match="name"):
            create_request(s, **request_fields(requester="U_VICTIM"), actor="U_ATTACKER")
        s.commit()
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_one_person_never_decides_two_steps_of_a_revision(session_factory, new_request):
    # The manager step is escalated to the director, who decides it in the manager's place; the
    # director may then not approve the director step too.
    route = [TWO_STEP_ROUTE[0], {"level": "director", "name": "Director", "approvers": ["U_DIR"], "delegates": []}]
    request_id = new_request(route=route)
    with session_factory.begin() as s:
        escalate_step(s, request_id, revision=1, step=0, level="director", people=["U_DIR"], actor="reminders")
        record_decision(s, request_id, revision=1, step=0, approver="U_DIR", outcome="approved")
    before = _state(session_factory, request_id)
    with session_factory() as s:
        with pytest.raises(SecondDecision, match="already decided step 1"):
            record_decision(s, request_id, revision=1, step=1, approver="U_DIR", outcome="approved")
        s.commit()
    assert _state(session_factory, request_id) == before
    with session_factory() as s:
        assert get_request(s, request_id).status == "submitted"


def test_a_decider_of_an_earlier_revision_may_decide_again(session_factory, new_request):
    request_id = new_request(route=TWO_STEP_ROUTE)
    with session_factory.begin() as s:
        record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="changes_requested")
    with session_factory.begin() as s:
        _update(s, request_id, "U_REQ")  # back for approval as revision 2
    with session_factory.begin() as s:
        req = get_request(s, request_id)
        assert (req.status, req.revision) == ("submitted", 2)
        record_decision(s, request_id, revision=2, step=0, approver="U_MGR", outcome="approved")


def test_reassign_step_gives_the_step_to_the_people_named_now(session_factory, new_request):
    request_id = new_request(route=TWO_STEP_ROUTE)
    with session_factory.begin() as s:
        escalate_step(s, request_id, revision=1, step=0, level="director", people=["U_DIR", "U_GONE"],
                      actor="reminders")
        req = reassign_step(s, request_id, revision=1, step=0, approvers=["U_MGR2"], delegates=[],
                            escalated_people=["U_DIR"], actor="microbuy:policy", why="policy v2")
        assert step_deciders(req.route[0]) == ["U_MGR2", "U_DIR"]
        assert req.route[0]["escalated_to"] == {"level": "director", "people": ["U_DIR"]}
        assert req.route[1] == TWO_STEP_ROUTE[1]
    with session_factory() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "route.reassigned")).scalar_one()
        assert entry.payload["before"] == ["U_MGR", "U_DELEGATE", "U_DIR", "U_GONE"]
        assert entry.payload["after"] == ["U_MGR2", "U_DIR"]
        assert verify_audit(s).ok
    with session_factory.begin() as s:
        with pytest.raises(NotAuthorized):
            record_decision(s, request_id, revision=1, step=0, approver="U_MGR", outcome="approved")
    with session_factory.begin() as s:
        record_decision(s, request_id, revision=1, step=0, approver="U_MGR2", outcome="approved")
        with pytest.raises(StaleDecision):  # step 1 is decided: it can no longer be reassigned
            reassign_step(s, request_id, revision=1, step=0, approvers=["U_X"], delegates=[],
                          escalated_people=[], actor="microbuy:policy", why="late")
