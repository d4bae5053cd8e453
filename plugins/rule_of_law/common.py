"""What the use cases share: the district's calendar day, case numbers, errors."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.services.errors import Conflict, InvalidInput, NotFound, ServiceError, lazy
from plugins.rule_of_law.models import Counter

__all__ = ["Conflict", "InvalidInput", "NotFound", "ServiceError", "lazy", "local_day", "next_number", "utcnow"]

# Days are counted in the district's time: a case accepted at 23:30 Beijing time was accepted that day.
ZONE = ZoneInfo("Asia/Shanghai")


def local_day(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(ZONE).date()


async def next_number(session: AsyncSession, prefix: str, at: datetime | None = None) -> str:
    """``<prefix><year>-<seq>``: one counter row per prefix and year, locked while it moves on."""
    year = local_day(at).year
    key = f"{prefix}{year}"
    row = (await session.execute(select(Counter).where(Counter.key == key).with_for_update())).scalar_one_or_none()
    if row is None:
        row = Counter(key=key, value=0)
        session.add(row)
    row.value += 1
    await session.flush()
    return f"{prefix}{year}-{row.value:05d}"


def clean(value: object, limit: int, field: str, required: bool = True) -> str:
    """A stripped text field of at most ``limit`` characters (the form shows the error at ``field``)."""
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(lazy("This field is required."), field=field)
    if len(text) > limit:
        raise InvalidInput(lazy("At most %(n)s characters."), field=field, n=limit)
    return text
