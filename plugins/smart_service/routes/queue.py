"""Every level works its own queue: a handling unit's members (a 街道办, a 区直部门, a property
company, a community) see what is dispatched to their units and sign for, handle and return it on
their phones (the task page, ``routes/mobile.py``); admins keep each unit's members. Also 自处置
(found and handled on the spot, one step) and the areas a resident follows.

    GET  /smart-service/queue?tab=new|doing|done          my units' queue
    GET  /smart-service/admin/units/{id}/members          a unit's members (add, remove)
    GET  /smart-service/on-the-spot                       自处置 form (grid workers)
    GET  /smart-service/follows                           areas I follow (follow, unfollow)
    GET  /api/v1/smart-service/queue?tab=                 the same as JSON
    POST /api/v1/smart-service/queue/{number}/{action}    sign | handle | feedback | return
    POST /api/v1/smart-service/on-the-spot                multipart: fields, before, after
    GET|POST /api/v1/smart-service/follows, DELETE /api/v1/smart-service/follows/{node_id}
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.files.storage import UploadError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.routes.api import api_router
from plugins.smart_service import onspot, services, units
from plugins.smart_service import photos as ph
from plugins.smart_service.lifecycle import HANDLE, TransitionError
from plugins.smart_service.models import Event, HandlingUnit
from plugins.smart_service.routes.resident import UPLOAD_LIMIT, ReportProblem, categories, home_node_id, point, rollback
from plugins.smart_service.routes.resident import state_label as state_name
from plugins.smart_service.work_models import AreaFollow

WORK = "smart_service.unit.work"
FOLLOW = "smart_service.area.follow"
EDIT = "smart_service.config.edit"
QUEUE_ACTIONS = ("sign", "handle", "feedback", "return")
MAX_FOLLOWS = 20


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


def _tab(tab: str | None) -> str:
    return tab if tab in units.TABS else "new"


async def _unit_names(session: Any, events: list[Event], locale: str) -> dict[int, str]:
    ids = {e.handling_unit_id for e in events if e.handling_unit_id}
    if not ids:
        return {}
    rows = await session.execute(select(HandlingUnit).where(HandlingUnit.id.in_(ids)))
    return {u.id: u.label(locale) for u in rows.scalars()}


# ---- the queue ---------------------------------------------------------------------------------


@get("/smart-service/queue", guards=[requires(WORK)])
async def queue_page(
    request: Request, db: DbSession, rc: Ctx, tab: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> Any:
    assert rc.user is not None
    mine = await units.units_of(db, rc.user.id)
    tab = _tab(tab)
    result = await paginate(db, units.queue_statement([u.id for u in mine], tab), page)
    counts = {}
    for key in units.TABS:
        counts[key] = (await paginate(db, units.queue_statement([u.id for u in mine], key), 1, 1)).total
    return await render(
        request,
        "smart_service/queue.html",
        {
            "units": mine,
            "tab": tab,
            "tabs": units.TAB_LABELS,
            "counts": counts,
            "page": result,
            "unit_names": await _unit_names(db, list(result.items), rc.locale),
            "state_label": state_name,
            "c": rc,
        },
        headers={"Cache-Control": "no-store"},
    )


def _item(c: Any, event: Event, unit_names: dict[int, str]) -> dict[str, Any]:
    return {
        "number": event.number,
        "title": event.title,
        "category": event.category_code,
        "source": event.source,
        "state": event.state,
        "state_label": state_name(event.state),
        "unit": unit_names.get(event.handling_unit_id or 0),
        "assignee_user_id": event.assignee_user_id,
        "due_at": event.due_at.isoformat() if event.due_at else None,
        "overdue": bool(event.sla_breached),
        "version": event.version,
        "address": event.address,
        "url": c.url(f"/smart-service/tasks/{event.id}"),
    }


@get("/smart-service/queue", guards=[requires(WORK)], summary="My units' queue", name="api_queue")
async def api_queue(
    db: DbSession, rc: Ctx, tab: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> dict[str, Any]:
    assert rc.user is not None
    mine = await units.units_of(db, rc.user.id)
    tab = _tab(tab)
    result = await paginate(db, units.queue_statement([u.id for u in mine], tab), page)
    names = await _unit_names(db, list(result.items), rc.locale)
    return {
        "units": [{"id": u.id, "name": u.label(rc.locale), "level": u.level} for u in mine],
        "tab": tab,
        "page": result.number,
        "pages": result.pages,
        "total": result.total,
        "events": [_item(rc, e, names) for e in result.items],
    }


@post(
    "/smart-service/queue/{number:str}/{action:str}",
    guards=[requires(WORK)],
    status_code=200,
    request_max_body_size=UPLOAD_LIMIT * 2,
    summary="Sign for, handle, report the result of (multipart with after photos) or return a case of my unit",
)
async def api_queue_act(request: Request, number: FromPath[str], action: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None and rc.tenant is not None
    if action not in QUEUE_ACTIONS:
        return refuse(404, _("Unknown action %(action)s", action=action))
    try:
        event = await services.get_by_number(db, number)
    except services.EventNotFound:
        event = None
    if event is None or not (event.assignee_user_id == rc.user.id or await units.in_my_queue(db, event, rc.user.id)):
        return refuse(404, _("No case %(number)s is in your queue.", number=number))
    content_type = request.headers.get("content-type", "")
    photo_ids: list[int] = []
    try:
        if content_type.startswith("application/json"):
            try:
                body = await request.json()
            except Exception:
                return refuse(400, _("The body is not valid JSON."))
            if not isinstance(body, dict):
                return refuse(400, _("Send the action as a JSON object."))
            fields: Any = body
        else:
            fields = await request.form()
            if action == "feedback":
                for kind in ("before", "after"):
                    uploads = [u for u in fields.getall(kind) if isinstance(u, UploadFile)] if kind in fields else []
                    stored = await ph.store_photos(
                        request, db, rc.tenant.id, uploads, event_id=event.id, kind=kind, uploaded_by=rc.user.id
                    )
                    photo_ids.extend(stored.ids)
        version = fields.get("version")
        await services.transition(
            db,
            event,
            action,
            rc.actor,
            note=str(fields.get("note") or ""),
            photos=photo_ids,
            version=int(str(version)) if str(version or "").isdigit() else None,
            can=rc.can,
            app_state=request.app.state,
            enabled=rc.enabled,
        )
        await db.commit()
    except UploadError as exc:
        await rollback(request)
        return refuse(exc.status, str(exc))
    except services.StaleEvent as exc:
        await rollback(request)
        return refuse(409, exc.translated(_))
    except services.NotAllowed as exc:
        await rollback(request)
        return refuse(403, exc.translated(_))
    except TransitionError as exc:
        await rollback(request)
        return refuse(422, exc.translated(_))
    event = await services.get_event(db, event.id)
    return _item(rc, event, await _unit_names(db, [event], rc.locale))


# ---- a unit's members (admin) ------------------------------------------------------------------


async def _unit(request: Request, unit_id: int) -> HandlingUnit:
    c = ctx(request)
    assert c.db is not None
    unit = (await c.db.execute(select(HandlingUnit).where(HandlingUnit.id == unit_id))).scalar_one_or_none()
    if unit is None:
        raise NotFoundException()
    return unit


async def _members_page(request: Request, unit: HandlingUnit, *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    return await render(
        request,
        "smart_service/admin_members.html",
        {"unit": unit, "members": await units.members(c.db, unit.id), "error": error, "c": c},
        status_code=status,
    )


@get("/smart-service/admin/units/{unit_id:int}/members", guards=[requires(EDIT)])
async def members_page(request: Request, unit_id: FromPath[int]) -> Any:
    return await _members_page(request, await _unit(request, unit_id))


@post("/smart-service/admin/units/{unit_id:int}/members", guards=[requires(EDIT)], status_code=200)
async def add_member(request: Request, unit_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    unit = await _unit(request, unit_id)
    form = await request.form()
    try:
        await units.add_member(db, unit.id, str(form.get("username") or ""), str(form.get("duty") or ""))
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        return await _members_page(request, await _unit(request, unit_id), error=exc.translated(_), status=422)
    return Redirect(rc.url(f"/smart-service/admin/units/{unit.id}/members"), status_code=303)


@post("/smart-service/admin/units/{unit_id:int}/members/{user_id:int}/remove", guards=[requires(EDIT)], status_code=200)
async def remove_member(
    request: Request, unit_id: FromPath[int], user_id: FromPath[int], db: DbSession, rc: Ctx
) -> Any:
    unit = await _unit(request, unit_id)
    if not await units.remove_member(db, unit.id, user_id):
        raise NotFoundException()
    await db.commit()
    return Redirect(rc.url(f"/smart-service/admin/units/{unit.id}/members"), status_code=303)


# ---- 自处置 ----------------------------------------------------------------------------------------


async def _spot_form(request: Request, values: dict[str, str], *, error: str | None = None, status: int = 200) -> Any:
    from plugins.smart_service.routes.resident import node_choices

    c = ctx(request)
    if not values.get("node_id"):
        home = await home_node_id(request)
        values["node_id"] = str(home or "")
    return await render(
        request,
        "smart_service/on_the_spot.html",
        {
            "v": values,
            "categories": await categories(request),
            "nodes": await node_choices(request),
            "error": error,
            "accept": ph.ACCEPT,
            "max_photos": ph.MAX_COUNT,
            "c": c,
        },
        status_code=status,
    )


async def _record_spot(request: Request, fields: Any) -> Event:
    """Store the before/after photos and record the case; the caller commits or rolls back."""
    c = ctx(request)
    assert c.db is not None and c.tenant is not None and c.user is not None
    code = str(fields.get("category") or "").strip()
    category = next((cat for cat in await categories(request) if cat.code == code), None)
    if category is None:
        raise ReportProblem(_("Choose a category."))
    raw_node = str(fields.get("node_id") or "").strip()
    node_id = int(raw_node) if raw_node.isdigit() else await home_node_id(request)
    node = await c.db.get(GridNode, (c.tenant.id, node_id)) if node_id else None
    if node is None or not c.can(HANDLE, node.path):
        raise ReportProblem(_("Choose where the problem is."))
    where = point(str(fields.get("lon") or "").strip(), str(fields.get("lat") or "").strip())
    stored: dict[str, Any] = {}
    for kind in ("before", "after"):
        uploads = [u for u in fields.getall(kind) if isinstance(u, UploadFile)] if kind in fields else []
        stored[kind] = await ph.store_photos(
            request, c.db, c.tenant.id, uploads, event_id=None, kind=kind, uploaded_by=c.user.id
        )
    if not stored["after"].ids:
        raise UploadError(_("Add at least one photo of the result (after)."))
    if where is None and stored["before"].gps is not None:
        where = stored["before"].gps
    description = str(fields.get("description") or "").strip()
    title = category.label(c.locale) + (f"：{description[:40]}" if description else "")
    event = await onspot.record(
        c.db,
        c.actor,
        title=title[:200],
        category_code=category.code,
        node_id=node.id,
        before=stored["before"].ids,
        after=stored["after"].ids,
        note=str(fields.get("note") or "").strip(),
        description=description,
        lon=where[0] if where else None,
        lat=where[1] if where else None,
        address=str(fields.get("address") or "").strip(),
        reporter_name=c.user.display_name,
        can=c.can,
        app_state=request.app.state,
    )
    ph.attach(stored["before"], event.id)
    ph.attach(stored["after"], event.id)
    return event


@get("/smart-service/on-the-spot", guards=[requires(HANDLE)])
async def spot_form(request: Request) -> Any:
    return await _spot_form(request, {})


@post("/smart-service/on-the-spot", guards=[requires(HANDLE)], status_code=200, request_max_body_size=UPLOAD_LIMIT * 2)
async def spot_submit(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    values = {
        k: str(form.get(k) or "") for k in ("category", "description", "note", "node_id", "lon", "lat", "address")
    }
    try:
        event = await _record_spot(request, form)
        await db.commit()
    except (ReportProblem, UploadError) as exc:
        await rollback(request)
        return await _spot_form(request, values, error=str(exc), status=getattr(exc, "status", 400))
    except TransitionError as exc:
        await rollback(request)
        return await _spot_form(request, values, error=exc.translated(_), status=400)
    return Redirect(rc.url(f"/smart-service/tasks/{event.id}"), status_code=303)


@post(
    "/smart-service/on-the-spot",
    guards=[requires(HANDLE)],
    status_code=201,
    request_max_body_size=UPLOAD_LIMIT * 2,
    summary="自处置: report and close in one step (multipart: category, description, node_id, before, after)",
    name="api_on_the_spot",
)
async def api_spot(request: Request, db: DbSession) -> Any:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return refuse(400, _("Send the case as multipart form data with its photos."))
    form = await request.form()
    try:
        event = await _record_spot(request, form)
        await db.commit()
    except (ReportProblem, UploadError) as exc:
        await rollback(request)
        return refuse(getattr(exc, "status", 400), str(exc))
    except TransitionError as exc:
        await rollback(request)
        return refuse(422, exc.translated(_))
    return Response(
        {
            "number": event.number,
            "state": event.state,
            "source": event.source,
            "closed_at": event.closed_at.isoformat(),
        },
        status_code=201,
    )


# ---- following an area -------------------------------------------------------------------------


async def _followable(request: Request) -> list[GridNode]:
    """Areas one may follow: the communities and grids in the user's follow scope."""
    c = ctx(request)
    assert c.db is not None
    rows = await c.db.execute(
        select(GridNode)
        .where(in_scope(GridNode.path, c.scope_prefixes(FOLLOW)), GridNode.depth >= 1)
        .order_by(GridNode.path)
        .limit(300)
    )
    return list(rows.scalars())


async def _follows(request: Request) -> list[tuple[AreaFollow, GridNode]]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    rows = await c.db.execute(
        select(AreaFollow, GridNode)
        .join(GridNode, (GridNode.tenant_id == AreaFollow.tenant_id) & (GridNode.id == AreaFollow.node_id))
        .where(AreaFollow.user_id == c.user.id)
        .order_by(GridNode.path)
    )
    return [(f, n) for f, n in rows.all()]


async def follow(request: Request, raw: Any) -> GridNode:
    """Follow the node ``raw`` (an id); refused with ``ReportProblem`` outside one's scope."""
    c = ctx(request)
    assert c.db is not None and c.user is not None and c.tenant is not None
    text = str(raw or "").strip()
    node = await c.db.get(GridNode, (c.tenant.id, int(text))) if text.isdigit() and len(text) < 19 else None
    if node is None or not c.can(FOLLOW, node.path):
        raise ReportProblem(_("Choose an area to follow."))
    current = await _follows(request)
    if any(n.id == node.id for _f, n in current):
        return node
    if len(current) >= MAX_FOLLOWS:
        raise ReportProblem(_("You follow %(n)s areas already: unfollow one first.", n=MAX_FOLLOWS))
    c.db.add(AreaFollow(user_id=c.user.id, node_id=node.id, node_path=node.path))
    await c.db.flush()
    return node


async def unfollow(request: Request, node_id: int) -> bool:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    res = await c.db.execute(
        sql_delete(AreaFollow)
        .where(AreaFollow.user_id == c.user.id, AreaFollow.node_id == node_id)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)


async def _follows_page(request: Request, *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    return await render(
        request,
        "smart_service/follows.html",
        {"follows": await _follows(request), "nodes": await _followable(request), "error": error, "c": c},
        status_code=status,
    )


@get("/smart-service/follows", guards=[requires(FOLLOW)])
async def follows_page(request: Request) -> Any:
    return await _follows_page(request)


@post("/smart-service/follows", guards=[requires(FOLLOW)], status_code=200)
async def follow_submit(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    try:
        await follow(request, form.get("node_id"))
        await db.commit()
    except ReportProblem as exc:
        await rollback(request)
        return await _follows_page(request, error=str(exc), status=400)
    return Redirect(rc.url("/smart-service/follows"), status_code=303)


@post("/smart-service/follows/{node_id:int}/delete", guards=[requires(FOLLOW)], status_code=200)
async def unfollow_submit(request: Request, node_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    if not await unfollow(request, node_id):
        raise NotFoundException()
    await db.commit()
    return Redirect(rc.url("/smart-service/follows"), status_code=303)


def _follow_json(node: GridNode) -> dict[str, Any]:
    return {"node_id": node.id, "name": node.name, "kind": node.kind}


@get("/smart-service/follows", guards=[requires(FOLLOW)], summary="Areas I follow", name="api_follows")
async def api_follows(request: Request) -> dict[str, Any]:
    return {"follows": [_follow_json(n) for _f, n in await _follows(request)]}


@post("/smart-service/follows", guards=[requires(FOLLOW)], status_code=201, summary="Follow an area", name="api_follow")
async def api_follow(request: Request, db: DbSession) -> Any:
    try:
        body = await request.json()
    except Exception:
        body = None
    if not isinstance(body, dict):
        return refuse(400, _('Send the area as JSON: {"node_id": …}.'))
    try:
        node = await follow(request, body.get("node_id"))
        await db.commit()
    except ReportProblem as exc:
        await rollback(request)
        return refuse(400, str(exc))
    return Response(_follow_json(node), status_code=201)


@delete(
    "/smart-service/follows/{node_id:int}",
    guards=[requires(FOLLOW)],
    status_code=200,
    summary="Stop following an area",
    name="api_unfollow",
)
async def api_unfollow(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    if not await unfollow(request, node_id):
        return refuse(404, _("You do not follow that area."))
    await db.commit()
    return {"node_id": node_id, "followed": False}


handlers = [
    queue_page,
    members_page,
    add_member,
    remove_member,
    spot_form,
    spot_submit,
    follows_page,
    follow_submit,
    unfollow_submit,
    api_router(api_queue, api_queue_act, api_spot, api_follows, api_follow, api_unfollow),
]
