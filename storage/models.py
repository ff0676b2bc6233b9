"""ORM models: the schema that migrations/versions/0001_initial.py creates."""

import json
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import declarative_base, validates

from .lifecycle import Status
from .types import Money, UTCDateTime, to_money, utcnow

# Fixed constraint names, so migrations and both backends agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Any: SQLAlchemy 1.4 ships no types, so the models' columns are Any to a type checker.
Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

GENESIS_HASH = "0" * 64


class PurchaseRequest(Base):
    __tablename__ = "purchase_requests"

    id = Column(Integer, primary_key=True, autoincrement=True)
    requester = Column(String(64), nullable=False, index=True)
    team_id = Column(String(64), nullable=True)
    cost_centre = Column(String(32), nullable=False, index=True)
    card_id = Column(String(64), nullable=True, index=True)
    category = Column(String(64), nullable=False)
    supplier = Column(String(200), nullable=False)
    title = Column(String(200), nullable=True)
    description = Column(Text, nullable=False)
    subtotal = Column(Money, nullable=False)
    tax = Column(Money, nullable=False)
    total = Column(Money, nullable=False)
    # The request exactly as the requester gave it (amounts as strings).
    answers = Column(JSON, nullable=False)
    # Snapshot of the policy engine's result when the request was (re)evaluated.
    evaluation = Column(JSON, nullable=False)
    # [{"level", "name", "approvers": [...], "delegates": [...]}, ...]
    route = Column(JSON, nullable=False)
    approval_step = Column(Integer, nullable=False, default=0)
    policy_version = Column(String(64), nullable=False)
    status = Column(String(32), nullable=False, index=True, default=Status.DRAFT.value)
    # Bumped whenever the answers change (and on resubmission), so decisions
    # made on an older revision are refused.
    revision = Column(Integer, nullable=False, default=1)
    approved_max_amount = Column(Money, nullable=True)
    amount_paid = Column(Money, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    submitted_at = Column(UTCDateTime, nullable=True)
    decided_at = Column(UTCDateTime, nullable=True)
    purchased_at = Column(UTCDateTime, nullable=True)
    received_at = Column(UTCDateTime, nullable=True)
    certified_at = Column(UTCDateTime, nullable=True)
    certified_by = Column(String(64), nullable=True)
    # The current approval post in Slack (channel id, message ts), updated in place later.
    approval_channel = Column(String(64), nullable=True)
    approval_ts = Column(String(32), nullable=True)

    @property
    def reference(self) -> Optional[str]:
        return None if self.id is None else f"MB-{self.id:06d}"

    @validates("subtotal", "tax", "total", "approved_max_amount", "amount_paid")
    def _validate_money(self, key, value):
        return None if value is None else to_money(value)

    def __repr__(self) -> str:
        return f"<PurchaseRequest {self.reference} {self.status} rev={self.revision}>"


class Decision(Base):
    __tablename__ = "decisions"
    # Second guard behind the conditional UPDATE: one decision per step per revision.
    __table_args__ = (UniqueConstraint("request_id", "revision", "step"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    request_id = Column(Integer, ForeignKey("purchase_requests.id"), nullable=False, index=True)
    revision = Column(Integer, nullable=False)
    step = Column(Integer, nullable=False)
    level = Column(String(64), nullable=False)
    approver = Column(String(64), nullable=False)
    # The absent approver a delegate acted for (comma-joined if the step had several).
    on_behalf_of = Column(String(255), nullable=True)
    outcome = Column(String(32), nullable=False)
    reason = Column(Text, nullable=True)
    fields_to_revisit = Column(JSON, nullable=True)
    max_amount = Column(Money, nullable=True)
    decided_at = Column(UTCDateTime, nullable=False, default=utcnow)

    @validates("max_amount")
    def _validate_money(self, key, value):
        return None if value is None else to_money(value)

    def __repr__(self) -> str:
        return f"<Decision {self.request_id} r{self.revision}s{self.step} {self.outcome} by {self.approver}>"


class AuditEntry(Base):
    """One link of the append-only, hash-chained audit log.

    The id is assigned from audit_head (not autoincrement) because it is part
    of the hashed content and gaps must mean deleted rows.
    """

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True, autoincrement=False)
    at = Column(UTCDateTime, nullable=False)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    request_id = Column(Integer, nullable=True, index=True)
    data = Column(Text, nullable=False)  # canonical JSON
    prev_hash = Column(String(64), nullable=False)
    hash = Column(String(64), nullable=False)

    @property
    def payload(self) -> Any:
        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} by {self.actor}>"


class AuditHead(Base):
    """Single row (id=1) holding the chain's tip; locked FOR UPDATE by each append."""

    __tablename__ = "audit_head"

    id = Column(Integer, primary_key=True, autoincrement=False)
    last_id = Column(Integer, nullable=False)
    last_hash = Column(String(64), nullable=False)


class ProcessedEvent(Base):
    """Slack event ids / action timestamps already handled (retries are dropped)."""

    __tablename__ = "processed_events"

    event_id = Column(String(255), primary_key=True)
    kind = Column(String(32), nullable=False)
    processed_at = Column(UTCDateTime, nullable=False, default=utcnow)


class PolicyVersion(Base):
    """Each policy text the engine evaluated against, so old evaluations stay explainable."""

    __tablename__ = "policy_versions"

    version = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    content = Column(Text, nullable=False)
    first_seen_at = Column(UTCDateTime, nullable=False, default=utcnow)


class UserPreference(Base):
    """What a person chose for themselves (the language they are served in), per Slack user."""

    __tablename__ = "user_preferences"

    user_id = Column(String(64), primary_key=True)
    language = Column(String(8), nullable=True)
    # Where the choice came from: "slack_locale", "conversation", "app_home".
    source = Column(String(32), nullable=True)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)


def _check_string_lengths(mapper, connection, target) -> None:
    # SQLite ignores VARCHAR lengths and PostgreSQL fails with a DataError;
    # refuse over-long values the same clear way on both.
    for column in mapper.columns:
        length = getattr(column.type, "length", None)
        if length is None or not isinstance(column.type, String):
            continue
        value = getattr(target, mapper.get_property_by_column(column).key, None)
        if isinstance(value, str) and len(value) > length:
            raise ValueError(
                f"{mapper.class_.__name__}.{column.key} is {len(value)} characters; "
                f"the limit is {length}"
            )


event.listen(Base, "before_insert", _check_string_lengths, propagate=True)
event.listen(Base, "before_update", _check_string_lengths, propagate=True)
