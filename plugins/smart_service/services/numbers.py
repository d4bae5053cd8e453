"""Event numbers (``SL-20261127-0001``): the local date and that day's sequence, unique per tenant.

The counters are core's (``core.services.counters``) on this pillar's table (``ss_counters``). An
event number is taken outside the report's transaction (``take``): on PostgreSQL one upsert on the
database's side connection, committed by itself, so concurrent reports never queue on the
counter's row lock until the slowest of them commits. A report that then rolls back leaves a gap;
numbers stay unique. SQLite has one writer at a time anyway: there the counter moves inside the
transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.services import counters
from plugins.smart_service import sla
from plugins.smart_service.models import Counter
from plugins.smart_service.services.common import NUMBER_PREFIX


async def bump_counter(session: AsyncSession, key: str) -> int:
    """The tenant's counter ``key`` moved on by one inside the caller's transaction (gapless)."""
    return await counters.bump(session, Counter, key)


async def take_counter(session: AsyncSession, key: str) -> int:
    """The tenant's counter ``key`` moved on by one, committed apart on PostgreSQL (unique, not
    gap-free: a caller that rolls back leaves its number unused)."""
    return await counters.take(session, Counter, key)


async def next_number(
    session: AsyncSession, now: datetime, prefix: str = NUMBER_PREFIX, calendar: sla.Calendar | None = None
) -> str:
    """``SL-20261127-0001``: the local date and that day's sequence, unique per tenant."""
    key, day = counters.daily_key("event", now, (calendar or sla.DEFAULT_CALENDAR).tz)
    n = await take_counter(session, key)
    return f"{prefix}-{day}-{n:04d}"
