"""The territory tree editor for district admins (``core.grid.edit``): adding, editing, deleting
and moving nodes. Every node route answers 404 for a node outside the user's scope, like one that
does not exist; a user without the edit action gets 403 from the guard. The rules live in
core/grids/tree.py; this module turns forms into calls and problems into messages."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.grids import tree
from core.grids.models import GridNode
from core.grids.routes.common import GRID_EDIT as EDIT
from core.grids.routes.common import GRID_VIEW as VIEW
from core.grids.routes.common import base_context as _base_context
from core.grids.routes.common import node_in_scope
from core.grids.routes.common import node_url as _node_url
from core.grids.routes.common import undo as _undo
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.events import Event, emit
from core.web.context import ctx
from core.web.forms import Form
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.render import render

MOVE_CHOICES_MAX = 500


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
async def add_page(request: Request, node_id: FromPath[int]) -> Any:
    node = await node_in_scope(request, node_id, EDIT)
    c = ctx(request)
    assert c.db is not None
    choices = tree.child_kinds(node, await tree.kinds_by_code(c.db))
    form = {"code": f"{node.code}-", "kind": choices[0].code if choices else "", "name": "", "name_en": ""}
    return await _node_form(request, node, "add", form, {})


@post("/grid/{node_id:int}/add", guards=[requires(EDIT)], status_code=200)
async def add_child(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    form = {k: _text(data, k) for k in ("code", "kind", "name", "name_en")}
    form["code"] = form["code"].lower()
    try:
        child = await tree.create_node(c.db, node, **form)
        await c.db.commit()
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
async def edit_node(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    form = {k: _text(data, k) for k in ("code", "kind", "name", "name_en")}
    form["code"] = form["code"].lower()
    try:
        await tree.update_node(c.db, node, **form)
        await c.db.commit()
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
async def delete_node(request: Request, node_id: FromPath[int]) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    parent = await c.db.get(GridNode, (node.tenant_id, node.parent_id)) if node.parent_id else None
    form = {"code": node.code, "kind": node.kind, "name": node.name, "name_en": node.name_en}
    try:
        await tree.delete_node(c.db, node)
        await c.db.commit()
    except (tree.TreeError, IntegrityError) as exc:
        await _undo(request)
        node = await node_in_scope(request, node_id, EDIT)
        why = (
            " ".join(exc.texts().values())
            if isinstance(exc, tree.TreeError)
            else _("Records of other modules still refer to it.")
        )
        alert = _("%(name)s cannot be deleted: %(why)s", name=node.label(c.locale), why=why)
        return await _node_form(request, node, "edit", form, {"": alert}, 409)
    if parent is None or not c.can(VIEW, parent.path):
        return Redirect(c.url("/grid/"), status_code=303)
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
async def move_node(request: Request, node_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    assert c.db is not None
    node = await node_in_scope(request, node_id, EDIT)
    form = {"parent": _text(data, "parent").lower()}
    target = None
    if form["parent"]:
        target = (await c.db.execute(select(GridNode).where(GridNode.code == form["parent"]))).scalar_one_or_none()
    if target is None or not c.can(EDIT, target.path):
        message = _("Give the code of the new parent.") if not form["parent"] else None
        message = message or _("There is no area with the code %(code)s that you may edit.", code=form["parent"])
        return await _move_page(request, node, form, {"parent": message}, 400)
    old_path = node.path
    try:
        counts = await tree.move_subtree(c.db, node, target)
        await c.db.commit()
    except tree.TreeError as exc:
        await _undo(request)
        node = await node_in_scope(request, node_id, EDIT)
        return await _move_page(request, node, form, exc.texts(), 400)
    assert c.tenant is not None
    # Plugins that keep anything else keyed by path (caches, search indexes) hear about it.
    payload = {"node_id": node.id, "from": old_path, "to": node.path, "rows": counts}
    await emit(request.app.state, c.tenant.id, c.enabled, Event("core.grid.moved", payload, c.actor))
    return Redirect(_node_url(request, node, "?done=moved"), status_code=303)


handlers = [add_page, add_child, edit_page, edit_node, delete_node, move_page, move_node]
