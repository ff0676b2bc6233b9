"""Initial schema: purchase requests, decisions, the hash-chained audit log,
processed Slack events and policy versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Hand-reviewed: creates exactly the schema of storage/models.py (the tests
compare them). Column types are spelled out as their database types
(Money = BIGINT cents, UTCDateTime = timestamp with time zone) so this file
keeps working whatever happens to storage/types.py later.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

AUDIT_APPEND_ONLY = "audit_log is append-only: UPDATE and DELETE are not allowed"


def _money(name, nullable):
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _timestamp(name, nullable):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "purchase_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("requester", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("cost_centre", sa.String(length=32), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        _money("subtotal", False),
        _money("tax", False),
        _money("total", False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("approval_step", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        _money("approved_max_amount", True),
        _money("amount_paid", True),
        _timestamp("created_at", False),
        _timestamp("updated_at", False),
        _timestamp("submitted_at", True),
        _timestamp("decided_at", True),
        _timestamp("purchased_at", True),
        _timestamp("received_at", True),
        _timestamp("certified_at", True),
        sa.Column("certified_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_purchase_requests"),
    )
    for column in ("card_id", "cost_centre", "requester", "status"):
        op.create_index(f"ix_purchase_requests_{column}", "purchase_requests", [column])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=64), nullable=False),
        sa.Column("approver", sa.String(length=64), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("fields_to_revisit", sa.JSON(), nullable=True),
        _money("max_amount", True),
        _timestamp("decided_at", False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["purchase_requests.id"],
            name="fk_decisions_request_id_purchase_requests",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint(
            "request_id", "revision", "step", name="uq_decisions_request_id_revision_step"
        ),
    )
    op.create_index("ix_decisions_request_id", "decisions", ["request_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        _timestamp("at", False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_request_id", "audit_log", ["request_id"])

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    # The chain starts empty: appends lock and advance this single row.
    op.bulk_insert(audit_head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}])

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _timestamp("processed_at", False),
        sa.PrimaryKeyConstraint("event_id", name="pk_processed_events"),
    )

    op.create_table(
        "policy_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        _timestamp("first_seen_at", False),
        sa.PrimaryKeyConstraint("version", name="pk_policy_versions"),
    )

    _create_audit_triggers()


def _create_audit_triggers() -> None:
    # The application only ever INSERTs into audit_log; the database refuses
    # anything else, so changing history needs DDL rights (and still breaks the chain).
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{AUDIT_APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        raise NotImplementedError(f"append-only triggers for {dialect} are not written yet")


def _drop_audit_triggers() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def downgrade() -> None:
    _drop_audit_triggers()
    op.drop_table("policy_versions")
    op.drop_table("processed_events")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_request_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_decisions_request_id", table_name="decisions")
    op.drop_table("decisions")
    for column in ("status", "requester", "cost_centre", "card_id"):
        op.drop_index(f"ix_purchase_requests_{column}", table_name="purchase_requests")
    op.drop_table("purchase_requests")
