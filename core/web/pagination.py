"""One way to paginate every list: ``await paginate(session, stmt, page)`` → Page.

Lists over a whole district (residents, events) pass ``cap``: the count stops at the cap and the
page says "10,000+" (``Page.total_label``) instead of reading every row to count it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.counts import COUNT_CAP, capped_count, count_label
from core.db.paging import page_rows

PER_PAGE = 50
__all__ = ["COUNT_CAP", "PER_PAGE", "Page", "paginate"]


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int
    capped: bool = False  # ``total`` is the cap: there are more

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_label(self) -> str:
        """The total as shown: ``1,234``, or ``10,000+`` when the count stopped at the cap."""
        return count_label(self.total, self.capped)


async def paginate(
    session: AsyncSession, stmt: Select[Any], page: int = 1, per_page: int = PER_PAGE, *, cap: int | None = None
) -> Page:
    total, capped = await capped_count(session, stmt, cap)
    # Past the last page shows the last page (and keeps the OFFSET within what a database holds).
    page = min(max(1, page), max(1, -(-total // per_page)))
    rows = await page_rows(session, stmt, per_page, (page - 1) * per_page)
    return Page(list(rows), page, per_page, total, capped)
