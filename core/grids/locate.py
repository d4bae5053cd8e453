"""Which grid node a point lies in: the deepest node whose boundary holds it (geo.contains, with its
bounding-box prefilter), optionally only among nodes under the given path prefixes (a user's scope).

``area_at`` / ``area_at_or_root`` answer from a per-process cache of the tenant's bounded nodes
(id, path, depth, boundary and each polygon's bounding box), kept while the tenant's version stands
(core/tenancy/versioned.py; any write of a grid node moves it): a busy intake endpoint then pays no
database trip to place a report, and most boundaries are ruled out by a box test alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.grids import geo
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.tenancy import versioned

Box = tuple[float, float, float, float]
TENANTS_KEPT = 2_000  # per process; the least recently used go first


@dataclass(frozen=True)
class Area:
    """A grid node as the locator needs it: enough to file a report under (``id``, ``path``)."""

    id: int
    path: str
    depth: int
    boundary: dict[str, Any] | None = None
    boxes: tuple[Box, ...] = ()  # one per polygon (its outer ring)

    def holds(self, lon: float, lat: float) -> bool:
        if not any(b[0] <= lon <= b[2] and b[1] <= lat <= b[3] for b in self.boxes):
            return False
        return geo.contains(self.boundary, lon, lat)


@dataclass(frozen=True)
class Areas:
    """A tenant's bounded nodes, deepest first, and its root (the fallback for a point outside)."""

    bounded: tuple[Area, ...]
    root: Area | None

    def deepest(self, lon: float, lat: float, prefixes: list[str] | None = None) -> Area | None:
        for area in self.bounded:  # deepest first: the first that holds the point is the answer
            if prefixes is not None and not any(area.path.startswith(p) for p in prefixes):
                continue
            if area.holds(lon, lat):
                return area
        return None


_CACHE = versioned.VersionedCache(TENANTS_KEPT)


def watch(session_class: type[Session]) -> None:
    """A written grid node (boundary, move, new node) expires the tenant's cached areas everywhere."""
    versioned.watch(session_class, GridNode)


def _area(node: GridNode) -> Area:
    boxes = []
    for polygon in geo.polygons(node.boundary):
        if polygon and polygon[0]:
            xs, ys = [p[0] for p in polygon[0]], [p[1] for p in polygon[0]]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return Area(node.id, node.path, node.depth, node.boundary, tuple(boxes))


async def load_areas(db: AsyncSession) -> Areas:
    rows = await db.execute(select(GridNode).where(GridNode.boundary.is_not(None)))
    bounded = sorted((_area(n) for n in rows.scalars()), key=lambda a: (-a.depth, -a.id))
    root = (await db.execute(select(GridNode).order_by(GridNode.depth, GridNode.id).limit(1))).scalar_one_or_none()
    return Areas(tuple(bounded), Area(root.id, root.path, root.depth) if root is not None else None)


async def areas(db: AsyncSession, version: int) -> Areas:
    """The session's tenant's areas, from the process cache while ``version`` (the tenant's
    ``policy_version``) stands."""
    tenant_id = db.info["tenant_id"]
    found = _CACHE.get(tenant_id, "areas", version)
    if found is None:
        found = await load_areas(db)
        _CACHE.put(tenant_id, "areas", version, found)
    return found  # type: ignore[no-any-return]


async def area_at(
    db: AsyncSession, lon: float, lat: float, version: int, prefixes: list[str] | None = None
) -> Area | None:
    """The deepest node holding (lon, lat), or None (cached; see ``areas``)."""
    return (await areas(db, version)).deepest(lon, lat, prefixes)


async def area_at_or_root(db: AsyncSession, lon: float | None, lat: float | None, version: int) -> Area | None:
    """The deepest node holding the point; else (no point, or outside every boundary) the root."""
    known = await areas(db, version)
    found = known.deepest(lon, lat) if lon is not None and lat is not None else None
    return found or known.root


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
