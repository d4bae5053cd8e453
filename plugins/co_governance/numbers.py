"""Per-tenant sequences: volunteer numbers, redemption and booking numbers.

Core's counters (``core.services.counters``) on this pillar's table (``cg_counters``), moved inside
the caller's transaction: these numbers are gapless (a rolled-back sign-up gives its number back).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.services import counters
from plugins.co_governance.models import Counter

LOCAL = ZoneInfo("Asia/Shanghai")


async def bump(session: AsyncSession, key: str) -> int:
    """The next value of counter ``key`` in the session's tenant (in the caller's transaction)."""
    return await counters.bump(session, Counter, key)


async def daily(session: AsyncSession, prefix: str, at: datetime) -> str:
    """``LF-20261207-0001``: a prefix, the local day and that day's sequence."""
    key, day = counters.daily_key(prefix, at, LOCAL)
    return f"{prefix}-{day}-{await bump(session, key):04d}"
