"""smart service: a partial index of open events by node path (a grid's or a community's inbox)

Revision ID: smart_service_0008
Revises: smart_service_0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "smart_service_0008"
down_revision: str | Sequence[str] | None = "smart_service_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, as in 0006: the migration keeps the predicate it was written with.
OPEN = sa.text(
    "state IN ('reported', 'accepted', 'registered', 'dispatched', 'signed', 'handling', 'feedback', "
    "'inspecting', 'inspected', 'parked')"
)


def upgrade() -> None:
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ss_events_open_path", ["tenant_id", "node_path"], unique=False, postgresql_where=OPEN, sqlite_where=OPEN
        )


def downgrade() -> None:
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_events_open_path", postgresql_where=OPEN, sqlite_where=OPEN)
