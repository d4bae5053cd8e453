"""Themed places — 睦邻文化主题楼道 and 主题公园 — at a node of the tree and a point on the map.

A place without its own point is drawn at the middle of its node's boundary (or the nearest
ancestor's that has one), so the map shows every place even before someone pins it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids import geo
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.civic_virtue.models import PLACE_KINDS, ThemedPlace

PHOTO_OWNER = "civic_virtue.place"
KIND_LABELS = {"stairwell": lazy("Themed stairwell"), "park": lazy("Themed park")}


@dataclass(frozen=True)
class PlaceInput:
    kind: str
    name: str
    node: GridNode
    theme: str = ""
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    opened_on: datetime | None = None


def _check_point(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise InvalidInput(lazy("Give both longitude and latitude, or neither."), field="lon")
    if lon is not None and lat is not None and not (73 <= lon <= 136 and 3 <= lat <= 54):
        raise InvalidInput(lazy("The point is not in China (longitude 73–136, latitude 3–54)."), field="lon")


async def add(session: AsyncSession, data: PlaceInput) -> ThemedPlace:
    if data.kind not in PLACE_KINDS:
        raise InvalidInput(lazy("Choose a themed stairwell or a themed park."), field="kind")
    name = data.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(lazy("A place needs a name of at most 100 characters."), field="name")
    _check_point(data.lon, data.lat)
    exists = await session.execute(
        select(ThemedPlace.id).where(ThemedPlace.node_id == data.node.id, ThemedPlace.name == name)
    )
    if exists.first() is not None:
        raise Conflict(lazy("This node already has a place of that name."))
    place = ThemedPlace(
        kind=data.kind,
        name=name,
        theme=data.theme.strip()[:100],
        description=data.description.strip()[:5000],
        node_id=data.node.id,
        node_path=data.node.path,
        lon=data.lon,
        lat=data.lat,
        opened_on=data.opened_on,
    )
    session.add(place)
    await session.flush()
    return place


async def get(session: AsyncSession, place_id: int) -> ThemedPlace:
    found = (await session.execute(select(ThemedPlace).where(ThemedPlace.id == place_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no place %(id)s."), id=place_id)
    return found


async def in_area(session: AsyncSession, prefixes: list[str], kind: str | None = None) -> list[ThemedPlace]:
    stmt = select(ThemedPlace).where(in_scope(ThemedPlace.node_path, prefixes))
    if kind in PLACE_KINDS:
        stmt = stmt.where(ThemedPlace.kind == kind)
    return list(
        (await session.execute(stmt.order_by(ThemedPlace.kind, ThemedPlace.node_path, ThemedPlace.name))).scalars()
    )


async def map_data(session: AsyncSession, prefixes: list[str], locale: str) -> dict[str, Any]:
    """GeoJSON for the map: the boundaries of the communities and grids with places (and of the
    nodes around them), and one point per place — from the place itself or its node's boundary."""
    places = await in_area(session, prefixes)
    node_ids = {p.node_id for p in places}
    paths = {p.node_path for p in places}
    ancestor_ids = {int(x) for path in paths for x in path.strip("/").split("/") if x}
    nodes = {
        n.id: n
        for n in (await session.execute(select(GridNode).where(GridNode.id.in_(ancestor_ids | node_ids)))).scalars()
    }
    features: list[dict[str, Any]] = []
    for n in nodes.values():
        if n.boundary and n.kind in ("subdistrict", "town", "community", "village", "grid"):
            features.append(
                {
                    "type": "Feature",
                    "geometry": n.boundary,
                    "properties": {"kind": "area", "level": n.kind, "name": n.label(locale)},
                }
            )
    for p in places:
        point = p.point()
        if point is None:
            middle = _node_point(nodes, p.node_path)
            if middle is None:
                continue
            # Unpinned places of one node would sit on one spot: fan them out a little, stably.
            spread = p.id % 97
            point = (middle[0] + (spread % 7 - 3) * 0.0008, middle[1] + (spread // 7 % 7 - 3) * 0.0006)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [point[0], point[1]]},
                "properties": {
                    "kind": p.kind,
                    "name": p.name,
                    "theme": p.theme,
                    "id": str(p.id),
                    "pinned": p.point() is not None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _node_point(nodes: dict[int, GridNode], path: str) -> tuple[float, float] | None:
    """The label point of the deepest node on ``path`` that has a boundary."""
    for raw in reversed([x for x in path.strip("/").split("/") if x]):
        n = nodes.get(int(raw))
        if n is not None and n.boundary:
            box = geo.bbox([n.boundary])
            if box is not None:
                return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    return None
