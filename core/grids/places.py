"""Where things are, as lists and forms show it: names along a node path, links to a household
or grid page, and the node and household choices a user may pick from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.access import EDIT, Viewer
from core.grids.models import GridNode
from core.rbac.scope import in_scope

HOUSEHOLD = "household"
PICKER_LIMIT = 200


async def nodes_by_id(session: AsyncSession, paths: list[str | None]) -> dict[int, GridNode]:
    """Every node along the given paths, by id (one query)."""
    ids = {int(part) for p in paths if p for part in p.strip("/").split("/") if part}
    if not ids:
        return {}
    rows = (await session.execute(select(GridNode).where(GridNode.id.in_(ids)))).scalars()
    return {n.id: n for n in rows}


def chain(path: str | None, nodes: dict[int, GridNode], locale: str, last: int | None = None) -> str:
    """Names along a node path, e.g. ``安顺乐居 › 1号楼 › 1单元 › 101`` (the last few for lists)."""
    if not path:
        return ""
    names = [nodes[int(i)].label(locale) for i in path.strip("/").split("/") if i and int(i) in nodes]
    if last is not None:
        names = names[-last:]
    return " › ".join(names)


def node_link(node_id: int | None, nodes: dict[int, GridNode]) -> str | None:
    """A household's own page; a resident attached to another kind of node (an import may do
    that) links to that node's grid page."""
    node = nodes.get(node_id) if node_id is not None else None
    if node is None:
        return None
    return f"/households/{node.id}" if node.kind == HOUSEHOLD else f"/grid/{node.id}"


async def node_options(session: AsyncSession, viewer: Viewer, action: str, locale: str) -> list[dict[str, Any]]:
    """Nodes in scope for a filter or a picker, top levels first (capped), shown in tree order."""
    stmt = (
        select(GridNode)
        .where(in_scope(GridNode.path, viewer.scope_prefixes(action)), GridNode.kind != HOUSEHOLD)
        .order_by(GridNode.depth, GridNode.path)
        .limit(PICKER_LIMIT)
    )
    rows = sorted((await session.execute(stmt)).scalars(), key=lambda n: n.path)
    base = min((n.depth for n in rows), default=0)
    return [{"id": n.id, "label": "\u3000" * (n.depth - base) + n.label(locale)} for n in rows]


async def household_options(session: AsyncSession, viewer: Viewer, locale: str, q: str = "") -> list[dict[str, Any]]:
    """Household nodes the user may move people into; ``q`` matches the household or any ancestor."""
    prefixes = viewer.scope_prefixes(EDIT)
    stmt = select(GridNode).where(GridNode.kind == HOUSEHOLD, in_scope(GridNode.path, prefixes))
    if q:
        matches = (
            (
                await session.execute(
                    select(GridNode.path)
                    .where(GridNode.name.icontains(q, autoescape=True), in_scope(GridNode.path, prefixes))
                    .limit(PICKER_LIMIT)
                )
            )
            .scalars()
            .all()
        )
        if not matches:
            return []
        stmt = stmt.where(in_scope(GridNode.path, list(matches)))
    rows = (await session.execute(stmt.order_by(GridNode.path).limit(PICKER_LIMIT))).scalars().all()
    nodes = await nodes_by_id(session, [n.path for n in rows])
    return [{"id": n.id, "label": chain(n.path, nodes, locale, last=4)} for n in rows]


async def household_node(session: AsyncSession, node_id: int | None) -> GridNode | None:
    """The 户 node with this id, or None (another kind of node is not a household)."""
    if node_id is None:
        return None
    stmt = select(GridNode).where(GridNode.id == node_id, GridNode.kind == HOUSEHOLD)
    return (await session.execute(stmt)).scalar_one_or_none()
