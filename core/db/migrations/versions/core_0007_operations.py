"""operations: per-tenant limits, per-tenant usage by day (RLS), nodes managed by the definition

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "core_0007"
down_revision: str | Sequence[str] | None = "core_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limits", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.alter_column("limits", server_default=None)

    with op.batch_alter_table("grid_nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("defined", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("grid_nodes", schema=None) as batch_op:
        batch_op.alter_column("defined", server_default=None)

    op.create_table(
        "usage_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("api_requests", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_usage_days")),
        sa.UniqueConstraint("tenant_id", "day", name=op.f("uq_usage_days_tenant_id_day")),
    )
    rls.enable(op, "usage_days")


def downgrade() -> None:
    op.drop_table("usage_days")
    with op.batch_alter_table("grid_nodes", schema=None) as batch_op:
        batch_op.drop_column("defined")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("limits")
