"""Slack event idempotency and policy version records."""

import pytest
from sqlalchemy import func, select

from storage import (
    AuditEntry,
    PolicyVersion,
    PolicyVersionConflict,
    ProcessedEvent,
    PurchaseRequest,
    claim_event,
    create_request,
    record_policy_version,
    release_event,
    verify_audit,
)

from storage_factories import request_fields


def _count(session_factory, model):
    with session_factory() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_claim_event_once_and_outer_transaction_still_commits(session_factory):
    with session_factory.begin() as s:
        assert claim_event(s, "Ev001", "event") is True
        assert claim_event(s, "Ev001", "event") is False  # Slack retry in the same transaction
        # The duplicate did not spoil the transaction: later work still commits.
        create_request(s, **request_fields())
    with session_factory.begin() as s:
        assert claim_event(s, "Ev001", "event") is False  # retry after commit
        assert claim_event(s, "1700000000.123456", "action") is True
    assert _count(session_factory, ProcessedEvent) == 2
    assert _count(session_factory, PurchaseRequest) == 1


def test_claim_is_undone_with_the_callers_rollback(session_factory):
    with session_factory() as s:
        assert claim_event(s, "Ev002", "event") is True
        s.rollback()  # the work failed, so the retry must be allowed to run
    with session_factory.begin() as s:
        assert claim_event(s, "Ev002", "event") is True


def test_a_committed_claim_can_be_released_for_the_next_attempt(session_factory):
    # A reminder's claim commits before its DM; when Slack refuses, releasing it lets the next run retry.
    with session_factory.begin() as s:
        assert claim_event(s, "remind:1:1:0", "reminder") is True
        assert claim_event(s, "remind:2:1:0", "reminder") is True
    with session_factory.begin() as s:
        assert release_event(s, "remind:1:1:0") is True
        assert release_event(s, "remind:1:1:0") is False  # nothing left to release
    with session_factory.begin() as s:
        assert claim_event(s, "remind:1:1:0", "reminder") is True
        assert claim_event(s, "remind:2:1:0", "reminder") is False  # the other claim is untouched
    with session_factory() as s:
        with pytest.raises(ValueError):
            release_event(s, "")


def test_claim_event_rejects_empty_ids(session_factory):
    with session_factory() as s:
        with pytest.raises(ValueError):
            claim_event(s, "", "event")


def test_record_policy_version_is_idempotent(session_factory):
    with session_factory.begin() as s:
        assert record_policy_version(s, version="esdc-2026.1", name="ESDC", content="limits: 10000") is True
        assert record_policy_version(s, version="esdc-2026.1", name="ESDC", content="limits: 10000") is False
    with session_factory.begin() as s:
        assert record_policy_version(s, version="esdc-2026.1", name="ESDC", content="limits: 10000") is False
        assert record_policy_version(s, version="esdc-2026.2", name="ESDC", content="limits: 15000") is True
    assert _count(session_factory, PolicyVersion) == 2
    with session_factory() as s:
        actions = s.execute(
            select(AuditEntry.action).where(AuditEntry.action == "policy.version_recorded")
        ).all()
        assert len(actions) == 2
        assert verify_audit(s).ok


def test_same_version_with_different_content_is_refused(session_factory):
    with session_factory.begin() as s:
        record_policy_version(s, version="v1", name="P", content="a")
    with session_factory() as s:
        with pytest.raises(PolicyVersionConflict):
            record_policy_version(s, version="v1", name="P", content="b")
    with session_factory() as s:
        assert s.get(PolicyVersion, "v1").content == "a"
