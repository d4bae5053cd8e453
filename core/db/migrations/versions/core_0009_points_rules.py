"""points rules: a district's rules for staff postings to the points ledger

Revision ID: core_0009
Revises: core_0005
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "core_0009"
down_revision: str | Sequence[str] | None = "core_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "points_rules",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('earn', 'deduct')", name=op.f("ck_points_rules_direction_known")),
        sa.CheckConstraint("max_amount > 0", name=op.f("ck_points_rules_positive_max")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_points_rules")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_points_rules_tenant_id_code")),
    )
    rls.enable(op, "points_rules")


def downgrade() -> None:
    op.drop_table("points_rules")
