"""PostgreSQL row-level security: the second wall behind the ORM filter.

Every tenant-owned table gets FORCE RLS and one policy comparing ``tenant_id`` with the
transaction-local setting ``liuzhi.tenant_id``; unset means no rows. The app connects as a
non-owner role without BYPASSRLS; the tenant is set per transaction in ``after_begin``
(a session-level SET would leak to the next user of a pooled connection).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

SETTING = "liuzhi.tenant_id"
POLICY = "tenant_isolation"


def enable_sql(table: str) -> list[str]:
    expr = f"tenant_id = NULLIF(current_setting('{SETTING}', true), '')::bigint"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}"',
        f'CREATE POLICY {POLICY} ON "{table}" USING ({expr}) WITH CHECK ({expr})',
    ]


def enable(op: Any, *tables: str) -> None:
    """For migrations: turn RLS on for tenant tables (no-op on SQLite)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        for stmt in enable_sql(table):
            op.execute(stmt)


def each_tenant(op: Any) -> Iterator[int]:
    """For a migration's data step on tenant tables: yields each tenant's id with the transaction's
    tenant setting pointing at it, so the step sees and changes that tenant's rows under FORCE row-level
    security even when migrations run as a non-superuser owner (on SQLite: just the ids)."""
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    for tenant_id in list(conn.execute(text("SELECT id FROM tenants")).scalars()):
        if pg:
            conn.execute(text("SELECT set_config(:k, :v, true)"), {"k": SETTING, "v": str(tenant_id)})
        yield tenant_id
    if pg:
        conn.execute(text("SELECT set_config(:k, '', true)"), {"k": SETTING})


def install(session_class: type[Session]) -> None:
    @event.listens_for(session_class, "after_begin")
    def _set_tenant(session: Session, transaction: Any, connection: Any) -> None:
        if connection.dialect.name != "postgresql" or transaction.nested:
            return  # a SAVEPOINT inherits the transaction's setting: no second round trip
        tenant_id = session.info.get("tenant_id")
        connection.execute(
            text("SELECT set_config(:k, :v, true)"),
            {"k": SETTING, "v": "" if tenant_id is None else str(tenant_id)},
        )
