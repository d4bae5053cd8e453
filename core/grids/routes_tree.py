"""The territory tree editor for district admins (``core.grid.edit``): node kinds, adding, editing,
deleting and moving nodes, boundaries (upload, paste or draw), plus two views for everyone who may
see the grid: a node's children as an htmx fragment (the expandable tree) and the map.

Every node route answers 404 for a node outside the user's scope, like one that does not exist; a
user without the edit action gets 403 from the guard. The rules themselves live in tree.py and
geo.py; this module turns forms into calls and problems into messages.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.grids import geo, tree
from core.grids.models import GridNode, NodeKind
from core.i18n import gettext as _
from core.i18n import lazy
from core.rbac.scope import in_scope
from core.services.events import Event, emit
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.render import render, render_string
from core.web.routes.grid import EDIT, VIEW, node_in_scope

TREE_FRAGMENT_MAX = 200  # children listed in the expandable tree; the node page pages through more
MOVE_CHOICES_MAX = 500
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


async def _undo(request: Request) -> None:
    """Roll the request's session back, then reload the signed-in user the page header shows."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)


def _node_url(request: Request, node: GridNode | int, suffix: str = "") -> str:
    node_id = node if isinstance(node, int) else node.id
    return ctx(request).url(f"/grid/{node_id}{suffix}")


async def _base_context(request: Request, node: GridNode) -> dict[str, Any]:
    c = ctx(request)
    assert c.db is not None
    kinds = await tree.kinds_by_code(c.db)
    return {
        "node": node,
        "kinds": kinds,
        "kind_of": lambda code: tree.kind_label(kinds, code, c.locale),
        "crumbs": [(a, c.can(VIEW, a.path)) for a in await tree.ancestors(c.db, node)],
        "crumb_self": True,
    }


# ---- the expandable tree ------------------------------------------------------------------------


@get("/grid/{node_id:int}/children", guards=[requires(VIEW)])
async def children_fragment(request: Request, node_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    node = await node_in_scope(request, node_id)
    kinds = await tree.kinds_by_code(db)
    items = (
        (
            await db.execute(
                select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code).limit(TREE_FRAGMENT_MAX)
            )
        )
        .scalars()
        .all()
    )
    total = sum((await tree.child_counts(db, [node.id])).values())
    # A bare fragment (whatever the request): no layout, so no menu or bell queries either.
    html = render_string(
        request,
        "core/tree/children.html",
        {
            "c": rc,
            "locale": rc.locale,
            "items": items,
            "counts": await tree.child_counts(db, [n.id for n in items]),
            "kind_of": lambda code: tree.kind_label(kinds, code, rc.locale),
            "more": max(0, total - len(items)),
            "parent_id": node.id,
        },
    )
    return Response(html, media_type="text/html")


# ---- node kinds ---------------------------------------------------------------------------------


async def _kinds_page(
    request: Request, form: dict[str, str] | None = None, errors: dict[str, str] | None = None, **extra: Any
) -> Any:
    c = ctx(request)
    assert c.db is not None
    context = {
        "kinds": await tree.all_kinds(c.db),
        "usage": await tree.kind_usage(c.db),
        "form": form or {"code": "", "name_zh": "", "name_en": "", "level": ""},
        "errors": errors or {},
        "message": None,
        "alert": None,
        **extra,
    }
    status = 400 if context["errors"] or context["alert"] else 200
    return await render(request, "core/tree/kinds.html", context, status_code=status)


DONE_KIND = {
    "added": lazy("The kind has been added."),
    "saved": lazy("The kind has been saved."),
    "deleted": lazy("The kind has been deleted."),
}


@get("/grid/kinds", guards=[requires(EDIT)])
async def kinds_page(request: Request, done: FromQuery[str | None] = None) -> Any:
    return await _kinds_page(request, message=_(DONE_KIND[done]) if done in DONE_KIND else None)


@post("/grid/kinds", guards=[requires(EDIT)], status_code=200)
async def create_kind(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    form = {k: _text(data, k) for k in ("code", "name_zh", "name_en", "level")}
    try:
        await tree.create_kind(db, form["code"], form["name_zh"], form["name_en"], form["level"])
    except tree.TreeError as exc:
        return await _kinds_page(request, form, exc.texts())
    await db.commit()
    return Redirect(rc.url("/grid/kinds?done=added"), status_code=303)


async def _kind_or_404(request: Request, kind_id: int) -> NodeKind:
    c = ctx(request)
    assert c.db is not None
    kind = (await c.db.execute(select(NodeKind).where(NodeKind.id == kind_id))).scalar_one_or_none()
    if kind is None:
        raise NotFoundException()
    return kind


@get("/grid/kinds/{kind_id:int}/edit", guards=[requires(EDIT)])
async def edit_kind_page(request: Request, kind_id: FromPath[int]) -> Any:
    kind = await _kind_or_404(request, kind_id)
    form = {"name_zh": kind.name_zh, "name_en": kind.name_en, "level": str(kind.level)}
    return await render(request, "core/tree/kind_edit.html", {"kind": kind, "form": form, "errors": {}})


@post("/grid/kinds/{kind_id:int}/edit", guards=[requires(EDIT)], status_code=200)
async def edit_kind(request: Request, kind_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    kind = await _kind_or_404(request, kind_id)
    form = {k: _text(data, k) for k in ("name_zh", "name_en", "level")}
    try:
        await tree.update_kind(db, kind, form["name_zh"], form["name_en"], form["level"])
    except tree.TreeError as exc:
        await _undo(request)
        kind = await _kind_or_404(request, kind_id)
        context = {"kind": kind, "form": form, "errors": exc.texts()}
        return await render(request, "core/tree/kind_edit.html", context, status_code=400)
    await db.commit()
    return Redirect(rc.url("/grid/kinds?done=saved"), status_code=303)


@post("/grid/kinds/{kind_id:int}/delete", guards=[requires(EDIT)], status_code=200)
async def delete_kind(request: Request, kind_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    kind = await _kind_or_404(request, kind_id)
    try:
        await tree.delete_kind(db, kind)
    except tree.TreeError as exc:
        name = kind.name_zh
        await _undo(request)
        alert = _("%(kind)s cannot be deleted: %(why)s", kind=name, why=" ".join(exc.texts().values()))
        return await _kinds_page(request, alert=alert)
    await db.commit()
    return Redirect(rc.url("/grid/kinds?done=deleted"), status_code=303)


# ---- add, edit, delete a node -------------------------------------------------------------------


async def _node_form(
    request: Request, node: GridNode, mode: str, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    context = await _base_context(request, node)
    kinds = context["kinds"]
    if mode == "add":
        choices = tree.child_kinds(node, kinds)
    else:
        parent = await c.db.get(GridNode, (node.tenant_id, node.parent_id)) if node.parent_id else None
        choices = tree.child_kinds(parent, kinds) if parent is not None else list(kinds.values())
        if node.kind in kinds and kinds[node.kind] not in choices:
            choices.insert(0, kinds[node.kind])
    context.update(
        {
            "mode": mode,
            "form": form,
            "errors": errors,
            "choices": choices,
            "lowest": tree.min_child_level(node, kinds) if mode == "add" else None,
            "blockers": [p.text() for p in await tree.delete_blockers(c.db, node)] if mode == "edit" else [],
            "alert": errors.get("") if errors else None,
        }
    )
    return await render(request, "core/tree/node_form.html", context, status_code=status)


@get("/grid/{node_id:int}/add", guards=[requires(EDIT)])
async def add_page(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    choices = tree.child_kinds(node, await tree.kinds_by_code(db))
    form = {"code": f"{node.code}-", "kind": choices[0].code if choices else "", "name": "", "name_en": ""}
    return await _node_form(request, node, "add", form, {})


@post("/grid/{node_id:int}/add", guards=[requires(EDIT)], status_code=200)
async def add_child(request: Request, node_id: FromPath[int], data: Form, db: DbSession) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    form = {k: _text(data, k) for k in ("code", "kind", "name", "name_en")}
    form["code"] = form["code"].lower()
    try:
        child = await tree.create_node(db, node, **form)
        await db.commit()
    except tree.TreeError as exc:
        return await _node_form(request, node, "add", form, exc.texts(), 400)
    except IntegrityError:  # the same code saved by someone else a moment ago
        await _undo(request)
        node = await node_in_scope(request, node_id, EDIT)
        errors = {"code": _("Another node has the code %(code)s already.", code=form["code"])}
        return await _node_form(request, node, "add", form, errors, 400)
    return Redirect(_node_url(request, child, "?done=added"), status_code=303)


@get("/grid/{node_id:int}/edit", guards=[requires(EDIT)])
async def edit_page(request: Request, node_id: FromPath[int]) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    form = {"code": node.code, "kind": node.kind, "name": node.name, "name_en": node.name_en}
    return await _node_form(request, node, "edit", form, {})


@post("/grid/{node_id:int}/edit", guards=[requires(EDIT)], status_code=200)
async def edit_node(request: Request, node_id: FromPath[int], data: Form, db: DbSession) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    form = {k: _text(data, k) for k in ("code", "kind", "name", "name_en")}
    form["code"] = form["code"].lower()
    try:
        await tree.update_node(db, node, **form)
        await db.commit()
    except (tree.TreeError, IntegrityError) as exc:
        await _undo(request)
        node = await node_in_scope(request, node_id, EDIT)
        errors = (
            exc.texts()
            if isinstance(exc, tree.TreeError)
            else {"code": _("Another node has the code %(code)s already.", code=form["code"])}
        )
        return await _node_form(request, node, "edit", form, errors, 400)
    return Redirect(_node_url(request, node, "?done=saved"), status_code=303)


@post("/grid/{node_id:int}/delete", guards=[requires(EDIT)], status_code=200)
async def delete_node(request: Request, node_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    parent = await db.get(GridNode, (node.tenant_id, node.parent_id)) if node.parent_id else None
    form = {"code": node.code, "kind": node.kind, "name": node.name, "name_en": node.name_en}
    try:
        await tree.delete_node(db, node)
        await db.commit()
    except (tree.TreeError, IntegrityError) as exc:
        await _undo(request)
        node = await node_in_scope(request, node_id, EDIT)
        why = (
            " ".join(exc.texts().values())
            if isinstance(exc, tree.TreeError)
            else _("Records of other modules still refer to it.")
        )
        alert = _("%(name)s cannot be deleted: %(why)s", name=node.label(rc.locale), why=why)
        return await _node_form(request, node, "edit", form, {"": alert}, 409)
    if parent is None or not rc.can(VIEW, parent.path):
        return Redirect(rc.url("/grid/"), status_code=303)
    return Redirect(_node_url(request, parent, "?done=deleted"), status_code=303)


# ---- move a subtree -----------------------------------------------------------------------------


async def _move_page(
    request: Request, node: GridNode, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    context = await _base_context(request, node)
    kinds = context["kinds"]
    # Candidates: nodes in the user's edit scope, outside the subtree, whose children may be of this kind.
    own = kinds.get(node.kind)
    stmt = (
        select(GridNode)
        .where(
            in_scope(GridNode.path, c.scope_prefixes(EDIT)),
            ~GridNode.path.startswith(node.path, autoescape=True),
            GridNode.id != node.parent_id,
        )
        .order_by(GridNode.depth, GridNode.code)
        .limit(MOVE_CHOICES_MAX)
    )
    if own is not None:
        stmt = stmt.where(GridNode.depth < own.level)
        lower_kinds = [k.code for k in kinds.values() if k.level < own.level]
        stmt = stmt.where(GridNode.kind.in_(lower_kinds))
    context.update({"form": form, "errors": errors, "choices": (await c.db.execute(stmt)).scalars().all()})
    return await render(request, "core/tree/move.html", context, status_code=status)


@get("/grid/{node_id:int}/move", guards=[requires(EDIT)])
async def move_page(request: Request, node_id: FromPath[int]) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    return await _move_page(request, node, {"parent": ""}, {})


@post("/grid/{node_id:int}/move", guards=[requires(EDIT)], status_code=200)
async def move_node(request: Request, node_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    form = {"parent": _text(data, "parent").lower()}
    target = None
    if form["parent"]:
        target = (await db.execute(select(GridNode).where(GridNode.code == form["parent"]))).scalar_one_or_none()
    if target is None or not rc.can(EDIT, target.path):
        message = _("Give the code of the new parent.") if not form["parent"] else None
        message = message or _("There is no area with the code %(code)s that you may edit.", code=form["parent"])
        return await _move_page(request, node, form, {"parent": message}, 400)
    old_path = node.path
    try:
        counts = await tree.move_subtree(db, node, target)
        await db.commit()
    except tree.TreeError as exc:
        await _undo(request)
        node = await node_in_scope(request, node_id, EDIT)
        return await _move_page(request, node, form, exc.texts(), 400)
    assert rc.tenant is not None
    # Plugins that keep anything else keyed by path (caches, search indexes) hear about it.
    payload = {"node_id": node.id, "from": old_path, "to": node.path, "rows": counts}
    await emit(request.app.state, rc.tenant.id, rc.enabled, Event("core.grid.moved", payload, rc.actor))
    return Redirect(_node_url(request, node, "?done=moved"), status_code=303)


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
async def upload_boundary(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    """A GeoJSON file or pasted text (the file wins when both are given)."""
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
    await tree.set_boundary(db, node, geometry)
    await db.commit()
    return Redirect(_node_url(request, node, "/map?done=boundary"), status_code=303)


@post("/grid/{node_id:int}/boundary/draw", guards=[requires(EDIT)], status_code=200)
async def draw_boundary(request: Request, node_id: FromPath[int], data: Form, db: DbSession) -> Any:
    """Points clicked on the canvas (SVG units) and the projection they were drawn with."""
    node = await node_in_scope(request, node_id, EDIT)
    projection = None
    try:
        projection = geo.Projection.from_fields(data)
        geometry = geo.polygon_from_svg(geo.parse_svg_points(_text(data, "points")), projection)
    except geo.GeoError as exc:
        return await _boundary_page(request, node, error=exc.text(), status=400, projection=projection)
    await tree.set_boundary(db, node, geometry)
    await db.commit()
    return Redirect(_node_url(request, node, "/map?done=boundary"), status_code=303)


@post("/grid/{node_id:int}/boundary/clear", guards=[requires(EDIT)], status_code=200)
async def clear_boundary(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    await tree.set_boundary(db, node, None)
    await db.commit()
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
async def map_page(
    request: Request, node_id: FromPath[int], db: DbSession, rc: Ctx, done: FromQuery[str | None] = None
) -> Any:
    node = await node_in_scope(request, node_id)
    children = (
        (await db.execute(select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code)))
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
            "can_edit": rc.can(EDIT, node.path),
            "message": _("The boundary has been saved.") if done == "boundary" else None,
        }
    )
    return await render(request, "core/tree/map.html", context)


handlers = [
    children_fragment,
    kinds_page,
    create_kind,
    edit_kind_page,
    edit_kind,
    delete_kind,
    add_page,
    add_child,
    edit_page,
    edit_node,
    delete_node,
    move_page,
    move_node,
    boundary_page,
    upload_boundary,
    draw_boundary,
    clear_boundary,
    map_page,
]
