"""smart service: links to other pillars' records (ss_event_links, RLS); public category settings
and the residents' status note; 特急 limits; the supervisor beside the handling unit; the
handling clock's start

Revision ID: smart_service_0004
Revises: smart_service_0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "smart_service_0004"
down_revision: str | Sequence[str] | None = "smart_service_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Categories a district normally keeps off public outputs (the same words as
# plugins/smart_service/publicity.py NON_PUBLIC_WORDS; a migration does not import the plugin).
NON_PUBLIC_WORDS = ("纠纷", "群租", "治安", "矛盾", "信访", "涉稳", "涉黑", "吸毒", "家暴")


def upgrade() -> None:
    op.create_table(
        "ss_event_links",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("ref_number", sa.String(length=64), nullable=False),
        sa.Column("href", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["ss_events.tenant_id", "ss_events.id"],
            name=op.f("fk_ss_event_links_tenant_id_event_id_ss_events"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_event_links")),
        sa.UniqueConstraint("tenant_id", "kind", "ref_id", name=op.f("uq_ss_event_links_tenant_id_kind_ref_id")),
    )
    with op.batch_alter_table("ss_event_links", schema=None) as batch_op:
        batch_op.create_index("ix_ss_event_links_tenant_event", ["tenant_id", "event_id"], unique=False)
    rls.enable(op, "ss_event_links")

    with op.batch_alter_table("ss_categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("critical_time_limits", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("public_location_m", sa.Integer(), nullable=False, server_default="0"))
    categories = sa.table("ss_categories", sa.column("name_zh", sa.String), sa.column("public", sa.Boolean))
    # Under FORCE RLS each pass sees only that tenant's rows (on SQLite every pass sees all: harmless).
    for _tenant_id in rls.each_tenant(op):
        for word in NON_PUBLIC_WORDS:
            op.execute(categories.update().where(categories.c.name_zh.contains(word)).values(public=False))

    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supervisor_unit_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("supervisor_level", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handle_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("close_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_ss_events_tenant_close_due", ["tenant_id", "close_due_at"], unique=False)
        batch_op.create_index("ix_ss_events_tenant_handle_due", ["tenant_id", "handle_due_at"], unique=False)
        batch_op.add_column(sa.Column("public_note", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(
            op.f("fk_ss_events_tenant_id_supervisor_unit_id_ss_handling_units"),
            "ss_handling_units",
            ["tenant_id", "supervisor_unit_id"],
            ["tenant_id", "id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("ss_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_ss_events_tenant_id_supervisor_unit_id_ss_handling_units"), type_="foreignkey"
        )
        batch_op.drop_index("ix_ss_events_tenant_handle_due")
        batch_op.drop_index("ix_ss_events_tenant_close_due")
        batch_op.drop_column("public_note")
        batch_op.drop_column("handled_at")
        batch_op.drop_column("close_due_at")
        batch_op.drop_column("handle_due_at")
        batch_op.drop_column("dispatched_at")
        batch_op.drop_column("supervisor_level")
        batch_op.drop_column("supervisor_unit_id")
    with op.batch_alter_table("ss_categories", schema=None) as batch_op:
        batch_op.drop_column("public_location_m")
        batch_op.drop_column("public")
        batch_op.drop_column("critical_time_limits")
    with op.batch_alter_table("ss_event_links", schema=None) as batch_op:
        batch_op.drop_index("ix_ss_event_links_tenant_event")
    op.drop_table("ss_event_links")
