"""Counts that stop early: "10,000+" where an exact count over a whole district buys nothing.

``count(*)`` over a list's statement reads every matching row; at a million rows that is most of
the page's time. ``capped_count`` counts at most ``cap + 1`` rows (a LIMIT inside the count), so
its cost is bounded by the cap, not by the table, and says whether there were more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

COUNT_CAP = 10_000


async def capped_count(session: AsyncSession, stmt: Select[Any], cap: int | None = COUNT_CAP) -> tuple[int, bool]:
    """(count, capped): the exact count when it is at most ``cap``, else (cap, True). ``cap=None``
    counts everything."""
    inner = stmt.order_by(None)
    if rows_only(inner):
        # The rows, not their columns: a constant instead of every column of the entity (at the cap,
        # building 10,001 rows of ~70 columns was half the count); the FROMs stay, and with them
        # the ORM's tenant criteria.
        inner = inner.with_only_columns(literal_column("1"), maintain_column_froms=True)
    if cap is not None:
        inner = inner.limit(cap + 1)
    n = int(await session.scalar(select(func.count()).select_from(inner.subquery())) or 0)
    if cap is not None and n > cap:
        return cap, True
    return n, False


def rows_only(stmt: Any) -> bool:
    """Whether the statement's columns can give way to a constant without changing its row count:
    not with DISTINCT or GROUP BY (the rows depend on the columns), nor with loader options (they
    name the entity the columns would no longer hold)."""
    return (
        isinstance(stmt, Select)
        and not stmt._distinct
        and not stmt._group_by_clauses
        and not stmt._having_criteria
        and not stmt._with_options
    )


def count_label(n: int, capped: bool) -> str:
    """``10,000+`` for a capped count, else the number with thousands separators."""
    return f"{n:,}+" if capped else f"{n:,}"
