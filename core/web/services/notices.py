"""Public notices (公示/公开栏): staff (``core.notice.manage``, in their part of the tree) put an item
on notice at a node for a period, record objections made in person and answer every objection;
each node has a public board anyone may read; a signed-in person raises an objection (异议) on the
page or through the JSON API while the notice is up."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import lazy
from core.rbac.scope import in_scope
from core.services import notices
from core.services.errors import ServiceError
from core.services.notices.models import Notice, NoticeObjection
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import check_in_scope, public, requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from core.web.routes.api import api_router
from core.web.services.common import (
    BadBody,
    Form,
    errors_of,
    integer,
    iso,
    json_object,
    local_datetime,
    node_or_404,
    refuse,
    refuse_error,
    rollback,
    scope_nodes,
    tell,
    text,
)

MANAGE = "core.notice.manage"
CHANNELS = {
    "online": lazy("online"),
    "in_person": lazy("in person"),
    "phone": lazy("by phone"),
    "letter": lazy("by letter"),
}
DONE = {
    "published": lazy("The notice is up."),
    "objected": lazy("Your objection has been recorded; you will be told the answer."),
    "answered": lazy("The answer has been recorded."),
    "recorded": lazy("The objection has been recorded."),
    "withdrawn": lazy("The notice has been taken down."),
}


def _message(request: Request) -> str | None:
    done = request.query_params.get("done")
    return _(DONE[done]) if done in DONE else None


async def _node(request: Request, node_id: int) -> GridNode:
    c = ctx(request)
    assert c.db is not None
    node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise NotFoundException()
    return node


async def _shown(request: Request, notice_id: int) -> Notice:
    """A notice the public may read now (in its period, consents holding); 404 otherwise."""
    c = ctx(request)
    assert c.db is not None
    notice = (await c.db.execute(select(Notice).where(Notice.id == notice_id))).scalar_one_or_none()
    if notice is None or not await notices.is_shown(c.db, notice):
        raise NotFoundException()
    return notice


# ---- the public board -----------------------------------------------------------------------


@get("/board/{node_id:int}", guards=[public])
async def board(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    node = await _node(request, node_id)
    items = await notices.board(db, node)
    children = (
        (await db.execute(select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.code).limit(100)))
        .scalars()
        .all()
    )
    return await render(request, "core/services/board.html", {"node": node, "items": items, "children": children})


@get("/notices/{notice_id:int}", guards=[public])
async def notice_page(request: Request, notice_id: FromPath[int]) -> Any:
    return await _notice_page(request, await _shown(request, notice_id), {}, {})


async def _notice_page(request: Request, notice: Notice, errors: dict[str, str], values: dict[str, str]) -> Any:
    c = ctx(request)
    assert c.db is not None
    mine = []
    if c.user is not None:
        mine = (
            (
                await c.db.execute(
                    select(NoticeObjection)
                    .where(NoticeObjection.notice_id == notice.id, NoticeObjection.raised_by == c.user.id)
                    .order_by(NoticeObjection.raised_at)
                )
            )
            .scalars()
            .all()
        )
    return await render(
        request,
        "core/services/notice.html",
        {"n": notice, "mine": mine, "errors": errors, "values": values, "message": _message(request)},
        status_code=400 if errors else 200,
    )


@post("/notices/{notice_id:int}/object", guards=[signed_in], status_code=200)
async def object_to(request: Request, notice_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    notice = await _shown(request, notice_id)
    body = text(data, "body", 4000)
    try:
        await notices.object_to(db, notice.id, body, user_id=rc.user.id)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _notice_page(request, await _shown(request, notice_id), errors_of(err, "body"), {"body": body})
    return Redirect(rc.url(f"/notices/{notice_id}?done=objected"), status_code=303)


# ---- staff ----------------------------------------------------------------------------------


async def _managed(request: Request, notice_id: int) -> Notice:
    c = ctx(request)
    assert c.db is not None
    notice = (await c.db.execute(select(Notice).where(Notice.id == notice_id))).scalar_one_or_none()
    if notice is None:
        raise NotFoundException()
    check_in_scope(request, MANAGE, notice.node_path)
    return notice


@get("/notices/manage", guards=[requires(MANAGE)])
async def manage_list(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    stmt = (
        select(Notice)
        .where(in_scope(Notice.node_path, rc.scope_prefixes(MANAGE)))
        .order_by(Notice.starts_at.desc(), Notice.id)
    )
    return await render(request, "core/services/notices_manage.html", {"page": await paginate(db, stmt, page, 20)})


async def _form(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    return await render(
        request,
        "core/services/notice_form.html",
        {"values": values, "errors": errors, "nodes": await scope_nodes(request, MANAGE)},
        status_code=status,
    )


@get("/notices/new", guards=[requires(MANAGE)])
async def new_form(request: Request) -> Any:
    return await _form(request, {}, {})


@post("/notices/new", guards=[requires(MANAGE)], status_code=200)
async def new_notice(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    values = {k: text(data, k, 10000) for k in ("title", "body", "node", "starts_at", "ends_at", "kind")}
    errors: dict[str, str] = {}
    starts, ends = local_datetime(values["starts_at"]), local_datetime(values["ends_at"])
    if starts is None:
        errors["starts_at"] = _("Give a date and time.")
    if ends is None:
        errors["ends_at"] = _("Give a date and time.")
    if integer(values, "node") is None:
        errors["node"] = _("Choose where the notice is put up.")
    if errors:
        return await _form(request, values, errors, 400)
    try:
        node = await node_or_404(request, integer(values, "node"), MANAGE)
    except NotFoundException:
        return await _form(request, values, {"node": _("Choose where the notice is put up.")}, 400)
    try:
        notice = await notices.publish(
            db,
            title=values["title"],
            body=values["body"],
            node=node,
            starts_at=starts,  # type: ignore[arg-type]
            ends_at=ends,  # type: ignore[arg-type]
            kind=values["kind"][:64],
            source="core",
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _form(request, values, errors_of(err), 400)
    return Redirect(rc.url(f"/notices/{notice.id}/staff?done=published"), status_code=303)


async def _staff_page(request: Request, notice: Notice, errors: dict[str, str] | None = None) -> Any:
    c = ctx(request)
    assert c.db is not None
    return await render(
        request,
        "core/services/notice_staff.html",
        {
            "n": notice,
            "objections": await notices.objections(c.db, notice.id),
            "shown": await notices.is_shown(c.db, notice),
            "channels": {k: _(v) for k, v in CHANNELS.items()},
            "errors": errors or {},
            "message": _message(request),
        },
        status_code=400 if errors else 200,
    )


@get("/notices/{notice_id:int}/staff", guards=[requires(MANAGE)])
async def staff_page(request: Request, notice_id: FromPath[int]) -> Any:
    return await _staff_page(request, await _managed(request, notice_id))


@post("/notices/{notice_id:int}/objections", guards=[requires(MANAGE)], status_code=200)
async def record_objection(request: Request, notice_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    """An objection made in person, by phone or by letter, recorded by staff."""
    notice = await _managed(request, notice_id)
    try:
        await notices.object_to(
            db, notice.id, text(data, "body", 4000), name=text(data, "name", 100), channel=text(data, "channel", 16)
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, notice_id), errors_of(err))
    return Redirect(rc.url(f"/notices/{notice_id}/staff?done=recorded"), status_code=303)


@post("/notices/{notice_id:int}/objections/{objection_id:int}/answer", guards=[requires(MANAGE)], status_code=200)
async def answer(
    request: Request,
    notice_id: FromPath[int],
    objection_id: FromPath[int],
    data: Form,
    db: DbSession,
    rc: Ctx,
) -> Any:
    notice = await _managed(request, notice_id)
    objection = (
        await db.execute(
            select(NoticeObjection).where(NoticeObjection.id == objection_id, NoticeObjection.notice_id == notice.id)
        )
    ).scalar_one_or_none()
    if objection is None:
        raise NotFoundException()
    found = objection.raised_by
    try:
        await notices.answer(db, objection_id, text(data, "answer", 4000))
        if found is not None:
            await tell(
                request,
                found,
                lazy("Your objection to “%(title)s” has been answered."),
                rc.url(f"/notices/{notice_id}"),
                title=notice.title,
            )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, notice_id), errors_of(err))
    return Redirect(rc.url(f"/notices/{notice_id}/staff?done=answered"), status_code=303)


@post("/notices/{notice_id:int}/withdraw", guards=[requires(MANAGE)], status_code=200)
async def withdraw(request: Request, notice_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    notice = await _managed(request, notice_id)
    try:
        await notices.withdraw(db, notice, text(data, "reason", 300))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, notice_id), errors_of(err))
    return Redirect(rc.url(f"/notices/{notice_id}/staff?done=withdrawn"), status_code=303)


# ---- JSON API -------------------------------------------------------------------------------


def _notice_out(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "title": n.title,
        "body": n.body,
        "kind": n.kind,
        "node_id": n.node_id,
        "starts_at": iso(n.starts_at),
        "ends_at": iso(n.ends_at),
    }


@get("/board/{node_id:int}", guards=[signed_in], summary="What a node's public notice board shows now")
async def api_board(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    try:
        node = await _node(request, node_id)
    except NotFoundException:
        return refuse(404, _("There is no such place here."))
    return {
        "node": {"id": node.id, "name": node.name},
        "notices": [_notice_out(n) for n in await notices.board(db, node)],
    }


@post("/notices/{notice_id:int}/objections", guards=[signed_in], status_code=201, summary="Raise an objection (异议)")
async def api_object(request: Request, notice_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        notice = await _shown(request, notice_id)
    except NotFoundException:
        return refuse(404, _("There is no such notice up now."))
    try:
        body = await json_object(request)
        objection = await notices.object_to(db, notice.id, text(body, "body", 4000), user_id=rc.user.id)
        await db.commit()
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    return Response(
        {"id": objection.id, "status": objection.status, "raised_at": iso(objection.raised_at)}, status_code=201
    )


handlers = [
    board,
    notice_page,
    object_to,
    manage_list,
    new_form,
    new_notice,
    staff_page,
    record_objection,
    answer,
    withdraw,
    api_router(api_board, api_object),
]
