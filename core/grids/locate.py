"""Which grid node a point lies in: the deepest node whose boundary holds it (geo.contains, with its
bounding-box prefilter), optionally only among nodes under the given path prefixes (a user's scope)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids import geo
from core.grids.models import GridNode
from core.rbac.scope import in_scope


async def node_at(db: AsyncSession, lon: float, lat: float, prefixes: list[str] | None = None) -> GridNode | None:
    """The deepest node holding (lon, lat), or None; ``prefixes`` limits the search to a scope."""
    stmt = select(GridNode).where(GridNode.boundary.is_not(None))
    if prefixes is not None:
        stmt = stmt.where(in_scope(GridNode.path, prefixes))
    rows = await db.execute(stmt)
    return geo.deepest_holding(rows.scalars(), lon, lat)


async def node_at_or_root(db: AsyncSession, lon: float | None, lat: float | None) -> GridNode | None:
    """The deepest node holding the point; else (no point, or outside every boundary) the district's root."""
    if lon is not None and lat is not None:
        found = await node_at(db, lon, lat)
        if found is not None:
            return found
    root = await db.execute(select(GridNode).order_by(GridNode.depth, GridNode.id).limit(1))
    return root.scalar_one_or_none()
