"""Meta-tests over the whole schema, core's and every installed plugin's tables.

- Distributable by tenant (DESIGN "Scale beyond one machine"): every primary key, unique
  constraint and foreign key of a tenant-owned table includes ``tenant_id``, so a tenant's rows can
  live on one shard and no constraint has to look across shards.
- On PostgreSQL, every tenant-owned table has row-level security switched on and forced (the table
  owner is bound too) with core's tenant policy: a table a plugin forgets is a leak.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ForeignKeyConstraint, Table, UniqueConstraint, text

from core.db.base import Base, is_tenant_scoped
from core.db.engine import make_engine
from core.db.rls import POLICY

# Platform tables that carry a tenant_id but are read across tenants by design: the host-to-tenant
# map (read before a tenant is known) and the job queue the workers poll for every tenant.
PLATFORM_TABLES = {"tenant_domains", "jobs", "periodic_runs"}


def tenant_tables() -> list[Table]:
    tables = {m.local_table for m in Base.registry.mappers if is_tenant_scoped(m.class_)}
    return sorted((t for t in tables if isinstance(t, Table)), key=lambda t: t.name)


def test_a_table_with_tenant_id_is_tenant_owned_or_a_named_platform_table(migrated: Any) -> None:
    owned = {t.name for t in tenant_tables()}
    stray = sorted(t.name for t in Base.metadata.tables.values() if "tenant_id" in t.c and t.name not in owned)
    assert set(stray) <= PLATFORM_TABLES, f"tables with tenant_id that are not TenantScoped: {stray}"


def test_there_are_tenant_tables_from_core_and_plugins(migrated: Any) -> None:
    names = {t.name for t in tenant_tables()}
    assert {"users", "api_tokens", "grid_nodes"} <= names
    assert any(n.startswith("ss_") for n in names), "plugin tables are loaded too"


def _violations(table: Table) -> list[str]:
    out: list[str] = []
    if "tenant_id" not in {c.name for c in table.primary_key.columns}:
        out.append(f"{table.name}: primary key {[c.name for c in table.primary_key.columns]}")
    for con in table.constraints:
        cols = {c.name for c in con.columns}
        if isinstance(con, UniqueConstraint) and "tenant_id" not in cols:
            out.append(f"{table.name}: unique {sorted(cols)}")
        if isinstance(con, ForeignKeyConstraint):
            target = con.referred_table
            # The tenant's own row, and global reference tables (no tenant_id), are fine.
            if target.name != "tenants" and "tenant_id" in target.c and "tenant_id" not in cols:
                out.append(f"{table.name}: foreign key {sorted(cols)} -> {target.name}")
    for index in table.indexes:
        if index.unique and "tenant_id" not in {c.name for c in index.columns}:
            out.append(f"{table.name}: unique index {index.name}")
    return out


def test_every_key_of_a_tenant_table_includes_tenant_id(migrated: Any) -> None:
    bad = [v for t in tenant_tables() for v in _violations(t)]
    assert bad == [], "not distributable by tenant:\n" + "\n".join(bad)


def test_the_check_catches_a_global_unique(migrated: Any) -> None:
    """The check above can fail: a table shaped like the old api_tokens is reported."""
    from sqlalchemy import BigInteger, Column, MetaData, String

    t = Table(
        "probe",
        MetaData(),
        Column("tenant_id", BigInteger, primary_key=True),
        Column("id", BigInteger, primary_key=True),
        Column("token_hash", String(64)),
        UniqueConstraint("token_hash"),
    )
    assert _violations(t) == ["probe: unique ['token_hash']"]


async def test_every_tenant_table_forces_row_level_security(migrated: Any) -> None:
    if not migrated.database_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    engine = make_engine(migrated.migrate_database_url or migrated.database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                        " EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = :policy)"
                        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
                    ),
                    {"policy": POLICY},
                )
            ).all()
    finally:
        await engine.dispose()
    state = {name: (rls, force, policy) for name, rls, force, policy in rows}
    missing = [t.name for t in tenant_tables() if state.get(t.name) != (True, True, True)]
    assert missing == [], f"tenant tables without forced row-level security and its policy: {missing}"
