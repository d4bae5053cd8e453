"""One page of a list's rows: the page's keys first, then only those rows.

``LIMIT 50 OFFSET n`` over a statement that selects whole rows makes the database fetch every row
it has to sort — a grid of 2,640 residents reads 2,640 rows from the table for a page of 50. Asking
for the keys alone lets an index that carries the filter and sort columns answer the sort without
the table (an index-only scan on PostgreSQL), then the 50 rows are read by key. Statements whose
rows depend on their columns (DISTINCT, GROUP BY, loader options), joins, and statements that do
not select one mapped entity with an ``id`` are run as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.counts import rows_only


async def page_rows(session: AsyncSession, stmt: Select[Any], limit: int, offset: int) -> Sequence[Any]:
    """The rows of ``stmt`` from ``offset``, at most ``limit``, in the statement's order."""
    return (await session.execute(page_statement(stmt, limit, offset))).scalars().all()


def page_statement(stmt: Select[Any], limit: int, offset: int) -> Select[Any]:
    """The statement that reads one page: by key where it can, else ``stmt`` limited."""
    entity = _entity(stmt)
    if entity is None or not rows_only(stmt) or not stmt._order_by_clauses:
        return stmt.limit(limit).offset(offset)
    keys = stmt.with_only_columns(entity.id, maintain_column_froms=True).limit(limit).offset(offset)
    # The outer statement keeps the order (IN does not); the ORM's tenant filter applies to both.
    return select(entity).where(entity.id.in_(keys.scalar_subquery())).order_by(*stmt._order_by_clauses)


def _entity(stmt: Select[Any]) -> Any:
    """The one mapped class the statement selects whole from its own table alone (a join may
    repeat a row, which keys would fold into one), if it has an ``id`` column; else None."""
    described = stmt.column_descriptions
    if len(described) != 1:
        return None
    entity = described[0].get("entity")
    if entity is None or described[0].get("expr") is not entity or not hasattr(entity, "id"):
        return None
    froms = stmt.get_final_froms()
    if len(froms) != 1 or froms[0] is not entity.__table__:
        return None
    return entity
