"""Field work pages on the phone: 我的 (/field/), 巡查 (start, track, end, the route), 居民 (the
households of my grid, 走访) and the 民情日志; for those above the worker, the same records in their area.

A worker sees their own records; ``core.field.view`` shows the records in its scope; anything else
is 404. Forms carry a client id, so a phone that sends its offline queue twice writes once."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import func, or_, select

from core.crypto import Vault
from core.db.base import utcnow
from core.grids.basedata import Resident
from core.grids.fieldwork import service as fw
from core.grids.fieldwork.models import DailyLog, Patrol, Visit
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import lazy
from core.identity.models import User
from core.rbac.scope import in_scope
from core.services import submissions
from core.services.errors import InvalidInput, ServiceError
from core.services.files.storage import UploadError
from core.services.files.uploads import IMAGES
from core.web.context import RequestContext, ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form, checked, text
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.uploads import save_upload

RECORD, VIEW = fw.RECORD, fw.VIEW
UPLOAD_LIMIT = (fw.MAX_PHOTOS * 20 + 1) * 1024 * 1024  # four phone photos and the form
SEEN = (RECORD, VIEW)


def _c(request: Request) -> RequestContext:
    c = ctx(request)
    assert c.db is not None and c.user is not None and c.tenant is not None
    return c


def _vault(request: Request) -> Vault:
    return request.app.state.vault


def visible(c: RequestContext, model: Any) -> Any:
    """Mine, or in the area where I may read field work."""
    assert c.user is not None
    return or_(model.user_id == c.user.id, in_scope(model.node_path, c.scope_prefixes(VIEW)))


def may_see(c: RequestContext, row: Any) -> bool:
    assert c.user is not None
    return row.user_id == c.user.id or c.can(VIEW, row.node_path)


async def _names(c: RequestContext, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await c.db.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return dict(rows.all())


async def _nodes(c: RequestContext, ids: set[int]) -> dict[int, GridNode]:
    if not ids:
        return {}
    rows = await c.db.execute(select(GridNode).where(GridNode.id.in_(ids)))
    return {n.id: n for n in rows.scalars()}


async def _home(request: Request) -> GridNode:
    c = _c(request)
    node = await fw.home_node(c.db, c.user.id, c.can)
    if node is None:
        raise NotFoundException()
    return node


# ---- 我的 ------------------------------------------------------------------------------------


@get("/field/", guards=[requires(RECORD)])
async def me(request: Request, db: DbSession, rc: Ctx) -> Any:
    today = utcnow().date()
    counts = await fw.counts_today(db, rc.user.id, today)
    patrol = await fw.active_patrol(db, rc.user.id)
    return await render(request, "core/field/me.html", {"counts": counts, "patrol": patrol, "c": rc})


# ---- 巡查 ------------------------------------------------------------------------------------


@get("/field/patrol", guards=[requires(RECORD)])
async def patrol_now(request: Request, db: DbSession, rc: Ctx) -> Any:
    patrol = await fw.active_patrol(db, rc.user.id)
    found = (await fw.findings(db, [patrol.id]))[patrol.id] if patrol else []
    home = await fw.home_node(db, rc.user.id, rc.can)
    return await render(request, "core/field/patrol.html", {"patrol": patrol, "findings": found, "home": home, "c": rc})


@post("/field/patrol/start", guards=[requires(RECORD)], status_code=200)
async def patrol_start(request: Request, db: DbSession, rc: Ctx) -> Any:
    node = await _home(request)
    await fw.start_patrol(db, rc.user.id, node)
    await db.commit()
    return Redirect(rc.url("/field/patrol"), status_code=303)


async def _my_patrol(request: Request, patrol_id: int) -> Patrol:
    c = _c(request)
    try:
        patrol = await fw.get_patrol(c.db, patrol_id)
    except ServiceError:
        raise NotFoundException() from None
    if patrol.user_id != c.user.id:
        raise NotFoundException()
    return patrol


@post("/field/patrol/{patrol_id:int}/points", guards=[requires(RECORD)], status_code=200)
async def patrol_points(request: Request, patrol_id: FromPath[int], db: DbSession) -> Response[Any]:
    """The phone's batch of positions (JSON ``{"points": [...]}``); a batch sent again adds nothing."""
    patrol = await _my_patrol(request, patrol_id)
    try:
        body = await request.json()
    except Exception:
        return Response({"detail": _("The body is not valid JSON.")}, status_code=400)
    try:
        fixes = fw.parse_fixes(body.get("points") if isinstance(body, dict) else None)
        added = await fw.add_points(db, patrol, fixes)
    except ServiceError as err:
        await db.rollback()
        return Response({"detail": err.translate(_)}, status_code=err.status)
    await db.commit()
    return Response({"added": added, "point_count": patrol.point_count, "distance_m": patrol.distance_m})


@post("/field/patrol/{patrol_id:int}/end", guards=[requires(RECORD)], status_code=200)
async def patrol_end(request: Request, patrol_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    patrol = await _my_patrol(request, patrol_id)
    await fw.end_patrol(db, patrol, note=text(data, "note", fw.MAX_TEXT))
    await db.commit()
    return Redirect(rc.url(f"/field/patrols/{patrol.id}"), status_code=303)


@get("/field/patrols", guards=[requires(RECORD, VIEW)])
async def patrols(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    stmt = select(Patrol).where(visible(rc, Patrol)).order_by(Patrol.started_at.desc(), Patrol.id.desc())
    result = await paginate(db, stmt, page)
    names = await _names(rc, {p.user_id for p in result.items})
    nodes = await _nodes(rc, {p.node_id for p in result.items})
    return await render(request, "core/field/patrols.html", {"page": result, "names": names, "nodes": nodes, "c": rc})


@get("/field/patrols/{patrol_id:int}", guards=[requires(RECORD, VIEW)])
async def patrol_detail(request: Request, patrol_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    try:
        patrol = await fw.get_patrol(db, patrol_id)
    except ServiceError:
        raise NotFoundException() from None
    if not may_see(rc, patrol):
        raise NotFoundException()
    points = await fw.route(db, patrol)
    context = {
        "patrol": patrol,
        "svg": fw.svg_route(points),
        "findings": (await fw.findings(db, [patrol.id]))[patrol.id],
        "worker": (await _names(rc, {patrol.user_id})).get(patrol.user_id, ""),
        "node": (await _nodes(rc, {patrol.node_id})).get(patrol.node_id),
        "c": rc,
    }
    return await render(request, "core/field/patrol_detail.html", context)


# ---- 居民 and 走访 -----------------------------------------------------------------------------


@get("/field/households", guards=[requires(RECORD)])
async def households(
    request: Request, db: DbSession, rc: Ctx, q: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> Any:
    stmt = select(GridNode).where(GridNode.kind == fw.HOUSEHOLD, in_scope(GridNode.path, rc.scope_prefixes(RECORD)))
    query = (q or "").strip()[:50]
    if query:
        stmt = stmt.where(
            or_(
                GridNode.name.contains(query, autoescape=True),
                GridNode.id.in_(select(Resident.node_id).where(Resident.name.contains(query, autoescape=True))),
            )
        )
    result = await paginate(db, stmt.order_by(GridNode.path), page, per_page=30)
    ids = [n.id for n in result.items]
    counts: dict[int, int] = {}
    last: dict[int, Any] = {}
    if ids:
        counts = dict(
            (
                await db.execute(
                    select(Resident.node_id, func.count(Resident.id))
                    .where(Resident.node_id.in_(ids), Resident.status == "active")
                    .group_by(Resident.node_id)
                )
            ).all()
        )
        last = dict(
            (
                await db.execute(
                    select(Visit.household_node_id, func.max(Visit.visited_at))
                    .where(Visit.household_node_id.in_(ids))
                    .group_by(Visit.household_node_id)
                )
            ).all()
        )
    parents = await _nodes(rc, {n.parent_id for n in result.items if n.parent_id})
    return await render(
        request,
        "core/field/households.html",
        {"page": result, "q": query, "counts": counts, "last": last, "parents": parents, "c": rc},
    )


async def _household(request: Request, node_id: int) -> GridNode:
    c = _c(request)
    try:
        node = await fw.household(c.db, node_id)
    except ServiceError:
        raise NotFoundException() from None
    if not c.can(RECORD, node.path):
        raise NotFoundException()
    return node


async def _visit_form(
    request: Request, node: GridNode, *, errors: dict[str, str] | None = None, form: Any = None, status_code: int = 200
) -> Any:
    c = _c(request)
    residents = await fw.residents_of(c.db, node)
    parent = (await _nodes(c, {node.parent_id} if node.parent_id else set())).get(node.parent_id or 0)
    return await render(
        request,
        "core/field/visit_form.html",
        {
            "node": node,
            "parent": parent,
            "residents": residents,
            "may_edit": c.can(fw.RESIDENT_EDIT, node.path),
            "errors": errors or {},
            "form": form or {},
            "c": c,
        },
        status_code=status_code,
    )


@get("/field/households/{node_id:int}/visit", guards=[requires(RECORD)])
async def visit_new(request: Request, node_id: FromPath[int]) -> Any:
    return await _visit_form(request, await _household(request, node_id))


def changes_from_form(data: Any, resident_ids: list[int]) -> list[fw.ResidentChange]:
    out = []
    for rid in resident_ids:
        note = text(data, f"note_{rid}", 2000)
        out.append(
            fw.ResidentChange(
                rid,
                phone=text(data, f"phone_{rid}", 20),
                note=note if checked(data, f"change_note_{rid}") else None,
                moved_out=checked(data, f"moved_out_{rid}"),
            )
        )
    return out


@post(
    "/field/households/{node_id:int}/visit",
    guards=[requires(RECORD)],
    status_code=200,
    request_max_body_size=UPLOAD_LIMIT,
)
async def visit_create(request: Request, node_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    node = await _household(request, node_id)
    form = await request.form()
    data = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
    uploads = [u for u in form.getall("photos") if isinstance(u, UploadFile) and u.filename] if "photos" in form else []
    client_id = submissions.clean_client_id(text(data, "client_id", 64))
    claim, new = await submissions.claim(db, rc.user.id, client_id, "core.field_visit")
    if not new and claim is not None:
        return Redirect(rc.url(claim.location or "/field/visits"), status_code=303)
    residents = await fw.residents_of(db, node)
    try:
        if len(uploads) > fw.MAX_PHOTOS:
            raise InvalidInput(lazy("Add at most %(n)s photos."), field="photos", n=fw.MAX_PHOTOS)
        visit = await fw.record_visit(
            db,
            _vault(request),
            rc.user.id,
            node,
            text(data, "notes", fw.MAX_TEXT + 1),
            changes_from_form(data, [r.id for r in residents]),
            may_edit=rc.can(fw.RESIDENT_EDIT, node.path),
        )
        for upload in uploads:
            photo = fw.clean_photo(await upload.read())
            if photo is None:
                raise InvalidInput(lazy("That file is not a photo we can read."), field="photos")
            clean = UploadFile(content_type="image/jpeg", filename="visit.jpg", file_data=photo)
            await save_upload(request, clean, fw.VISIT_FILES, visit.id, allowed_types=IMAGES)
    except (ServiceError, UploadError) as err:
        await db.rollback()
        await db.refresh(rc.user)
        node = await _household(request, node_id)
        message = err.translate(_) if isinstance(err, ServiceError) else str(err)
        field = getattr(err, "field", None) or ("photos" if isinstance(err, UploadError) else "form")
        return await _visit_form(request, node, errors={field: message}, form=data, status_code=400)
    submissions.complete(claim, visit.id, f"/field/visits/{visit.id}")
    await db.commit()
    return Redirect(rc.url(f"/field/visits/{visit.id}"), status_code=303)


@get("/field/visits", guards=[requires(RECORD, VIEW)])
async def visits(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    stmt = select(Visit).where(visible(rc, Visit)).order_by(Visit.visited_at.desc(), Visit.id.desc())
    result = await paginate(db, stmt, page)
    names = await _names(rc, {v.user_id for v in result.items})
    nodes = await _nodes(rc, {v.household_node_id for v in result.items})
    return await render(request, "core/field/visits.html", {"page": result, "names": names, "nodes": nodes, "c": rc})


@get("/field/visits/{visit_id:int}", guards=[requires(RECORD, VIEW)])
async def visit_detail(request: Request, visit_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    visit = (await db.execute(select(Visit).where(Visit.id == visit_id))).scalar_one_or_none()
    if visit is None or not may_see(rc, visit):
        raise NotFoundException()
    node = (await _nodes(rc, {visit.household_node_id}))[visit.household_node_id]
    worker = (await _names(rc, {visit.user_id})).get(visit.user_id, "")
    photos = await fw.visit_photos(db, visit.id)
    return await render(
        request, "core/field/visit.html", {"visit": visit, "node": node, "worker": worker, "photos": photos, "c": rc}
    )


# ---- 民情日志 ----------------------------------------------------------------------------------


async def _log_page(request: Request, *, errors: dict[str, str] | None = None, form: Any = None) -> Any:
    c = _c(request)
    stmt = (
        select(DailyLog)
        .where(DailyLog.user_id == c.user.id)
        .order_by(DailyLog.day.desc(), DailyLog.created_at.desc())
        .limit(50)
    )
    entries = list((await c.db.execute(stmt)).scalars())
    return await render(
        request,
        "core/field/log.html",
        {
            "entries": entries,
            "topics": {k: _(v) for k, v in fw.TOPICS.items()},
            "errors": errors or {},
            "form": form or {},
            "today": utcnow().date().isoformat(),
            "c": c,
        },
        status_code=400 if errors else 200,
    )


@get("/field/log", guards=[requires(RECORD)])
async def log_page(request: Request) -> Any:
    return await _log_page(request)


@post("/field/log", guards=[requires(RECORD)], status_code=200)
async def log_add(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    node = await _home(request)
    client_id = submissions.clean_client_id(text(data, "client_id", 64))
    claim, new = await submissions.claim(db, rc.user.id, client_id, "core.field_log")
    if not new:
        return Redirect(rc.url("/field/log"), status_code=303)
    raw_day = text(data, "day", 10)
    try:
        day = date.fromisoformat(raw_day) if raw_day else None
    except ValueError:
        day = None
        await db.rollback()
        await db.refresh(rc.user)
        return await _log_page(request, errors={"day": _("Give the day as YYYY-MM-DD.")}, form=data)
    try:
        entry = await fw.add_log(
            db,
            rc.user.id,
            node,
            text(data, "body", fw.MAX_TEXT + 1),
            text(data, "topic", 32) or "other",
            day,
        )
    except ServiceError as err:
        await db.rollback()
        await db.refresh(rc.user)
        return await _log_page(request, errors={err.field or "form": err.translate(_)}, form=data)
    submissions.complete(claim, entry.id, "/field/log")
    await db.commit()
    return Redirect(rc.url("/field/log"), status_code=303)


@get("/field/logs", guards=[requires(VIEW)])
async def logs(
    request: Request,
    db: DbSession,
    rc: Ctx,
    worker: FromQuery[int | None] = None,
    day: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Any:
    """The daily logs written in my area, newest first; by worker and day."""
    stmt = select(DailyLog).where(in_scope(DailyLog.node_path, rc.scope_prefixes(VIEW)))
    if worker:
        stmt = stmt.where(DailyLog.user_id == worker)
    chosen: date | None = None
    if day:
        try:
            chosen = date.fromisoformat(day.strip())
        except ValueError:
            chosen = None
    if chosen:
        stmt = stmt.where(DailyLog.day == chosen)
    result = await paginate(db, stmt.order_by(DailyLog.day.desc(), DailyLog.created_at.desc()), page)
    writers = (
        await db.execute(
            select(User.id, User.display_name)
            .where(User.id.in_(select(DailyLog.user_id).where(in_scope(DailyLog.node_path, rc.scope_prefixes(VIEW)))))
            .order_by(User.display_name)
        )
    ).all()
    names = dict(writers)
    nodes = await _nodes(rc, {e.node_id for e in result.items})
    query = "?" + "&".join(p for p in (f"worker={worker}" if worker else "", f"day={chosen}" if chosen else "") if p)
    return await render(
        request,
        "core/field/logs.html",
        {
            "page": result,
            "names": names,
            "nodes": nodes,
            "writers": writers,
            "worker": worker,
            "day": chosen.isoformat() if chosen else "",
            "topics": {k: _(v) for k, v in fw.TOPICS.items()},
            "base": rc.url("/field/logs") + (query + "&" if len(query) > 1 else "?"),
            "c": rc,
        },
    )


handlers = [
    me,
    patrol_now,
    patrol_start,
    patrol_points,
    patrol_end,
    patrols,
    patrol_detail,
    households,
    visit_new,
    visit_create,
    visits,
    visit_detail,
    log_page,
    log_add,
    logs,
]
