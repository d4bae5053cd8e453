"""The tenant start page: the user's worklist (what waits for them now), their area's pillars at a
glance and the enabled plugins' cards."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from markupsafe import Markup

from core.pluginhost.manifest import Widget
from core.web import declared
from core.web.context import ctx
from core.web.guards import signed_in
from core.web.links import may_open
from core.web.render import render


@get("/", guards=[signed_in])
async def dashboard(request: Request) -> Any:
    c = ctx(request)
    widgets = []
    host = request.app.state.plugins
    found = [
        (plugin, w)
        for plugin, result in await host.run("dashboard_widgets", c.enabled, request=request)
        for w in (result if isinstance(result, list | tuple) else [result])
    ]
    hooked = {plugin for plugin, _w in found}  # a plugin with its own card hook keeps it
    found += [(p, w) for p, w in declared.widgets(request, host.manifests, c.enabled) if p not in hooked]
    for plugin, w in found:
        if isinstance(w, Widget):
            widgets.append(
                {
                    "plugin": plugin,
                    "title": w.title(c.locale),
                    "html": Markup(w.html),
                    "order": w.order,
                    "href": c.url(w.href) if w.href and may_open(request, w.href) else None,
                }
            )
    widgets.sort(key=lambda w: (w["order"], w["plugin"]))
    return await render(
        request,
        "core/dashboard.html",
        {"widgets": widgets, "worklist": await _worklist(request), **await _glance(request)},
    )


async def _worklist(request: Request) -> list[dict[str, Any]]:
    """What waits for this user now, from every enabled plugin and core (``worklist_items``)."""
    from core.pluginhost import glance

    c = ctx(request)
    if c.db is None or c.user is None:
        return []
    parts = await glance.worklist(request.app.state.plugins, c.enabled, request, c.db)
    host = request.app.state.plugins
    return [
        {
            "plugin": p.plugin,
            "pillar": host.manifests[p.plugin].title(c.locale) if p.plugin in host.manifests else "",
            "label": p.item.label(c.locale),
            "count": p.item.count,
            "href": c.url(p.item.href),
            "kind": p.item.kind,
        }
        for p in parts
        if may_open(request, p.item.href)  # a plugin's slip must not offer a page that refuses
    ]


async def _glance(request: Request) -> dict[str, Any]:
    """Staff see their area's pillars at a glance (the top of their grid scope) above the widgets."""
    from sqlalchemy import select

    from core.grids.models import GridNode
    from core.grids.routes.nodes import figure_groups
    from core.pluginhost import glance

    c = ctx(request)
    prefixes = sorted(c.scope_prefixes("core.grid.view"), key=len)
    if not prefixes or c.db is None:
        return {"glance_node": None, "figures": []}
    node = (await c.db.execute(select(GridNode).where(GridNode.path == prefixes[0]))).scalar_one_or_none()
    if node is None:
        return {"glance_node": None, "figures": []}
    parts = await glance.node_figures(request.app.state.plugins, c.enabled, request, node, c.db)
    return {"glance_node": node, "figures": figure_groups(request, parts)}


handlers = [dashboard]
