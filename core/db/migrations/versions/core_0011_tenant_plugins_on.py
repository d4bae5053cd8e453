"""tenants.plugins_on: the tenant row mirrors its switched-on plugins for the job scheduler

The scheduler decides in one statement over every district which periodic jobs are due; it cannot
read ``tenant_plugins`` across districts (row-level security), so the platform-owned tenant row
carries the list (",a,b,"), kept in step by core.tenancy.plugins_on. An index on
periodic_runs.next_run_at lets each pass read only what is due.

Revision ID: core_0011
Revises: core_0010
Create Date: 2026-12-07 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0011"
down_revision: str | Sequence[str] | None = "core_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(sa.Column("plugins_on", sa.Text(), server_default="", nullable=False))
    op.create_index("ix_periodic_runs_next_run_at", "periodic_runs", ["next_run_at"])
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    for tenant_id in conn.execute(sa.text("SELECT id FROM tenants")).scalars().all():
        if pg:  # tenant_plugins forces row-level security, on its owner too: read as the tenant
            conn.execute(sa.text("SELECT set_config('liuzhi.tenant_id', :t, true)"), {"t": str(tenant_id)})
        on = sorted(
            conn.execute(
                sa.text("SELECT plugin FROM tenant_plugins WHERE tenant_id = :t AND enabled = :yes"),
                {"t": tenant_id, "yes": True},
            ).scalars()
        )
        conn.execute(
            sa.text("UPDATE tenants SET plugins_on = :p WHERE id = :t"),
            {"p": "".join(f",{p}" for p in on) + "," if on else "", "t": tenant_id},
        )
    if pg:
        conn.execute(sa.text("SELECT set_config('liuzhi.tenant_id', '', true)"))


def downgrade() -> None:
    op.drop_index("ix_periodic_runs_next_run_at", table_name="periodic_runs")
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("plugins_on")
