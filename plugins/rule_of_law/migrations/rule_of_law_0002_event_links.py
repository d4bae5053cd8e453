"""rule of law: a dispute keeps the smart-service event's number and page it is linked to

Revision ID: rule_of_law_0002
Revises: rule_of_law_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rule_of_law_0002"
down_revision: str | Sequence[str] | None = "rule_of_law_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rl_disputes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("event_href", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_rl_disputes_tenant_event", ["tenant_id", "event_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rl_disputes", schema=None) as batch_op:
        batch_op.drop_index("ix_rl_disputes_tenant_event")
        batch_op.drop_column("event_href")
        batch_op.drop_column("event_number")
