"""smart service: a partial index of open events in the inbox's sort order

Revision ID: smart_service_0006
Revises: smart_service_0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "smart_service_0006"
down_revision: str | Sequence[str] | None = "smart_service_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration keeps the predicate it was written with (models.OPEN_STATES).
OPEN = sa.text(
    "state IN ('reported', 'accepted', 'registered', 'dispatched', 'signed', 'handling', 'feedback', "
    "'inspecting', 'inspected', 'parked')"
)


def upgrade() -> None:
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ss_events_open_due",
            ["tenant_id", "due_at", "created_at", "id", "node_path"],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_events_open_due", postgresql_where=OPEN, sqlite_where=OPEN)
