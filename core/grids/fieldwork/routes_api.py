"""JSON API for field work (a mini-program or the phone app): patrols, visits, the daily log.

POST /api/v1/field/patrols                       start (or get the patrol under way)
GET  /api/v1/field/patrols                       mine and those in my area (?page=)
GET  /api/v1/field/patrols/{id}                  one, with its route and findings
POST /api/v1/field/patrols/{id}/points           {"points": [{"t", "lon", "lat", "acc"}]} (WGS84)
POST /api/v1/field/patrols/{id}/end              {"note"}
GET  /api/v1/field/households                    households of my grid (?q=&page=)
POST /api/v1/field/visits                        {"household_id", "notes", "changes": [...], "client_id"}
GET  /api/v1/field/visits                        mine and those in my area
POST /api/v1/field/logs                          {"body", "topic", "day", "client_id"}
GET  /api/v1/field/logs                          mine, or my area's with core.field.view (?mine=1)

Positions are WGS84: a mini-program converts its GCJ-02 fixes before sending (convert at the edge).
A ``client_id`` makes a write idempotent: sent again, it answers the first result with 200.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from sqlalchemy import select

from core.grids.basedata import Resident
from core.grids.fieldwork import service as fw
from core.grids.fieldwork.models import DailyLog, Patrol, PatrolFinding, Visit
from core.grids.fieldwork.routes import _c, _vault, may_see, visible
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services import submissions
from core.services.errors import NotFound, ServiceError
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.routes.api import api_router
from core.web.services.common import BadBody, iso, json_object, refuse, refuse_error

RECORD, VIEW = fw.RECORD, fw.VIEW


def _patrol_out(
    p: Patrol, findings: list[PatrolFinding] | None = None, points: list[Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "user_id": p.user_id,
        "node_id": p.node_id,
        "started_at": iso(p.started_at),
        "ended_at": iso(p.ended_at),
        "distance_m": p.distance_m,
        "point_count": p.point_count,
        "note": p.note,
    }
    if findings is not None:
        out["findings"] = [
            {"source": f.source, "ref": f.ref, "title": f.title, "href": f.href, "at": iso(f.at)} for f in findings
        ]
    if points is not None:
        out["points"] = [{"t": iso(pt.at), "lon": pt.lon, "lat": pt.lat, "acc": pt.accuracy} for pt in points]
    return out


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.id,
        "user_id": v.user_id,
        "household_id": v.household_node_id,
        "visited_at": iso(v.visited_at),
        "notes": v.notes,
        "changes": v.changes,
    }


def _log_out(e: DailyLog) -> dict[str, Any]:
    return {
        "id": e.id,
        "user_id": e.user_id,
        "node_id": e.node_id,
        "day": e.day.isoformat(),
        "topic": e.topic,
        "body": e.body,
    }


def _page(result: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "page": result.number, "pages": result.pages, "total": result.total}


async def _patrol(request: Request, patrol_id: int, *, own: bool) -> Patrol:
    c = _c(request)
    patrol = await fw.get_patrol(c.db, patrol_id)
    if (own and patrol.user_id != c.user.id) or not may_see(c, patrol):
        raise NotFound("There is no such patrol here.")
    return patrol


@post("/field/patrols", guards=[requires(RECORD)], status_code=201, summary="Start a patrol (or get the one under way)")
async def api_patrol_start(db: DbSession, rc: Ctx) -> Any:
    node = await fw.home_node(db, rc.user.id, rc.can)
    if node is None:
        return refuse(403, _("You hold no role at a grid where you could patrol."))
    patrol = await fw.start_patrol(db, rc.user.id, node)
    await db.commit()
    return _patrol_out(patrol, [])


@get("/field/patrols", guards=[requires(RECORD, VIEW)], summary="Patrols: mine and those in my area")
async def api_patrols(db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> dict[str, Any]:
    stmt = select(Patrol).where(visible(rc, Patrol)).order_by(Patrol.started_at.desc(), Patrol.id.desc())
    result = await paginate(db, stmt, page)
    return _page(result, [_patrol_out(p) for p in result.items])


@get("/field/patrols/{patrol_id:int}", guards=[requires(RECORD, VIEW)], summary="A patrol with its route")
async def api_patrol(request: Request, patrol_id: FromPath[int], db: DbSession) -> Any:
    try:
        patrol = await _patrol(request, patrol_id, own=False)
    except ServiceError as err:
        return refuse_error(err)
    found = (await fw.findings(db, [patrol.id]))[patrol.id]
    return _patrol_out(patrol, found, await fw.route(db, patrol))


@post("/field/patrols/{patrol_id:int}/points", guards=[requires(RECORD)], status_code=200, summary="Add route points")
async def api_patrol_points(request: Request, patrol_id: FromPath[int], db: DbSession) -> Any:
    try:
        patrol = await _patrol(request, patrol_id, own=True)
        body = await json_object(request)
        added = await fw.add_points(db, patrol, fw.parse_fixes(body.get("points")))
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        await db.rollback()
        return refuse_error(err)
    await db.commit()
    return {"added": added, "point_count": patrol.point_count, "distance_m": patrol.distance_m}


@post("/field/patrols/{patrol_id:int}/end", guards=[requires(RECORD)], status_code=200, summary="End a patrol")
async def api_patrol_end(request: Request, patrol_id: FromPath[int], db: DbSession) -> Any:
    try:
        patrol = await _patrol(request, patrol_id, own=True)
        body = await json_object(request) if await request.body() else {}
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    await fw.end_patrol(db, patrol, note=str(body.get("note") or "")[: fw.MAX_TEXT])
    await db.commit()
    return _patrol_out(patrol)


@get("/field/households", guards=[requires(RECORD)], summary="Households of my grid")
async def api_households(
    db: DbSession, rc: Ctx, q: FromQuery[str | None] = None, page: FromQuery[int] = 1
) -> dict[str, Any]:
    stmt = select(GridNode).where(GridNode.kind == fw.HOUSEHOLD, in_scope(GridNode.path, rc.scope_prefixes(RECORD)))
    if q and q.strip():
        stmt = stmt.where(GridNode.name.contains(q.strip()[:50], autoescape=True))
    result = await paginate(db, stmt.order_by(GridNode.path), page)
    ids = [n.id for n in result.items]
    residents: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        rows = await db.execute(
            select(Resident).where(Resident.node_id.in_(ids), Resident.status == "active").order_by(Resident.name)
        )
        for r in rows.scalars():
            residents[r.node_id].append({"id": r.id, "name": r.name, "phone": r.phone_masked, "note": r.note})  # type: ignore[index]
    return _page(
        result, [{"id": n.id, "name": n.name, "path": n.path, "residents": residents[n.id]} for n in result.items]
    )


@post("/field/visits", guards=[requires(RECORD)], status_code=201, summary="Record a household visit")
async def api_visit(request: Request, db: DbSession, rc: Ctx) -> Any:
    try:
        body = await json_object(request)
    except BadBody as exc:
        return refuse(400, str(exc))
    client_id = submissions.clean_client_id(body.get("client_id"))
    claim, new = await submissions.claim(db, rc.user.id, client_id, "core.field_visit")
    if not new and claim is not None:
        visit = (await db.execute(select(Visit).where(Visit.id == int(claim.ref or 0)))).scalar_one_or_none()
        return Response(_visit_out(visit), status_code=200) if visit else refuse(409, _("This visit is being saved."))
    try:
        household_id = int(body.get("household_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        await db.rollback()
        return refuse(400, _("Name the household by its id."))
    try:
        node = await fw.household(db, household_id)
        if not rc.can(RECORD, node.path):
            raise NotFound("There is no such household here.")
        raw = body.get("changes") or []
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            return refuse(400, _("Send the changes as a list of objects."))
        changes = [
            fw.ResidentChange(
                int(x.get("resident_id") or 0),
                phone=str(x.get("phone") or "")[:20],
                note=str(x["note"])[:2000] if x.get("note") is not None else None,
                moved_out=bool(x.get("moved_out")),
            )
            for x in raw
        ]
        visit = await fw.record_visit(
            db,
            _vault(request),
            rc.user.id,
            node,
            str(body.get("notes") or "")[: fw.MAX_TEXT + 1],
            changes,
            may_edit=rc.can(fw.RESIDENT_EDIT, node.path),
        )
    except (TypeError, ValueError):
        await db.rollback()
        return refuse(400, _("Name each resident by their id."))
    except ServiceError as err:
        await db.rollback()
        return refuse_error(err)
    submissions.complete(claim, visit.id, f"/field/visits/{visit.id}")
    await db.commit()
    return _visit_out(visit)


@get("/field/visits", guards=[requires(RECORD, VIEW)], summary="Visits: mine and those in my area")
async def api_visits(db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> dict[str, Any]:
    stmt = select(Visit).where(visible(rc, Visit)).order_by(Visit.visited_at.desc(), Visit.id.desc())
    result = await paginate(db, stmt, page)
    return _page(result, [_visit_out(v) for v in result.items])


@post("/field/logs", guards=[requires(RECORD)], status_code=201, summary="Add a daily log entry")
async def api_log(request: Request, db: DbSession, rc: Ctx) -> Any:
    try:
        body = await json_object(request)
    except BadBody as exc:
        return refuse(400, str(exc))
    node = await fw.home_node(db, rc.user.id, rc.can)
    if node is None:
        return refuse(403, _("You hold no role at a grid where you could patrol."))
    client_id = submissions.clean_client_id(body.get("client_id"))
    claim, new = await submissions.claim(db, rc.user.id, client_id, "core.field_log")
    if not new and claim is not None:
        entry = (await db.execute(select(DailyLog).where(DailyLog.id == int(claim.ref or 0)))).scalar_one_or_none()
        return Response(_log_out(entry), status_code=200) if entry else refuse(409, _("This entry is being saved."))
    try:
        raw_day = body.get("day")
        day = date.fromisoformat(str(raw_day)) if raw_day else None
    except ValueError:
        await db.rollback()
        return refuse(400, _("Give the day as YYYY-MM-DD."))
    try:
        entry = await fw.add_log(
            db,
            rc.user.id,
            node,
            str(body.get("body") or "")[: fw.MAX_TEXT + 1],
            str(body.get("topic") or "other"),
            day,
        )
    except ServiceError as err:
        await db.rollback()
        return refuse_error(err)
    submissions.complete(claim, entry.id, "/field/log")
    await db.commit()
    return _log_out(entry)


@get("/field/logs", guards=[requires(RECORD, VIEW)], summary="Daily log entries: mine, or my area's")
async def api_logs(db: DbSession, rc: Ctx, mine: FromQuery[bool] = False, page: FromQuery[int] = 1) -> dict[str, Any]:
    where = DailyLog.user_id == rc.user.id if mine or not rc.can(VIEW) else visible(rc, DailyLog)
    stmt = select(DailyLog).where(where).order_by(DailyLog.day.desc(), DailyLog.created_at.desc())
    result = await paginate(db, stmt, page)
    return _page(result, [_log_out(e) for e in result.items])


handlers = [
    api_router(
        api_patrol_start,
        api_patrols,
        api_patrol,
        api_patrol_points,
        api_patrol_end,
        api_households,
        api_visit,
        api_visits,
        api_log,
        api_logs,
    )
]
