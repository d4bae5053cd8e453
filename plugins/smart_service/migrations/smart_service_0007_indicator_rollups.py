"""smart service: indicator rollups per day × node × group, the marks of what they hold of each
event and their state per district (rollups.py); events indexed by updated_at; RLS

Revision ID: smart_service_0007
Revises: smart_service_0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liuzhi.api import rls

revision: str = "smart_service_0007"
down_revision: str | Sequence[str] | None = "smart_service_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ss_indicator_marks",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.String(length=10), nullable=True),
        sa.Column("close_due_day", sa.String(length=10), nullable=True),
        sa.Column("handle_due_day", sa.String(length=10), nullable=True),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_indicator_marks")),
    )
    rls.enable(op, "ss_indicator_marks")
    op.create_table(
        "ss_indicator_rollups",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("group_key", sa.String(length=40), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("handle_due", sa.Integer(), nullable=False),
        sa.Column("handled_due", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("reworks", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_indicator_rollups")),
    )
    rls.enable(op, "ss_indicator_rollups")
    with op.batch_alter_table("ss_indicator_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_ss_indicator_rollups_dim_day", ["tenant_id", "dim", "day", "node_path"], unique=False)

    op.create_table(
        "ss_indicator_state",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("rolled_before", sa.String(length=10), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_indicator_state")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_ss_indicator_state_tenant_id_name")),
    )
    rls.enable(op, "ss_indicator_state")
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.create_index("ix_ss_events_tenant_updated", ["tenant_id", "updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_events_tenant_updated")

    op.drop_table("ss_indicator_state")
    with op.batch_alter_table("ss_indicator_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_indicator_rollups_dim_day")

    op.drop_table("ss_indicator_rollups")
    op.drop_table("ss_indicator_marks")
