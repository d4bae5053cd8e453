"""One way to paginate every list: ``await paginate(session, stmt, page)`` → Page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

PER_PAGE = 50


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def paginate(session: AsyncSession, stmt: Select[Any], page: int = 1, per_page: int = PER_PAGE) -> Page:
    total = int(await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    # Past the last page shows the last page (and keeps the OFFSET within what a database holds).
    page = min(max(1, page), max(1, -(-total // per_page)))
    rows = (await session.execute(stmt.limit(per_page).offset((page - 1) * per_page))).scalars().all()
    return Page(list(rows), page, per_page, total)
