"""smart service: 预约代办 bookings (ss_bookings); RLS

Revision ID: smart_service_0003
Revises: smart_service_0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "smart_service_0003"
# 0002 is reserved for Open311 (written in parallel); if it lands, chain this after it.
down_revision: str | Sequence[str] | None = "smart_service_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ss_bookings",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("matter", sa.String(length=32), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("preferred_day", sa.Date(), nullable=False),
        sa.Column("applicant_user_id", sa.BigInteger(), nullable=True),
        sa.Column("applicant_name", sa.String(length=100), nullable=False),
        sa.Column("applicant_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("applicant_phone_masked", sa.String(length=16), nullable=True),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("taken_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "node_id"],
            ["grid_nodes.tenant_id", "grid_nodes.id"],
            name=op.f("fk_ss_bookings_tenant_id_node_id_grid_nodes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "applicant_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_ss_bookings_tenant_id_applicant_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_ss_bookings_tenant_id_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "taken_by_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_ss_bookings_tenant_id_taken_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_bookings")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_ss_bookings_tenant_id_number")),
    )
    with op.batch_alter_table("ss_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_ss_bookings_tenant_path", ["tenant_id", "node_path"], unique=False)
        batch_op.create_index("ix_ss_bookings_tenant_applicant", ["tenant_id", "applicant_user_id"], unique=False)
        batch_op.create_index("ix_ss_bookings_tenant_state_due", ["tenant_id", "state", "due_at"], unique=False)
    rls.enable(op, "ss_bookings")


def downgrade() -> None:
    with op.batch_alter_table("ss_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_bookings_tenant_state_due")
        batch_op.drop_index("ix_ss_bookings_tenant_applicant")
        batch_op.drop_index("ix_ss_bookings_tenant_path")
    op.drop_table("ss_bookings")
