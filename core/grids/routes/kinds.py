"""Node kinds (街道, 社区, 网格, …) for district admins: list, add, rename, delete one no node uses."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids import tree
from core.grids.models import NodeKind
from core.grids.routes.common import GRID_EDIT as EDIT
from core.grids.routes.common import undo as _undo
from core.i18n import gettext as _
from core.i18n import lazy
from core.web.context import ctx
from core.web.forms import Form
from core.web.forms import text as _text
from core.web.guards import requires
from core.web.render import render


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
async def create_kind(request: Request, data: Form) -> Any:
    c = ctx(request)
    assert c.db is not None
    form = {k: _text(data, k) for k in ("code", "name_zh", "name_en", "level")}
    try:
        await tree.create_kind(c.db, form["code"], form["name_zh"], form["name_en"], form["level"])
    except tree.TreeError as exc:
        return await _kinds_page(request, form, exc.texts())
    await c.db.commit()
    return Redirect(c.url("/grid/kinds?done=added"), status_code=303)


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
async def edit_kind(request: Request, kind_id: FromPath[int], data: Form) -> Any:
    c = ctx(request)
    assert c.db is not None
    kind = await _kind_or_404(request, kind_id)
    form = {k: _text(data, k) for k in ("name_zh", "name_en", "level")}
    try:
        await tree.update_kind(c.db, kind, form["name_zh"], form["name_en"], form["level"])
    except tree.TreeError as exc:
        await _undo(request)
        kind = await _kind_or_404(request, kind_id)
        context = {"kind": kind, "form": form, "errors": exc.texts()}
        return await render(request, "core/tree/kind_edit.html", context, status_code=400)
    await c.db.commit()
    return Redirect(c.url("/grid/kinds?done=saved"), status_code=303)


@post("/grid/kinds/{kind_id:int}/delete", guards=[requires(EDIT)], status_code=200)
async def delete_kind(request: Request, kind_id: FromPath[int]) -> Any:
    c = ctx(request)
    assert c.db is not None
    kind = await _kind_or_404(request, kind_id)
    try:
        await tree.delete_kind(c.db, kind)
    except tree.TreeError as exc:
        name = kind.name_zh
        await _undo(request)
        alert = _("%(kind)s cannot be deleted: %(why)s", kind=name, why=" ".join(exc.texts().values()))
        return await _kinds_page(request, alert=alert)
    await c.db.commit()
    return Redirect(c.url("/grid/kinds?done=deleted"), status_code=303)


handlers = [kinds_page, create_kind, edit_kind_page, edit_kind, delete_kind]
