"""smart service: indicator rollups indexed by node path too (a grid's or a community's dashboard)

Revision ID: smart_service_0009
Revises: smart_service_0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "smart_service_0009"
down_revision: str | Sequence[str] | None = "smart_service_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ss_indicator_rollups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ss_indicator_rollups_dim_path", ["tenant_id", "dim", "node_path", "day"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ss_indicator_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_indicator_rollups_dim_path")
