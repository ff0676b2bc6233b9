"""Submitting through the workflow (workflow.submit), judged by the real ESDC pack: a new request
is stored with its route and audited; a blocked one, one in someone else's name, and a revision
of someone else's request or of a revision no longer current store nothing; a revision says what
changed and whether the approval holds (storage.binding)."""
from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import func, select, update

import storage
import workflow

from workflow_kit import AMINA, ESDC, KWAME, MARC, NADIA, ON, pens


def _submit(kit, data, *, requester=NADIA, revising=None, on: date = ON, **kwargs) -> workflow.Submitted:
    with kit.sessions.begin() as session:
        return workflow.submit(session, ESDC, data, on, requester=requester, revising=revising, **kwargs)


def _counts(kit):
    """(requests, audit entries) on record."""
    with kit.sessions() as session:
        return (session.scalar(select(func.count()).select_from(storage.PurchaseRequest)),
                session.scalar(select(func.count()).select_from(storage.AuditEntry)))


def _snapshot(kit, request_id):
    req = kit.get(request_id)
    return (req.status, req.revision, req.approval_step, req.supplier, req.total, req.answers)


def test_a_new_request_is_stored_with_its_route_and_audited(kit):
    submitted = _submit(kit, pens(), team_id="T0ESDC")
    req = kit.get(submitted.request_id)
    assert (submitted.reference, submitted.status, submitted.revision) == (req.reference, "submitted", 1)
    assert (req.requester, req.team_id, req.supplier, req.card_id) == (NADIA, "T0ESDC", "Staples", "ESDC-CARD-DS-01")
    assert req.total == submitted.evaluation.total
    assert submitted.request.requester == NADIA
    assert [(step["level"], step["approvers"]) for step in req.route] == [("manager", [AMINA])]
    assert (submitted.changes, submitted.still_approved, submitted.tell) == ({}, False, (AMINA,))
    with kit.sessions() as session:
        trail = session.execute(select(storage.AuditEntry.action, storage.AuditEntry.actor)
                                .where(storage.AuditEntry.request_id == req.id)
                                .order_by(storage.AuditEntry.id)).all()
    assert [tuple(row) for row in trail] == [("request.created", NADIA), ("request.submitted", NADIA)]
    assert kit.audit(req.id, "request.submitted")[0]["route"] == ["manager"]


def test_only_the_first_steps_approvers_are_told(kit):
    submitted = _submit(kit, pens(description="standing desk", unit_price="5500.00"))
    assert [step["approvers"] for step in kit.get(submitted.request_id).route] == [[AMINA], [MARC]]
    assert submitted.tell == (AMINA,)  # the first step waits; the director is asked after


def test_a_blocked_request_stores_nothing(kit):
    before = _counts(kit)
    with pytest.raises(workflow.BlockedRequest) as refused:
        _submit(kit, pens(needed_by="2026-11-01"))  # needed before today
    assert any(f.rule == "needed_by" for f in refused.value.evaluation.findings if f.severity == "block")
    assert _counts(kit) == before


def test_a_request_in_someone_elses_name_is_refused(kit):
    # Kwame asks, the answers name Nadia: nothing is filed in her name.
    before = _counts(kit)
    with pytest.raises(storage.NotAuthorized):
        _submit(kit, pens(requester=NADIA), requester=KWAME)
    assert _counts(kit) == before


def test_a_revision_of_ones_own_request_says_what_changed_and_goes_back(kit):
    request_id = kit.file(pens(description="standing desk", unit_price="5500.00"))
    kit.approve_all(request_id)
    approved = kit.get(request_id)
    assert (approved.status, [s["level"] for s in approved.route]) == ("approved", ["manager", "director"])
    # Issue 14: the total falls, but the route loses the director; the approval bound to that route
    # no longer stands.
    submitted = _submit(kit, pens(description="standing desk", unit_price="4000.00"),
                        revising=(request_id, approved.revision))
    req = kit.get(request_id)
    assert submitted.evaluation.total < approved.total
    assert (submitted.status, submitted.revision, submitted.still_approved) == ("submitted", approved.revision + 1,
                                                                                False)
    assert (req.status, req.revision, [s["level"] for s in req.route]) == ("submitted", submitted.revision,
                                                                           ["manager"])
    assert submitted.changes == {"unit_price": ["5500.00", "4000.00"]}
    assert submitted.tell == (AMINA,)
    assert kit.audit(request_id, "request.updated")[-1]["status"] == {"old": "approved", "new": "submitted"}


def test_a_lower_price_with_nothing_else_stays_approved_and_nobody_is_asked(kit):
    request_id = kit.file(pens())
    kit.approve_all(request_id)
    submitted = _submit(kit, pens(unit_price="79.99"), revising=(request_id, kit.get(request_id).revision))
    assert (submitted.status, submitted.still_approved, submitted.tell) == ("approved", True, ())
    assert submitted.changes == {"unit_price": ["89.99", "79.99"]}
    assert kit.get(request_id).status == "approved"


def test_a_revision_is_not_counted_in_its_own_spending_history(kit):
    # 5,650.00 on record from Staples this month; the revision at 5,537.00 would make 11,187.00
    # with itself, over the contract-splitting limit, if it counted itself.
    request_id = kit.file(pens(description="standing desk", unit_price="5000.00"))
    noon = datetime.combine(ON, time(12), tzinfo=workflow.zone(ESDC))  # stored on the day judged
    with kit.sessions.begin() as session:
        session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == request_id)
                        .values(created_at=noon, submitted_at=noon))
    submitted = _submit(kit, pens(description="standing desk", unit_price="4900.00"), revising=(request_id, 1))
    assert (submitted.status, submitted.revision) == ("submitted", 2)


def test_someone_elses_request_cannot_be_revised(kit):
    request_id = kit.file(pens())
    before, counts = _snapshot(kit, request_id), _counts(kit)
    with pytest.raises(storage.NotAuthorized):
        _submit(kit, pens(requester=KWAME, supplier="Attacker Ltd"), requester=KWAME, revising=(request_id, 1))
    assert (_snapshot(kit, request_id), _counts(kit)) == (before, counts)


def test_a_revision_in_the_requesters_name_by_someone_else_is_refused(kit):
    # Kwame sends answers naming Nadia for her own request: storage would see Nadia revising her
    # own request; the asker is checked first.
    request_id = kit.file(pens())
    before, counts = _snapshot(kit, request_id), _counts(kit)
    with pytest.raises(storage.NotAuthorized):
        _submit(kit, pens(supplier="Attacker Ltd"), requester=KWAME, revising=(request_id, 1))
    assert (_snapshot(kit, request_id), _counts(kit)) == (before, counts)


def test_a_stale_revision_is_refused(kit):
    request_id = kit.file(pens())
    _submit(kit, pens(unit_price="79.99"), revising=(request_id, 1))
    before, counts = _snapshot(kit, request_id), _counts(kit)
    with pytest.raises(storage.StaleRevision):
        _submit(kit, pens(supplier="Bureau en Gros"), revising=(request_id, 1))
    assert (_snapshot(kit, request_id), _counts(kit)) == (before, counts)


def test_a_cancelled_request_can_no_longer_be_revised(kit):
    request_id = kit.file(pens())
    with kit.sessions.begin() as session:
        storage.cancel_request(session, request_id, actor=NADIA, reason="no longer needed")
    before, counts = _snapshot(kit, request_id), _counts(kit)
    with pytest.raises(storage.InvalidTransition):
        _submit(kit, pens(supplier="Bureau en Gros"), revising=(request_id, 1))
    assert (_snapshot(kit, request_id), _counts(kit)) == (before, counts)


# --- contract splitting in other words (issue 19), with the history seeded through storage ------
CHAIRS_EARLIER = dict(description="Leather chairs for the Digital Service team", quantity=10,
                      unit_price="800.00")


def _seed_chairs(kit):
    """$8,000 (before tax) of chairs from Staples eight days before, approved."""
    from datetime import timedelta

    earlier = ON - timedelta(days=8)
    request_id = kit.file(pens(**CHAIRS_EARLIER, needed_by="2027-01-20"), on=earlier)
    kit.approve_all(request_id, on=earlier)
    with kit.sessions.begin() as session:  # submitted then, not at the clock of this test run
        session.execute(update(storage.PurchaseRequest).where(storage.PurchaseRequest.id == request_id)
                        .values(submitted_at=datetime.combine(earlier, time(15, 0), tzinfo=timezone.utc)))
    return kit.get(request_id)


def test_the_same_need_reworded_from_another_supplier_is_blocked(kit):
    earlier = _seed_chairs(kit)
    before = _counts(kit)
    with pytest.raises(workflow.BlockedRequest) as refused:
        _submit(kit, pens(description="Leather office chairs (Digital Service)", supplier="Grand & Toy",
                          quantity=3, unit_price="1000.00"))
    blocks = [f for f in refused.value.evaluation.findings if f.rule == "splitting.same_requirement"]
    assert [f.severity for f in blocks] == ["block"] and blocks[0].data["purchases"] == [earlier.reference]
    assert _counts(kit) == before


def test_a_doubtful_same_need_is_filed_with_a_warning_for_the_approver(kit):
    earlier = _seed_chairs(kit)
    submitted = _submit(kit, pens(description="Mesh chairs", supplier="Grand & Toy", quantity=3,
                                  unit_price="1000.00"))
    stored = kit.get(submitted.request_id)
    warnings = [f for f in stored.evaluation["findings"] if f["rule"] == "splitting.same_requirement"]
    assert [f["severity"] for f in warnings] == ["warn"]
    assert f"{earlier.reference}, $9,040.00 (Staples, " in warnings[0]["message"]
    assert stored.status == "submitted"
