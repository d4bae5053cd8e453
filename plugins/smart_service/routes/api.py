"""JSON API for a WeChat mini-program's back end: the resident's 随手拍 over bearer tokens.

    GET  /api/v1/smart-service/categories
    POST /api/v1/smart-service/reports                    multipart (fields + photos) or JSON
    GET  /api/v1/smart-service/reports                    my reports, newest first (?page=)
    GET  /api/v1/smart-service/reports/{number}           one of mine, with its public timeline
    POST /api/v1/smart-service/reports/{number}/rate      {"rating": 1-5, "comment": "..."}
    POST /api/v1/smart-service/reports/{number}/me-too    join an open report near me

Cookies are ignored under /api/ (bearer tokens only, no CSRF). Errors are
``{"status_code": ..., "detail": "<message in the user's language>"}``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from sqlalchemy import select

from core.i18n import gettext as _
from core.services import submissions
from core.services.files.storage import UploadError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.routes.api import api_router
from plugins.smart_service import services
from plugins.smart_service.lifecycle import ACTION_LABELS, REPORT, State, TransitionError
from plugins.smart_service.models import Event
from plugins.smart_service.routes.resident import (
    PUBLIC_NOTES,
    UPLOAD_LIMIT,
    ReportInput,
    ReportProblem,
    categories,
    nearby,
    point,
    public_timeline,
    resident_label,
    rollback,
    submit_report,
)
from plugins.smart_service.routes.resident import (
    _rating as parse_rating,
)

GUARD = [requires(REPORT)]


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(request: Request, event: Event) -> dict[str, Any]:
    return {
        "number": event.number,
        "title": event.title,
        "category": event.category_code,
        "state": event.state,
        "state_label": resident_label(event.state),
        "lon": float(event.lon) if event.lon is not None else None,
        "lat": float(event.lat) if event.lat is not None else None,
        "me_too_count": event.me_too_count,
        "rating": event.rating,
        "created_at": _time(event.created_at),
        "closed_at": _time(event.closed_at),
    }


class Missing(Exception):
    """No such report for this user: answered 404 with ``detail``."""


def not_found(number: str) -> Response[Any]:
    return refuse(404, _("No report %(number)s of yours was found.", number=number))


async def _mine(request: Request, number: str) -> Event:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        event = await services.get_by_number(c.db, number)
    except services.EventNotFound:
        raise Missing(number) from None
    if event.reporter_user_id != c.user.id:
        raise Missing(number)
    return event


@get("/smart-service/categories", guards=GUARD, summary="Categories a report can have")
async def api_categories(request: Request, rc: Ctx) -> dict[str, Any]:
    return {
        "categories": [
            {"code": cat.code, "parent": cat.parent_code, "kind": cat.kind, "name": cat.label(rc.locale)}
            for cat in await categories(request)
        ]
    }


@post(
    "/smart-service/reports",
    guards=GUARD,
    status_code=201,
    request_max_body_size=UPLOAD_LIMIT,
    summary="Report a problem (multipart with photos, or JSON without)",
)
async def api_report(request: Request, db: DbSession, rc: Ctx) -> Any:
    content_type = request.headers.get("content-type", "")
    uploads: list[Any] = []
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except Exception:
            return refuse(400, _("The body is not valid JSON."))
        if not isinstance(body, dict):
            return refuse(400, _("Send the report as a JSON object."))
        fields: Any = {k: ("" if v is None else str(v)) for k, v in body.items()}
    else:
        fields = await request.form()
        if "photos" in fields:
            uploads = [u for u in fields.getall("photos") if isinstance(u, UploadFile)]
    form = ReportInput.of(fields)
    form.source = "resident"
    # Sent again with the same client id (a phone's queue after a lost signal): the first report.
    assert rc.user is not None
    claim, new = await submissions.claim(
        db, rc.user.id, submissions.clean_client_id(fields.get("client_id")), "smart_service.report"
    )
    if not new and claim is not None:
        try:
            first = await services.get_by_number(db, claim.ref)
        except services.EventNotFound:
            return refuse(409, _("This report is being saved."))
        return Response(_summary(request, first), status_code=200)
    try:
        event = await submit_report(request, form, uploads)
        submissions.complete(claim, event.number, f"/smart-service/mine/{event.id}")
        await db.commit()
    except (ReportProblem, UploadError) as exc:
        await rollback(request)
        return refuse(getattr(exc, "status", 400), str(exc))
    except TransitionError as exc:
        await rollback(request)
        return refuse(400, exc.translated(_))
    return Response(_summary(request, event), status_code=201)


@get("/smart-service/reports", guards=GUARD, summary="My reports, newest first")
async def api_my_reports(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> dict[str, Any]:
    assert rc.user is not None
    stmt = select(Event).where(Event.reporter_user_id == rc.user.id).order_by(Event.created_at.desc(), Event.id.desc())
    result = await paginate(db, stmt, page)
    return {
        "page": result.number,
        "pages": result.pages,
        "total": result.total,
        "reports": [_summary(request, e) for e in result.items],
    }


@get("/smart-service/reports/{number:str}", guards=GUARD, summary="One of my reports with its timeline")
async def api_my_report(request: Request, number: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    try:
        event = await _mine(request, number)
    except Missing:
        return not_found(number)
    lines = public_timeline(await services.timeline(db, event.id))
    return {
        **_summary(request, event),
        "description": event.description,
        "timeline": [
            {
                "at": _time(line.at),
                "action": line.action,
                "label": _(ACTION_LABELS.get(line.action, line.action)),
                "state": line.to_state,
                "note": line.note if line.action in PUBLIC_NOTES else "",
                "photos": [rc.url(f"/files/{p}") for p in (line.photos or [])],
            }
            for line in lines
        ],
    }


@post("/smart-service/reports/{number:str}/rate", guards=GUARD, status_code=200, summary="Rate a closed report")
async def api_rate(request: Request, number: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    try:
        event = await _mine(request, number)
    except Missing:
        return not_found(number)
    try:
        body = await request.json()
    except Exception:
        body = None
    if not isinstance(body, dict):
        return refuse(400, _('Send the rating as JSON: {"rating": 1-5, "comment": "…"}.'))
    if event.state != State.CLOSED.value:
        return refuse(409, _("A report can be rated once it is closed."))
    try:
        await services.transition(
            db,
            event,
            "rate",
            rc.actor,
            note=str(body.get("comment") or ""),
            rating=parse_rating(body.get("rating")),
            can=rc.can,
            app_state=request.app.state,
            enabled=rc.enabled,
        )
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        return refuse(400, exc.translated(_))
    return _summary(request, await _mine(request, number))


@post("/smart-service/reports/{number:str}/me-too", guards=GUARD, status_code=200, summary="我也遇到")
async def api_me_too(request: Request, number: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    """Join an open report (found with ``GET .../nearby``) instead of making a new one."""
    try:
        event = await services.get_by_number(db, number)
    except services.EventNotFound:
        return refuse(404, _("No open report %(number)s was found.", number=number))
    if not rc.can(REPORT, event.node_path):
        return refuse(404, _("No open report %(number)s was found.", number=number))
    try:
        counted = await services.me_too(
            db, event, rc.actor, can=rc.can, app_state=request.app.state, enabled=rc.enabled
        )
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        return refuse(409, exc.translated(_))
    return {"number": event.number, "me_too_count": event.me_too_count, "counted": counted}


@get("/smart-service/nearby", guards=GUARD, summary="Open reports of a category within 300 m")
async def api_nearby(request: Request, category: FromQuery[str], lon: FromQuery[str], lat: FromQuery[str]) -> Any:
    try:
        where = point(lon, lat)
    except ReportProblem as exc:
        return refuse(400, str(exc))
    found = await nearby(request, category, where)
    return {
        "reports": [
            {"number": e.number, "title": e.title, "distance_m": round(d), "me_too_count": e.me_too_count}
            for e, d in found
        ]
    }


handlers = [api_router(api_categories, api_report, api_my_reports, api_nearby, api_my_report, api_rate, api_me_too)]
