"""field work: patrols with their route and findings, household visits, daily logs; idempotent
client submissions (a phone's offline queue sent twice writes once)

Revision ID: core_0008
Revises: core_0011
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import rls

revision: str = "core_0008"
down_revision: str | Sequence[str] | None = "core_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{target}"),
        ondelete=ondelete,
    )


def _keys() -> list[sa.Column]:
    return [sa.Column("tenant_id", sa.BigInteger(), nullable=False), sa.Column("id", sa.BigInteger(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "client_submissions",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        *_keys(),
        _fk("client_submissions", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_client_submissions")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", "client_id", name=op.f("uq_client_submissions_tenant_id_user_id_client_id")
        ),
    )
    op.create_table(
        "field_patrols",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("distance_m", sa.BigInteger(), nullable=False),
        sa.Column("point_count", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        *_keys(),
        _fk("field_patrols", "user_id", "users"),
        _fk("field_patrols", "node_id", "grid_nodes"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_field_patrols")),
    )
    op.create_index("ix_field_patrols_tenant_user", "field_patrols", ["tenant_id", "user_id", "started_at"])
    op.create_index("ix_field_patrols_tenant_path", "field_patrols", ["tenant_id", "node_path"])
    op.create_table(
        "field_patrol_points",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        *_keys(),
        _fk("field_patrol_points", "patrol_id", "field_patrols", "CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_field_patrol_points")),
        sa.UniqueConstraint("tenant_id", "patrol_id", "at", name=op.f("uq_field_patrol_points_tenant_id_patrol_id_at")),
    )
    op.create_table(
        "field_patrol_findings",
        sa.Column("patrol_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("href", sa.String(length=500), nullable=False),
        sa.Column("at", TS, nullable=False),
        *_keys(),
        _fk("field_patrol_findings", "patrol_id", "field_patrols", "CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_field_patrol_findings")),
        sa.UniqueConstraint("tenant_id", "source", "ref", name=op.f("uq_field_patrol_findings_tenant_id_source_ref")),
    )
    op.create_table(
        "field_visits",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("household_node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("visited_at", TS, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        *_keys(),
        _fk("field_visits", "user_id", "users"),
        _fk("field_visits", "household_node_id", "grid_nodes"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_field_visits")),
    )
    op.create_index("ix_field_visits_tenant_path", "field_visits", ["tenant_id", "node_path", "visited_at"])
    op.create_index("ix_field_visits_tenant_user", "field_visits", ["tenant_id", "user_id", "visited_at"])
    op.create_table(
        "field_logs",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("node_path", sa.String(length=1000), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        *_keys(),
        _fk("field_logs", "user_id", "users"),
        _fk("field_logs", "node_id", "grid_nodes"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_field_logs")),
    )
    op.create_index("ix_field_logs_tenant_path", "field_logs", ["tenant_id", "node_path", "day"])
    op.create_index("ix_field_logs_tenant_user", "field_logs", ["tenant_id", "user_id", "day"])
    rls.enable(
        op,
        "client_submissions",
        "field_patrols",
        "field_patrol_points",
        "field_patrol_findings",
        "field_visits",
        "field_logs",
    )


def downgrade() -> None:
    for table in (
        "field_logs",
        "field_visits",
        "field_patrol_findings",
        "field_patrol_points",
        "field_patrols",
        "client_submissions",
    ):
        op.drop_table(table)
