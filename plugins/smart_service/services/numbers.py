"""Event numbers (``SL-20261127-0001``): the local date and that day's sequence, unique per tenant.

On PostgreSQL the number is taken outside the report's transaction (``take_counter``): one upsert
on a small pool of its own, committed by itself, so concurrent reports never queue on the counter's
row lock until the slowest of them commits. A report that then rolls back leaves a gap; numbers stay
unique. SQLite has one writer at a time anyway: there the counter moves inside the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.db.engine import DATABASE
from plugins.smart_service import sla
from plugins.smart_service.models import Counter
from plugins.smart_service.services.common import NUMBER_PREFIX


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def bump_counter(session: AsyncSession, key: str) -> int:
    """Increment the tenant's counter ``key`` and return the new value; safe under concurrency.

    ``UPDATE … SET value = value + 1 RETURNING value`` serialises concurrent callers on the row
    (PostgreSQL row lock, SQLite write lock); the first use of a key inserts it, and a concurrent
    first use that loses the insert (ON CONFLICT DO NOTHING) goes back to the UPDATE.
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("the session is bound to no tenant")
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    for _ in range(5):
        bumped = await session.execute(
            update(Counter)
            .where(Counter.key == key)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
            .execution_options(synchronize_session=False)
        )
        value = bumped.scalar_one_or_none()
        if value is not None:
            return int(value)
        inserted = await session.execute(
            insert(Counter)
            .values(tenant_id=tenant_id, id=new_id(), key=key, value=1)
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
            .returning(Counter.value)
        )
        if inserted.scalar_one_or_none() is not None:
            return 1
    raise RuntimeError(f"could not take a number from counter {key!r}")


async def take_counter(session: AsyncSession, key: str) -> int:
    """The tenant's counter ``key`` moved on by one, outside the caller's transaction on PostgreSQL
    (one upsert on ``Database.aside``'s connection, committed by itself: the row is locked for that
    statement only, not until the caller commits); inside it elsewhere (``bump_counter``). Unique, not gap-free: a
    caller that rolls back leaves its number unused."""
    database = session.info.get(DATABASE)
    tenant_id = session.info.get("tenant_id")
    if database is None or tenant_id is None or _dialect(session) != "postgresql":
        return await bump_counter(session, key)
    async with database.aside(tenant_id) as conn:
        value = await conn.scalar(
            pg_insert(Counter)
            .values(tenant_id=tenant_id, id=new_id(), key=key, value=1)
            .on_conflict_do_update(index_elements=["tenant_id", "key"], set_={"value": Counter.value + 1})
            .returning(Counter.value)
        )
    return int(value)


async def next_number(
    session: AsyncSession, now: datetime, prefix: str = NUMBER_PREFIX, calendar: sla.Calendar | None = None
) -> str:
    """``SL-20261127-0001``: the local date and that day's sequence, unique per tenant."""
    tz = (calendar or sla.DEFAULT_CALENDAR).tz
    day = now.astimezone(tz).strftime("%Y%m%d")
    n = await take_counter(session, f"event:{day}")
    return f"{prefix}-{day}-{n:04d}"
