"""Boundaries and the map: a node's boundary uploaded (GeoJSON), pasted or drawn on a canvas
that shows the areas around it, cleared; and the map of a node's sub-areas for everyone who may
see the grid. The geometry rules live in core/grids/geo.py."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids import geo, tree
from core.grids.models import GridNode
from core.grids.routes.common import GRID_EDIT as EDIT
from core.grids.routes.common import GRID_VIEW as VIEW
from core.grids.routes.common import base_context as _base_context
from core.grids.routes.common import node_in_scope
from core.grids.routes.common import node_url as _node_url
from core.i18n import gettext as _
from core.web.context import ctx
from core.web.forms import Form
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.render import render

# Where the drawing canvas opens when nothing near the node has a boundary yet (天安门).
DEFAULT_CENTRE = (116.3975, 39.9087)
COLOURS = (
    "#e4572e",
    "#29335c",
    "#f3a712",
    "#4c956c",
    "#7b2cbf",
    "#2a9d8f",
    "#d1495b",
    "#00798c",
    "#edae49",
    "#66a182",
    "#8d6a9f",
    "#3d5a80",
)


# ---- boundaries ---------------------------------------------------------------------------------


async def _reference(request: Request, node: GridNode) -> dict[str, Any]:
    """What the drawing canvas shows around the node: the nearest area above it that has a
    boundary (normally the parent), the siblings that have one, and the node's own."""
    c = ctx(request)
    assert c.db is not None
    above = await tree.ancestors(c.db, node)
    outline = next((a for a in reversed(above) if a.boundary), None)
    siblings: list[GridNode] = []
    if node.parent_id is not None:
        siblings = list(
            (
                await c.db.execute(
                    select(GridNode).where(
                        GridNode.parent_id == node.parent_id, GridNode.id != node.id, GridNode.boundary.is_not(None)
                    )
                )
            ).scalars()
        )
    box = geo.bbox([outline.boundary if outline else None, node.boundary, *[s.boundary for s in siblings]])
    return {"outline": outline, "siblings": siblings, "box": box}


def _widen(box: tuple[float, float, float, float], share: float = 0.1) -> tuple[float, float, float, float]:
    dx, dy = (box[2] - box[0]) * share, (box[3] - box[1]) * share
    return box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy


def _canvas_url(request: Request, node: GridNode, centre: tuple[float, float], km: float) -> str:
    return _node_url(request, node, f"/boundary?lon={centre[0]:.6f}&lat={centre[1]:.6f}&km={km:.3g}")


async def _boundary_page(
    request: Request,
    node: GridNode,
    *,
    paste: str = "",
    error: str | None = None,
    status: int = 200,
    view: tuple[float, float, float] | None = None,
    projection: geo.Projection | None = None,
) -> Any:
    """The boundary editor. ``view`` = (lon, lat, km) frames the canvas; by default it fits the
    reference shapes, or opens around a default point when nothing near has a boundary."""
    context = await _base_context(request, node)
    ref = await _reference(request, node)
    if projection is not None:
        pass  # redrawn with the projection the user drew on
    elif view is not None:
        projection = geo.Projection.around(view[0], view[1], view[2], max_height=800)
    elif ref["box"] is not None:
        projection = geo.Projection.fit(_widen(ref["box"]), max_height=800)
    else:
        projection = geo.Projection.around(*DEFAULT_CENTRE, max_height=800)
    centre = projection.to_lonlat(projection.width / 2, projection.height / 2)
    km = projection.span_km()
    outline = ref["outline"]
    context.update(
        {
            "paste": paste,
            "error": error,
            "projection": projection,
            "fields": projection.as_fields(),
            "outline": outline,
            "outline_d": projection.path_d(outline.boundary) if outline else "",
            "siblings": _shapes(projection, ref["siblings"], request),
            "own_d": projection.path_d(node.boundary),
            "nothing_near": ref["box"] is None,
            "centre": centre,
            "km": km,
            "zoom_in": _canvas_url(request, node, centre, km / 2),
            "zoom_out": _canvas_url(request, node, centre, km * 2),
            "fit": _node_url(request, node, "/boundary"),
            "points": geo.point_count(node.boundary),
            "current": geo.to_geojson_text(node.boundary),
            "max_points": geo.MAX_POINTS,
        }
    )
    return await render(request, "core/tree/boundary.html", context, status_code=status)


@get("/grid/{node_id:int}/boundary", guards=[requires(EDIT)])
async def boundary_page(
    request: Request,
    node_id: FromPath[int],
    lon: FromQuery[float | None] = None,
    lat: FromQuery[float | None] = None,
    km: FromQuery[float | None] = None,
) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    view = None
    if lon is not None and lat is not None and -180 <= lon <= 180 and -85 <= lat <= 85:
        view = (lon, lat, min(max(km or 2.0, 0.05), 2000.0))
    return await _boundary_page(request, node, view=view)


@post(
    "/grid/{node_id:int}/boundary",
    guards=[requires(EDIT)],
    status_code=200,
    request_max_body_size=geo.MAX_BYTES * 2 + 100_000,
)
async def upload_boundary(request: Request, node_id: FromPath[int]) -> Any:
    """A GeoJSON file or pasted text (the file wins when both are given)."""
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    form = await request.form()
    upload, paste = form.get("file"), str(form.get("geojson") or "")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(geo.MAX_BYTES + 1)
            geometry = geo.parse_boundary(raw)
        else:
            geometry = geo.parse_boundary(paste)
    except geo.GeoError as exc:
        return await _boundary_page(request, node, paste=paste, error=exc.text(), status=400)
    await tree.set_boundary(c.db, node, geometry)
    await c.db.commit()
    return Redirect(_node_url(request, node, "/map?done=boundary"), status_code=303)


@post("/grid/{node_id:int}/boundary/draw", guards=[requires(EDIT)], status_code=200)
async def draw_boundary(request: Request, node_id: FromPath[int], data: Form) -> Any:
    """Points clicked on the canvas (SVG units) and the projection they were drawn with."""
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    projection = None
    try:
        projection = geo.Projection.from_fields(data)
        geometry = geo.polygon_from_svg(geo.parse_svg_points(_text(data, "points")), projection)
    except geo.GeoError as exc:
        return await _boundary_page(request, node, error=exc.text(), status=400, projection=projection)
    await tree.set_boundary(c.db, node, geometry)
    await c.db.commit()
    return Redirect(_node_url(request, node, "/map?done=boundary"), status_code=303)


@post("/grid/{node_id:int}/boundary/clear", guards=[requires(EDIT)], status_code=200)
async def clear_boundary(request: Request, node_id: FromPath[int]) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    await tree.set_boundary(c.db, node, None)
    await c.db.commit()
    return Redirect(_node_url(request, node, "?done=cleared"), status_code=303)


# ---- the map ------------------------------------------------------------------------------------


def _shapes(projection: geo.Projection, nodes: list[GridNode], request: Request) -> list[dict[str, Any]]:
    c = ctx(request)
    out = []
    for i, n in enumerate(nodes):
        label = projection.label_point(n.boundary)
        out.append(
            {
                "node": n,
                "name": n.label(c.locale),
                "d": projection.path_d(n.boundary),
                "label": label,
                "colour": COLOURS[i % len(COLOURS)],
            }
        )
    return out


@get("/grid/{node_id:int}/map", guards=[requires(VIEW)])
async def map_page(request: Request, node_id: FromPath[int], done: FromQuery[str | None] = None) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id)
    children = (
        (await c.db.execute(select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code)))
        .scalars()
        .all()
    )
    drawn = [ch for ch in children if ch.boundary]
    box = geo.bbox([node.boundary, *[ch.boundary for ch in drawn]])
    projection = geo.Projection.fit(box) if box else None
    context = await _base_context(request, node)
    context.update(
        {
            "projection": projection,
            "own_d": projection.path_d(node.boundary) if projection else "",
            "own_label": projection.label_point(node.boundary) if projection and not drawn else None,
            "shapes": _shapes(projection, drawn, request) if projection else [],
            "undrawn": [ch for ch in children if not ch.boundary],
            "can_edit": c.can(EDIT, node.path),
            "message": _("The boundary has been saved.") if done == "boundary" else None,
        }
    )
    return await render(request, "core/tree/map.html", context)


handlers = [boundary_page, upload_boundary, draw_boundary, clear_boundary, map_page]
