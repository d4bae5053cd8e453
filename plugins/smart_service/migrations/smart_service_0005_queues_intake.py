"""smart service: unit members (queues), work orders from 12345 / 上级交办 and the messages sent back,
followed areas; RLS

Revision ID: smart_service_0005
Revises: smart_service_0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "smart_service_0005"
# Chained after 0004 (public data, links and the SLA clock, merged from main).
down_revision: str | Sequence[str] | None = "smart_service_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ss_unit_members", "ss_work_orders", "ss_work_order_messages", "ss_area_follows")


def _keys(table: str) -> list[sa.Column]:
    return [sa.Column("tenant_id", sa.BigInteger(), nullable=False), sa.Column("id", sa.BigInteger(), nullable=False)]


def _fk(table: str, columns: list[str], remote: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", *columns],
        [f"{remote}.tenant_id", f"{remote}.id"],
        name=op.f(f"fk_{table}_tenant_id_{'_'.join(columns)}_{remote}"),
    )


def upgrade() -> None:
    op.create_table(
        "ss_unit_members",
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("duty", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_keys("ss_unit_members"),
        _fk("ss_unit_members", ["unit_id"], "ss_handling_units"),
        _fk("ss_unit_members", ["user_id"], "users"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_unit_members")),
        sa.UniqueConstraint(
            "tenant_id", "unit_id", "user_id", name=op.f("uq_ss_unit_members_tenant_id_unit_id_user_id")
        ),
    )
    op.create_index("ix_ss_unit_members_tenant_user", "ss_unit_members", ["tenant_id", "user_id"], unique=False)

    op.create_table(
        "ss_work_orders",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_number", sa.String(length=64), nullable=False),
        sa.Column("external_category", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=100), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluation", sa.String(length=16), nullable=True),
        sa.Column("evaluation_note", sa.Text(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_keys("ss_work_orders"),
        _fk("ss_work_orders", ["event_id"], "ss_events"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_work_orders")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_ss_work_orders_tenant_id_event_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "channel",
            "external_number",
            name=op.f("uq_ss_work_orders_tenant_id_channel_external_number"),
        ),
    )

    op.create_table(
        "ss_work_order_messages",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("adapter", sa.String(length=50), nullable=False),
        sa.Column("receipt", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_keys("ss_work_order_messages"),
        _fk("ss_work_order_messages", ["order_id"], "ss_work_orders"),
        _fk("ss_work_order_messages", ["event_id"], "ss_events"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_work_order_messages")),
    )
    op.create_index(
        "ix_ss_work_order_messages_tenant_event", "ss_work_order_messages", ["tenant_id", "event_id"], unique=False
    )

    op.create_table(
        "ss_area_follows",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_keys("ss_area_follows"),
        _fk("ss_area_follows", ["user_id"], "users"),
        _fk("ss_area_follows", ["node_id"], "grid_nodes"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ss_area_follows")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", "node_id", name=op.f("uq_ss_area_follows_tenant_id_user_id_node_id")
        ),
    )
    op.create_index("ix_ss_area_follows_tenant_path", "ss_area_follows", ["tenant_id", "node_path"], unique=False)
    rls.enable(op, *TABLES)


def downgrade() -> None:
    op.drop_index("ix_ss_area_follows_tenant_path", table_name="ss_area_follows")
    op.drop_table("ss_area_follows")
    op.drop_index("ix_ss_work_order_messages_tenant_event", table_name="ss_work_order_messages")
    op.drop_table("ss_work_order_messages")
    op.drop_table("ss_work_orders")
    op.drop_index("ix_ss_unit_members_tenant_user", table_name="ss_unit_members")
    op.drop_table("ss_unit_members")
