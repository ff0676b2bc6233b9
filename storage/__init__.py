"""microbuy storage: purchase requests, approvals and the audit log in SQL.

Works on SQLite (default, `sqlite:///microbuy.db`) and PostgreSQL
(`DATABASE_URL`). Every function takes a Session and works inside the
caller's transaction; commit or roll back around it:

    engine = make_engine()
    Session = make_session_factory(engine)
    with Session.begin() as session:
        req = create_request(session, ...)

This package must not import policies, bot or dialogues.
"""

from .audit import AuditVerification, append_audit, verify_audit
from .db import database_url, make_engine, make_session_factory
from .decisions import DecisionResult, escalate_step, reassign_step, record_decision, step_deciders
from .errors import (
    AmountExceedsApproval,
    InvalidTransition,
    NotAuthorized,
    NotFound,
    PolicyVersionConflict,
    SecondDecision,
    SelfApproval,
    StaleDecision,
    StaleRevision,
    StorageError,
)
from .events import claim_event, release_event
from .history import CardLogRow, SpendingRecord, card_log, local_day, spending_day, spending_history
from .lifecycle import TRANSITIONS, Status, check_transition
from .migrate import current_revision, downgrade, upgrade
from .models import (
    AuditEntry,
    AuditHead,
    Base,
    Decision,
    PolicyVersion,
    ProcessedEvent,
    PurchaseRequest,
    UserPreference,
)
from .policy_versions import record_policy_version
from .preferences import get_language, set_language
from .requests import (
    cancel_request,
    certify_receipt,
    create_request,
    get_request,
    list_requests,
    mark_purchased,
    mark_received,
    set_approval_post,
    submit_request,
    update_request,
)
from .types import Money, UTCDateTime, to_money

__all__ = [
    # database
    "database_url", "make_engine", "make_session_factory",
    "upgrade", "downgrade", "current_revision",
    # models and types
    "Base", "PurchaseRequest", "Decision", "AuditEntry", "AuditHead", "ProcessedEvent",
    "PolicyVersion", "Money", "UTCDateTime", "to_money",
    # lifecycle
    "Status", "TRANSITIONS", "check_transition",
    # errors
    "StorageError", "NotFound", "InvalidTransition", "StaleDecision", "NotAuthorized",
    "SelfApproval", "SecondDecision", "AmountExceedsApproval", "StaleRevision", "PolicyVersionConflict",
    # requests
    "create_request", "get_request", "list_requests", "submit_request", "update_request",
    "cancel_request", "mark_purchased", "mark_received", "certify_receipt", "set_approval_post",
    # decisions
    "record_decision", "escalate_step", "reassign_step", "step_deciders", "DecisionResult",
    # audit
    "append_audit", "verify_audit", "AuditVerification",
    # events, history, policy versions
    "claim_event", "release_event", "SpendingRecord", "spending_history", "spending_day", "local_day",
    "CardLogRow", "card_log",
    "record_policy_version",
    # people's own choices
    "UserPreference", "get_language", "set_language",
]
