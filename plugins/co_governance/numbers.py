"""Per-tenant sequences: volunteer numbers, redemption and booking numbers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from plugins.co_governance.models import Counter

LOCAL = ZoneInfo("Asia/Shanghai")


async def bump(session: AsyncSession, key: str) -> int:
    """The next value of counter ``key``: one conditional UPDATE, an INSERT the first time (a
    concurrent first use that loses the insert goes back to the UPDATE)."""
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("the session is bound to no tenant")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
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


async def daily(session: AsyncSession, prefix: str, at: datetime) -> str:
    """``LF-20261207-0001``: a prefix, the local day and that day's sequence."""
    day = at.astimezone(LOCAL).strftime("%Y%m%d")
    return f"{prefix}-{day}-{await bump(session, f'{prefix}:{day}'):04d}"
