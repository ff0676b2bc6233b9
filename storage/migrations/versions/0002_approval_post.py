"""Where each request's approval post is, so the bot can update it later (an escalation, say)
without waiting for a click on it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("purchase_requests") as batch:
        batch.add_column(sa.Column("approval_channel", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("approval_ts", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("purchase_requests") as batch:
        batch.drop_column("approval_ts")
        batch.drop_column("approval_channel")
