"""Grid node pages: the node, its children, and the panels enabled plugins add to it.

(The full territory tree editor, import and base data come with the grid issue.)
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from markupsafe import Markup
from sqlalchemy import select

from core.grids.models import GridNode
from core.pluginhost.manifest import Panel
from core.web.context import ctx
from core.web.guards import check_in_scope, requires
from core.web.render import render

VIEW = "core.grid.view"


@get("/grid/", guards=[requires(VIEW)])
async def grid_root(request: Request) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(VIEW)
    roots = (
        (await c.db.execute(select(GridNode).where(GridNode.path.in_(prefixes)).order_by(GridNode.name)))
        .scalars()
        .all()
        if prefixes
        else []
    )
    return await render(request, "core/grid_root.html", {"roots": roots})


@get("/grid/{node_id:int}", guards=[requires(VIEW)])
async def grid_node(request: Request, node_id: FromPath[int]) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise NotFoundException()
    check_in_scope(request, VIEW, node.path)
    children = (
        (await c.db.execute(select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code)))
        .scalars()
        .all()
    )
    parent = await c.db.get(GridNode, (node.tenant_id, node.parent_id)) if node.parent_id else None
    panels = []
    for plugin, result in await request.app.state.plugins.call_safely(
        "node_panels", c.enabled, request=request, node=node
    ):
        for p in result if isinstance(result, list | tuple) else [result]:
            if isinstance(p, Panel):
                panels.append({"plugin": plugin, "title": p.title(c.locale), "html": Markup(p.html), "order": p.order})
    panels.sort(key=lambda p: (p["order"], p["plugin"]))
    parent_visible = parent is not None and c.can(VIEW, parent.path)
    return await render(
        request,
        "core/grid_node.html",
        {"node": node, "children": children, "panels": panels, "parent": parent if parent_visible else None},
    )


handlers = [grid_root, grid_node]
