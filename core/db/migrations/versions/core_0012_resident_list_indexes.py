"""resident list indexes that answer a page without the table: (tenant, path) and (tenant, name, id)
carry the columns the list filters and sorts on

A page of the resident list takes the 50 first by name in a scope. With the plain indexes a grid
worker's page read every resident of the grid from the table (2,640 heap rows at 1M residents) to
sort them; with the listed columns in the index the page's ids come from the index alone and only
the 50 rows are read (``core.db.paging``). PostgreSQL only (INCLUDE); SQLite keeps the key columns.

Revision ID: core_0012
Revises: core_0008
Create Date: 2026-12-08 02:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "core_0012"
down_revision: str | Sequence[str] | None = "core_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_residents_tenant_path", table_name="residents")
    op.drop_index("ix_residents_tenant_name", table_name="residents")
    op.create_index(
        "ix_residents_tenant_path",
        "residents",
        ["tenant_id", "node_path"],
        postgresql_include=["name", "id", "status"],
    )
    op.create_index(
        "ix_residents_tenant_name",
        "residents",
        ["tenant_id", "name", "id"],
        postgresql_include=["node_path", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_residents_tenant_name", table_name="residents")
    op.drop_index("ix_residents_tenant_path", table_name="residents")
    op.create_index("ix_residents_tenant_name", "residents", ["tenant_id", "name"])
    op.create_index("ix_residents_tenant_path", "residents", ["tenant_id", "node_path"])
