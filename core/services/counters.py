"""Per-tenant counters: the next number of a sequence (event, case, booking numbers …).

A counter lives in a table of the caller's: any tenant-scoped model with a ``key`` and a ``value``
column, unique on (tenant, key) — each pillar keeps its own (its numbers move with its data, are
dropped with it, and need no migration of a shared table). Two ways to move one on:

- ``bump(session, Model, key)``: inside the caller's transaction. The row stays locked until the
  caller commits; a rollback takes the number back, so numbers are **gapless** — for sequences
  where a gap must be explained (case files, registers). Concurrent callers of one key queue.
- ``take(session, Model, key)``: on PostgreSQL one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
  on ``Database.aside``'s connection, committed by itself, so the row is locked for that statement
  only and concurrent reports never queue behind each other's transactions. Numbers are
  **unique, not gapless**: a caller that then rolls back leaves its number unused. Elsewhere
  (SQLite: one writer at a time anyway; a session no ``Database`` opened) it is ``bump``.

``daily_key(prefix, at, tz)`` names a counter that starts again each local day.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.db.engine import DATABASE

__all__ = ["bump", "daily_key", "take"]

ATTEMPTS = 5  # a first use lost to a concurrent one goes back to the UPDATE; never more than twice in practice


def _tenant(session: AsyncSession) -> int:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("the session is bound to no tenant")
    return int(tenant_id)


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def bump(session: AsyncSession, model: Any, key: str) -> int:
    """``key``'s next value in the session's tenant, inside the caller's transaction (gapless).

    ``UPDATE … SET value = value + 1 RETURNING value`` serialises concurrent callers on the row
    (PostgreSQL row lock, SQLite write lock) until each commits; the first use inserts the row, and
    a concurrent first use that loses the insert (ON CONFLICT DO NOTHING) goes back to the UPDATE.
    The session's tenant filter scopes the UPDATE; the insert stamps the tenant itself.
    """
    tenant_id = _tenant(session)
    for _ in range(ATTEMPTS):
        bumped = await session.execute(
            update(model)
            .where(model.key == key)
            .values(value=model.value + 1)
            .returning(model.value)
            .execution_options(synchronize_session=False)
        )
        value = bumped.scalar_one_or_none()
        if value is not None:
            return int(value)
        inserted = await session.execute(
            _insert(session)(model)
            .values(tenant_id=tenant_id, id=new_id(), key=key, value=1)
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
            .returning(model.value)
        )
        if inserted.scalar_one_or_none() is not None:
            return 1
    raise RuntimeError(f"could not take a number from counter {key!r}")


async def take(session: AsyncSession, model: Any, key: str) -> int:
    """``key``'s next value in the session's tenant, committed at once outside the caller's
    transaction on PostgreSQL (unique; a rollback of the caller leaves a gap); ``bump`` elsewhere."""
    tenant_id = _tenant(session)
    database = session.info.get(DATABASE)
    if database is None or session.get_bind().dialect.name != "postgresql":
        return await bump(session, model, key)
    table = model.__table__
    async with database.aside(tenant_id) as conn:  # the tenant is set on it: row-level security holds
        value = await conn.scalar(
            pg_insert(table)
            .values(tenant_id=tenant_id, id=new_id(), key=key, value=1)
            .on_conflict_do_update(index_elements=["tenant_id", "key"], set_={"value": table.c.value + 1})
            .returning(table.c.value)
        )
    return int(value)


def daily_key(prefix: str, at: datetime, tz: tzinfo) -> tuple[str, str]:
    """(counter key, local day ``YYYYMMDD``) for a sequence that starts again each day in ``tz``."""
    day = at.astimezone(tz).strftime("%Y%m%d")
    return f"{prefix}:{day}", day
