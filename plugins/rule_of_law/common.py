"""What the use cases share: the district's calendar day, case numbers, errors."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.services import counters
from core.services.errors import Conflict, InvalidInput, NotFound, ServiceError, lazy
from plugins.rule_of_law.models import Counter

__all__ = ["Conflict", "InvalidInput", "NotFound", "ServiceError", "lazy", "local_day", "next_number", "utcnow"]

# Days are counted in the district's time: a case accepted at 23:30 Beijing time was accepted that day.
ZONE = ZoneInfo("Asia/Shanghai")


def local_day(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(ZONE).date()


async def next_number(session: AsyncSession, prefix: str, at: datetime | None = None) -> str:
    """``<prefix><year>-<seq>``: one counter row per prefix and year, moved on inside the caller's
    transaction (core's ``counters.bump``): case files are numbered without gaps, and the first
    case of a year no longer races another one to insert the row."""
    year = local_day(at).year
    return f"{prefix}{year}-{await counters.bump(session, Counter, f'{prefix}{year}'):05d}"


def clean(value: object, limit: int, field: str, required: bool = True) -> str:
    """A stripped text field of at most ``limit`` characters (the form shows the error at ``field``)."""
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(lazy("This field is required."), field=field)
    if len(text) > limit:
        raise InvalidInput(lazy("At most %(n)s characters."), field=field, n=limit)
    return text
