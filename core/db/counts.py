"""Counts that stop early: "10,000+" where an exact count over a whole district buys nothing.

``count(*)`` over a list's statement reads every matching row; at a million rows that is most of
the page's time. ``capped_count`` counts at most ``cap + 1`` rows (a LIMIT inside the count), so
its cost is bounded by the cap, not by the table, and says whether there were more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

COUNT_CAP = 10_000


async def capped_count(session: AsyncSession, stmt: Select[Any], cap: int | None = COUNT_CAP) -> tuple[int, bool]:
    """(count, capped): the exact count when it is at most ``cap``, else (cap, True). ``cap=None``
    counts everything."""
    inner = stmt.order_by(None)
    if cap is not None:
        inner = inner.limit(cap + 1)
    n = int(await session.scalar(select(func.count()).select_from(inner.subquery())) or 0)
    if cap is not None and n > cap:
        return cap, True
    return n, False


def count_label(n: int, capped: bool) -> str:
    """``10,000+`` for a capped count, else the number with thousands separators."""
    return f"{n:,}+" if capped else f"{n:,}"
