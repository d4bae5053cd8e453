"""smart service: indicator marks copy the columns the indicators count (rollups are aggregated
from them; a dashboard adds the events changed since and takes away their marks), indexed by the
days they are counted on; the rollups are dropped to be rebuilt by the next pass

Revision ID: smart_service_0010
Revises: smart_service_0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liuzhi.api import rls

revision: str = "smart_service_0010"
down_revision: str | Sequence[str] | None = "smart_service_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("node_path", sa.String(length=1000), False),
    ("category_code", sa.String(length=32), False),
    ("handling_unit_id", sa.BigInteger(), True),
    ("assignee_user_id", sa.BigInteger(), True),
    ("state", sa.String(length=16), False),
    ("parked_from", sa.String(length=16), True),
    ("created_at", sa.DateTime(timezone=True), False),
    ("close_due_at", sa.DateTime(timezone=True), True),
    ("handle_due_at", sa.DateTime(timezone=True), True),
    ("closed_at", sa.DateTime(timezone=True), True),
    ("handled_at", sa.DateTime(timezone=True), True),
    ("rating", sa.Integer(), True),
    ("rework_count", sa.Integer(), False),
    ("extension_count", sa.Integer(), False),
)
_DAYS = ("created_day", "close_due_day", "handle_due_day")


def upgrade() -> None:
    # Marks without the copied columns cannot be aggregated: every district rebuilds at its next
    # pass (no state → a full rebuild; until then its dashboard counts from events).
    # each_tenant: under FORCE row-level security a migration's owner sees one district at a time.
    for _tenant in rls.each_tenant(op):
        for table in ("ss_indicator_state", "ss_indicator_rollups", "ss_indicator_marks"):
            op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("ss_indicator_marks", schema=None) as batch_op:
        for name, type_, nullable in _COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=nullable))
        for day in _DAYS:
            batch_op.create_index(f"ix_ss_indicator_marks_{day}", ["tenant_id", day], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ss_indicator_marks", schema=None) as batch_op:
        for day in _DAYS:
            batch_op.drop_index(f"ix_ss_indicator_marks_{day}")
        for name, _type, _nullable in reversed(_COLUMNS):
            batch_op.drop_column(name)
