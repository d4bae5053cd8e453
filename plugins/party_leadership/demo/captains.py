"""网络楼长 over the communities' buildings (the demo adds the buildings the grid file lacks)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.models import GridNode
from plugins.party_leadership.demo.common import BUILDINGS, CAPTAINS, Demo, at
from plugins.party_leadership.models import Captain


async def add_captains(session: AsyncSession, d: Demo, nodes: Mapping[str, GridNode]) -> None:
    """网络楼长 over the communities' buildings; a building in a community without members keeps none."""
    buildings = await _add_buildings(session, d, nodes)
    captains = []
    for n, building in enumerate(buildings[:CAPTAINS]):
        community = next((c for c in d.communities if building.path.startswith(c.path)), None)
        people = d.by_community.get(community.path, []) if community else []
        if not people:
            continue
        member = people[n % len(people)]
        captains.append(
            Captain(
                node_id=building.id,
                node_path=building.path,
                member_id=member.id,
                group_link=f"https://work.weixin.qq.com/gm/{building.id:x}",
                contact=f"{member.name} 微信同号",
                claimed_at=at(member.reported_on, 11),
            )
        )
    session.add_all(captains)
    await session.flush()


async def _add_buildings(session: AsyncSession, d: Demo, nodes: Mapping[str, GridNode]) -> list[GridNode]:
    """The grid file's buildings, and as many more over the communities' grids as the demo needs."""
    grids = sorted((n for n in nodes.values() if n.kind == "grid"), key=lambda n: n.code)
    community_grids = [g for g in grids if any(g.path.startswith(c.path) for c in d.communities)]
    existing = [n for n in nodes.values() if n.kind == "building"]
    buildings: list[GridNode] = list(existing)
    per_grid: dict[int, int] = {}
    i = 0
    while len(buildings) < BUILDINGS:
        grid = community_grids[i % len(community_grids)]
        per_grid[grid.id] = per_grid.get(grid.id, 0) + 1
        n = per_grid[grid.id]
        node = GridNode(
            id=new_id(),
            code=f"{grid.code}-pl{n:02d}",
            kind="building",
            name=f"{grid.name.split('第')[0]}{n}号楼",
            name_en=f"Building {n}",
            parent_id=grid.id,
            depth=grid.depth + 1,
        )
        node.path = f"{grid.path}{node.id}/"
        buildings.append(node)
        i += 1
    session.add_all(b for b in buildings if b not in existing)
    await session.flush()
    return buildings
