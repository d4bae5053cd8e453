"""example_pillar: notes table (tenant-owned, RLS on PostgreSQL)

Revision ID: example_0001
Revises:
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liuzhi.api import rls

revision: str = "example_0001"
down_revision: str | Sequence[str] | None = None
# The plugin's own branch, after core's tables exist (the foreign key points at users).
branch_labels: str | Sequence[str] | None = ("example_pillar",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "example_notes",
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "author_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_example_notes_tenant_id_author_id_users"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_example_notes")),
    )
    op.create_index("ix_example_notes_tenant_created", "example_notes", ["tenant_id", "created_at"], unique=False)
    rls.enable(op, "example_notes")


def downgrade() -> None:
    op.drop_index("ix_example_notes_tenant_created", table_name="example_notes")
    op.drop_table("example_notes")
