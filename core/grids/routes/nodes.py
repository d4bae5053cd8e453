"""Grid pages everyone with ``core.grid.view`` sees: the tree of the user's areas (/grid/), a node's
page — breadcrumbs, children, staff, counts and the panels enabled plugins add to it — and a node's
children as an htmx fragment (the expandable tree).

The tree editor is editor.py and kinds.py beside this; boundaries and the map are boundaries.py.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from markupsafe import Markup
from sqlalchemy import select

from core.grids import tree
from core.grids.basedata import Household, Organisation, Resident
from core.grids.models import GridNode
from core.grids.routes.common import GRID_EDIT as EDIT
from core.grids.routes.common import GRID_VIEW as VIEW
from core.grids.routes.common import node_in_scope
from core.i18n import gettext as _
from core.i18n import lazy
from core.pluginhost import glance
from core.pluginhost.manifest import Panel
from core.web.context import ctx
from core.web.guards import requires
from core.web.links import may_open
from core.web.pagination import paginate
from core.web.render import render, render_string

CHILDREN_PER_PAGE = 50
TREE_FRAGMENT_MAX = 200  # children listed in the expandable tree; the node page pages through more

RESIDENT_STATUS = {"active": lazy("Living here"), "moved_out": lazy("Moved out"), "deceased": lazy("Deceased")}
HOUSEHOLD_USAGE = {"residential": lazy("Residential"), "commercial": lazy("Commercial"), "office": lazy("Office")}
ORG_KIND = {
    "resident_unit": lazy("Resident units"),
    "social_org": lazy("Social organisations"),
    "property_company": lazy("Property companies"),
    "party_org": lazy("Party organisations"),
}

DONE = {
    "added": lazy("The sub-area has been added."),
    "saved": lazy("The changes have been saved."),
    "moved": lazy("The area has been moved, with everything under it."),
    "deleted": lazy("The sub-area has been deleted."),
    "boundary": lazy("The boundary has been saved."),
    "cleared": lazy("The boundary has been removed."),
}


def _labelled(counts: dict[str, int], labels: dict[str, str]) -> list[tuple[str, int]]:
    return [(_(labels[k]) if k in labels else k, n) for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def figure_groups(request: Request, parts: list[glance.Part]) -> list[dict[str, Any]]:
    """Each plugin's headline figures, grouped under the plugin's title (六治 at a glance)."""
    c = ctx(request)
    manifests = request.app.state.plugins.manifests
    groups: dict[str, dict[str, Any]] = {}
    for part in parts:
        manifest = manifests.get(part.plugin)
        title = manifest.title(c.locale) if manifest is not None else _("Shared services")
        group = groups.setdefault(part.plugin, {"plugin": part.plugin, "title": title, "figures": []})
        f = part.item
        group["figures"].append(
            {
                "label": f.label(c.locale),
                "value": f.value,
                "unit": f.unit(c.locale),
                "href": c.url(f.href) if f.href and may_open(request, f.href) else None,
            }
        )
    return list(groups.values())


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
    kinds = await tree.kinds_by_code(c.db)
    counts = await tree.child_counts(c.db, [n.id for n in roots])
    return await render(
        request,
        "core/grid_root.html",
        {
            "roots": roots,
            "counts": counts,
            "kind_of": lambda code: tree.kind_label(kinds, code, c.locale),
            "can_edit": c.can(EDIT),
        },
    )


@get("/grid/{node_id:int}", guards=[requires(VIEW)])
async def grid_node(
    request: Request, node_id: FromPath[int], page: FromQuery[int] = 1, done: FromQuery[str | None] = None
) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id)
    kinds = await tree.kinds_by_code(c.db)
    children = await paginate(
        c.db, select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code), page, CHILDREN_PER_PAGE
    )
    grandchildren = await tree.child_counts(c.db, [ch.id for ch in children.items])
    crumbs = [(a, c.can(VIEW, a.path)) for a in await tree.ancestors(c.db, node)]
    sub_kinds = await tree.subnode_counts(c.db, node)
    counts: dict[str, list[tuple[str, int]] | None] = {
        "households": _labelled(
            await tree.grouped_count(c.db, Household.usage, Household.node_path, node.path), HOUSEHOLD_USAGE
        ),
        "residents": _labelled(
            await tree.grouped_count(c.db, Resident.status, Resident.node_path, node.path), RESIDENT_STATUS
        )
        if c.can("core.resident.view", node.path)
        else None,
        "organisations": _labelled(
            await tree.grouped_count(c.db, Organisation.kind, Organisation.node_path, node.path), ORG_KIND
        )
        if c.can("core.org.view", node.path)
        else None,
    }
    panels = []
    for plugin, result in await request.app.state.plugins.run("node_panels", c.enabled, request=request, node=node):
        for p in result if isinstance(result, list | tuple) else [result]:
            if isinstance(p, Panel):
                panels.append({"plugin": plugin, "title": p.title(c.locale), "html": Markup(p.html), "order": p.order})
    panels.sort(key=lambda p: (p["order"], p["plugin"]))
    glance_parts = await glance.node_figures(request.app.state.plugins, c.enabled, request, node, c.db)
    parent = crumbs[-1][0] if crumbs and crumbs[-1][1] else None
    return await render(
        request,
        "core/grid_node.html",
        {
            "node": node,
            "kind_of": lambda code: tree.kind_label(kinds, code, c.locale),
            "crumbs": crumbs,
            "parent": parent,
            "children": children,
            "grandchildren": grandchildren,
            "staff": await tree.staff(c.db, node),
            "sub_kinds": sorted(
                sub_kinds.items(), key=lambda kv: (kinds[kv[0]].level if kv[0] in kinds else 99, kv[0])
            ),
            "counts": counts,
            "panels": panels,
            "figures": figure_groups(request, glance_parts),
            "can_edit": c.can(EDIT, node.path),
            "message": _(DONE[done]) if done in DONE else None,
        },
    )


@get("/grid/{node_id:int}/children", guards=[requires(VIEW)])
async def children_fragment(request: Request, node_id: FromPath[int]) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id)
    kinds = await tree.kinds_by_code(c.db)
    items = (
        (
            await c.db.execute(
                select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code).limit(TREE_FRAGMENT_MAX)
            )
        )
        .scalars()
        .all()
    )
    total = sum((await tree.child_counts(c.db, [node.id])).values())
    # A bare fragment (whatever the request): no layout, so no menu or bell queries either.
    html = render_string(
        request,
        "core/tree/children.html",
        {
            "c": c,
            "locale": c.locale,
            "items": items,
            "counts": await tree.child_counts(c.db, [n.id for n in items]),
            "kind_of": lambda code: tree.kind_label(kinds, code, c.locale),
            "more": max(0, total - len(items)),
            "parent_id": node.id,
        },
    )
    return Response(html, media_type="text/html")


# ---- node kinds ---------------------------------------------------------------------------------


handlers = [grid_root, grid_node, children_fragment]
