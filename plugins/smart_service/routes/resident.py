"""Residents' phone pages (随手拍): report a problem with photos and a location, join a nearby open
report instead (我也遇到), follow one's own reports and rate them once closed.

Grid workers use the same report form for what they find on patrol (``source=grid_patrol``).
``submit_report`` is shared with the JSON API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.db.base import utcnow
from core.grids import fieldwork, geo, locate
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import translator
from core.rbac.models import RoleAssignment
from core.rbac.scope import in_scope
from core.services import submissions
from core.services.files.storage import UploadError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.uploads import upload_state
from plugins.smart_service import photos as ph
from plugins.smart_service import publicity, services
from plugins.smart_service.lifecycle import (
    ACTION_LABELS,
    FINAL,
    HANDLE,
    RATE,
    REPORT,
    RESIDENT_WORDS,
    STATE_LABELS,
    State,
    TransitionError,
)
from plugins.smart_service.models import Category, Event, EventTransition

NEARBY_M = 300.0
UPLOAD_LIMIT = (ph.MAX_COUNT + 1) * ph.MAX_BYTES + 1024 * 1024
NODE_CHOICES = 300

# What a resident reads on their timeline, and whose notes (publicity.py: only their own words and
# the status note written for them; internal notes never).
PUBLIC_ACTIONS = publicity.PUBLIC_ACTIONS
PUBLIC_NOTES = publicity.RESIDENT_NOTES


class ReportProblem(ValueError):
    """A report form was refused; ``str(exc)`` is the translated message."""


@dataclass
class ReportInput:
    category: str = ""
    description: str = ""
    lon: str = ""
    lat: str = ""
    address: str = ""
    node_id: str = ""  # empty: the grid holding the point (else the user's own place)
    source: str = "resident"
    coord_system: str = "wgs84"  # "gcj02" from phone maps and mini-programs (wx.getLocation)

    @classmethod
    def of(cls, data: Any) -> ReportInput:
        get_ = data.get
        return cls(
            category=str(get_("category") or "").strip(),
            description=str(get_("description") or "").strip(),
            lon=str(get_("lon") or "").strip(),
            lat=str(get_("lat") or "").strip(),
            address=str(get_("address") or "").strip(),
            node_id=str(get_("node_id") or "").strip(),
            source=str(get_("source") or "resident").strip(),
            coord_system=str(get_("coord_system") or "wgs84").strip().lower(),
        )


# ---- shared helpers ----------------------------------------------------------------------------


async def categories(request: Request) -> list[Category]:
    c = ctx(request)
    assert c.db is not None
    rows = await c.db.execute(
        select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.code)
    )
    return list(rows.scalars())


async def node_choices(request: Request) -> list[GridNode]:
    """Where the user may report: the nodes in their report scope (filtered in SQL)."""
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(REPORT)
    rows = await c.db.execute(
        select(GridNode).where(in_scope(GridNode.path, prefixes)).order_by(GridNode.path).limit(NODE_CHOICES)
    )
    return list(rows.scalars())


async def home_node_id(request: Request) -> int | None:
    """The user's own place: the deepest node they hold a role at that lets them report."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    rows = await c.db.execute(
        select(RoleAssignment.node_id, RoleAssignment.node_path).where(RoleAssignment.user_id == c.user.id)
    )
    places = [(path, node_id) for node_id, path in rows if c.can(REPORT, path)]
    return max(places, key=lambda p: p[0].count("/"))[1] if places else None


def point(lon: str, lat: str, coord_system: str = "wgs84") -> tuple[float, float] | None:
    """(lon, lat) in WGS84 from a form, None when both are empty; a half or a non-number is refused.
    ``coord_system`` says what the client sent: "wgs84" (GPS, 天地图) or "gcj02" (converted here)."""
    if not lon and not lat:
        return None
    if coord_system not in geo.COORD_SYSTEMS:
        raise ReportProblem(_("The coordinate system is wgs84 or gcj02."))
    try:
        x, y = float(Decimal(lon)), float(Decimal(lat))
    except (InvalidOperation, ValueError):
        raise ReportProblem(_("Give the location as longitude and latitude in degrees, or leave both empty.")) from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise ReportProblem(_("That location is not on Earth: check longitude and latitude."))
    x, y = geo.to_wgs84(x, y, coord_system)
    return round(x, 6), round(y, 6)


async def place_of(request: Request, form: ReportInput, where: tuple[float, float] | None) -> GridNode | None:
    """Where a report is filed: the grid the user chose; else the deepest node in their report
    scope holding the point (as Open311 finds it); else their own place. A point that lies in the
    district's boundaries but outside every area they may report in is refused."""
    c = ctx(request)
    assert c.db is not None and c.tenant is not None
    node_id: int | None = None
    if form.node_id:
        try:
            node_id = int(form.node_id)
        except ValueError:
            node_id = None
    elif where is not None:
        found = await locate.node_at(c.db, where[0], where[1], c.scope_prefixes(REPORT))
        if found is not None:
            return found
        if await locate.node_at(c.db, where[0], where[1]) is not None:
            outside = _("That point is outside the areas you can report in: move the pin or choose a grid.")
            raise ReportProblem(outside)
        node_id = await home_node_id(request)
    else:
        node_id = await home_node_id(request)
    return await c.db.get(GridNode, (c.tenant.id, node_id)) if node_id else None


async def rollback(request: Request) -> None:
    """Undo the request's writes and reload the signed-in user (a rollback expires every object)."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)


def may_patrol(request: Request) -> bool:
    return ctx(request).can(HANDLE)


async def submit_report(request: Request, form: ReportInput, uploads: list[Any]) -> Event:
    """Store the photos, read their location if the form has none, create the event; the caller
    commits (or rolls back on ``ReportProblem``/``TransitionError``/``UploadError``)."""
    c = ctx(request)
    assert c.db is not None and c.user is not None and c.tenant is not None
    source = form.source if form.source in ("resident", "grid_patrol") else "resident"
    if source == "grid_patrol" and not may_patrol(request):
        source = "resident"
    where = point(form.lon, form.lat, form.coord_system)
    category = next((cat for cat in await categories(request) if cat.code == form.category), None)
    if category is None:
        raise ReportProblem(_("Choose a category."))
    node = await place_of(request, form, where)
    if node is None or not c.can(REPORT, node.path):
        raise ReportProblem(_("Choose where the problem is."))
    stored = await ph.store_photos(
        request, c.db, c.tenant.id, uploads, event_id=None, kind="report", uploaded_by=c.user.id
    )
    if where is None and stored.gps is not None:
        where = stored.gps
        if not form.node_id:  # the photo's point finds the grid too, when it lies in the user's scope
            node = await locate.node_at(c.db, where[0], where[1], c.scope_prefixes(REPORT)) or node
    title = category.label(c.locale)
    if form.description:
        title = f"{title}：{form.description[:40]}"
    event = await services.report_event(
        c.db,
        title=title[:200],
        category_code=category.code,
        node_id=node.id,
        source=source,
        actor=c.actor,
        description=form.description,
        lon=where[0] if where else None,
        lat=where[1] if where else None,
        address=form.address,
        photos=stored.ids,
        reporter_name=c.user.display_name,
        app_state=request.app.state,
        enabled=c.enabled,
    )
    ph.attach(stored, event.id)
    return event


async def nearby(request: Request, category: str, where: tuple[float, float] | None) -> list[tuple[Event, float]]:
    """Open reports of the same category within 300 m that the user may join (in their scope)."""
    c = ctx(request)
    assert c.db is not None
    if not category or where is None or category not in await publicity.public_codes(c.db):
        return []  # events of a non-public category are not shown to other residents
    found = await services.find_nearby_open(c.db, category, where[0], where[1], NEARBY_M)
    return [(e, d) for e, d in found if c.can(REPORT, e.node_path) and e.reporter_user_id != (c.user and c.user.id)]


def state_label(state: str) -> str:
    """The office's word for a state (grid workers' and staff pages)."""
    try:
        return _(STATE_LABELS[State(state)])
    except (ValueError, KeyError):
        return state


_own = translator("smart_service").gettext


def resident_label(state: str) -> str:
    """A resident's word for a state: 已受理, 处理中, 已办结 …"""
    try:
        # In this plugin's own catalogue: its 已办结 for "Done", not core's generic 已完成.
        return _own(RESIDENT_WORDS[State(state)])
    except (ValueError, KeyError):
        return state


async def photo_cards(request: Request, ids: list[int]) -> list[dict[str, Any]]:
    """Photos for a template: url, thumbnail url and kind (report/before/after)."""
    c = ctx(request)
    assert c.db is not None
    if not ids:
        return []
    rows = await ph.photos_by_id(c.db, ids)
    thumbs = await ph.thumbnails(c.db, ids)
    return [
        {
            "id": i,
            "url": c.url(f"/files/{i}"),
            "thumb": c.url(f"/files/{thumbs.get(i, i)}"),
            "kind": ph.kind_of(rows[i]),
        }
        for i in ids
        if i in rows
    ]


# ---- the report form ---------------------------------------------------------------------------


async def _form_page(
    request: Request,
    form: ReportInput | None = None,
    *,
    error: str | None = None,
    joined: Event | None = None,
    status_code: int = 200,
    block: str = "content",
) -> Any:
    c = ctx(request)
    form = form or ReportInput()
    try:
        where = point(form.lon, form.lat, form.coord_system)
    except ReportProblem:
        where = None
    return await render(
        request,
        "smart_service/report.html",
        {
            "form": form,
            "categories": await categories(request),
            "nodes": await node_choices(request),
            "nearby": await nearby(request, form.category, where),
            "error": error,
            "joined": joined,
            "patrol": form.source == "grid_patrol" and may_patrol(request),
            "max_photos": ph.MAX_COUNT,
            "max_mb": ph.MAX_BYTES >> 20,
            "accept": ph.ACCEPT,
            "storage": await upload_state(request),
            "c": c,
        },
        status_code=status_code,
        block=block,
    )


@get("/smart-service/report", guards=[requires(REPORT)])
async def report_form(request: Request, source: FromQuery[str | None] = None) -> Any:
    return await _form_page(request, ReportInput(source=source or "resident"))


@post("/smart-service/report/nearby", guards=[requires(REPORT)], status_code=200)
async def report_nearby(request: Request, data: Form) -> Any:
    """htmx: the open reports of this category near this place, offered before a new one is made
    (without htmx: the whole form again, with them)."""
    return await _form_page(request, ReportInput.of(data), block="nearby")


@post("/smart-service/report", guards=[requires(REPORT)], status_code=200, request_max_body_size=UPLOAD_LIMIT)
async def report_submit(request: Request, db: DbSession, rc: Ctx) -> Any:
    data = await request.form()
    form = ReportInput.of(data)
    uploads = [u for u in data.getall("photos") if isinstance(u, UploadFile)] if "photos" in data else []
    # A phone's offline queue may send the same report twice: the client id makes it one report.
    client_id = submissions.clean_client_id(data.get("client_id"))
    claim, new = await submissions.claim(db, rc.user.id, client_id, "smart_service.report")
    if not new and claim is not None:
        return Redirect(rc.url(claim.location or "/smart-service/mine"), status_code=303)
    try:
        event = await submit_report(request, form, uploads)
        location = f"/smart-service/mine/{event.id}"
        if event.source == "grid_patrol":
            location = "/smart-service/tasks"
            found = await fieldwork.note_finding(
                db,
                rc.user.id,
                source="smart_service",
                ref=event.number,
                title=event.title,
                href=f"/smart-service/events/{event.id}",
                at=_queued_at(data.get("queued_at")),
            )
            if found is not None and found.at >= utcnow() - timedelta(minutes=5):
                location = "/field/patrol"  # back to the patrol under way
        submissions.complete(claim, event.number, location)
        await db.commit()
    except (ReportProblem, UploadError) as exc:
        await rollback(request)
        return await _form_page(request, form, error=str(exc), status_code=getattr(exc, "status", 400))
    except TransitionError as exc:
        await rollback(request)
        return await _form_page(request, form, error=exc.translated(_), status_code=400)
    return Redirect(rc.url(location), status_code=303)


def _queued_at(raw: Any) -> datetime | None:
    """When a report queued on the phone was made (ms since the epoch), if plausible: the patrol it
    belongs to is the one under way then, not now."""
    try:
        at = datetime.fromtimestamp(int(str(raw)) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    now = utcnow()
    return at if now - timedelta(days=2) <= at <= now else None


@post("/smart-service/events/{event_id:int}/me-too", guards=[requires(REPORT)], status_code=200)
async def me_too(request: Request, event_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    """我也遇到 instead of a new report."""
    try:
        event = await services.get_event(db, event_id)
    except services.EventNotFound:
        raise NotFoundException() from None
    if not rc.can(REPORT, event.node_path):
        raise NotFoundException()
    try:
        await services.me_too(db, event, rc.actor, can=rc.can, app_state=request.app.state, enabled=rc.enabled)
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        return await _form_page(request, ReportInput.of(data), error=exc.translated(_), status_code=400)
    return await _form_page(request, ReportInput(source=str(data.get("source") or "resident")), joined=event)


# ---- my reports --------------------------------------------------------------------------------


@get("/smart-service/mine", guards=[requires(REPORT)])
async def my_reports(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    assert rc.user is not None
    stmt = select(Event).where(Event.reporter_user_id == rc.user.id).order_by(Event.created_at.desc(), Event.id.desc())
    result = await paginate(db, stmt, page)
    return await render(
        request, "smart_service/my_reports.html", {"page": result, "state_label": resident_label, "c": rc}
    )


async def my_event(request: Request, event_id: int) -> Event:
    """The user's own report, else 404 (someone else's report does not exist for them)."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        event = await services.get_event(c.db, event_id)
    except services.EventNotFound:
        raise NotFoundException() from None
    if event.reporter_user_id != c.user.id:
        raise NotFoundException()
    return event


def public_timeline(lines: list[EventTransition]) -> list[EventTransition]:
    return [line for line in lines if line.action in PUBLIC_ACTIONS]


async def _my_report_page(request: Request, event: Event, *, error: str | None = None, status_code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    lines = public_timeline(await services.timeline(c.db, event.id))
    shown = [
        {
            "at": line.at,
            "label": _(ACTION_LABELS.get(line.action, line.action)),
            "state": resident_label(line.to_state),
            "note": line.note if line.action in PUBLIC_NOTES else "",
            "photos": await photo_cards(request, list(line.photos or [])),
        }
        for line in lines
    ]
    may_rate = event.state == State.CLOSED.value and event.rating is None and c.can(RATE, event.node_path)
    return await render(
        request,
        "smart_service/my_report.html",
        {
            "event": event,
            "lines": shown,
            "state": resident_label(event.state),
            "final": State(event.state) in FINAL,
            "may_rate": may_rate,
            "error": error,
            "c": c,
        },
        status_code=status_code,
    )


@get("/smart-service/mine/{event_id:int}", guards=[requires(REPORT)])
async def my_report(request: Request, event_id: FromPath[int]) -> Any:
    return await _my_report_page(request, await my_event(request, event_id))


@post("/smart-service/mine/{event_id:int}/rate", guards=[requires(REPORT)], status_code=200)
async def rate(request: Request, event_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    event = await my_event(request, event_id)
    try:
        await services.transition(
            db,
            event,
            "rate",
            rc.actor,
            note=str(data.get("comment") or ""),
            rating=_rating(data.get("rating")),
            can=rc.can,
            app_state=request.app.state,
            enabled=rc.enabled,
        )
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        event = await my_event(request, event_id)
        return await _my_report_page(request, event, error=exc.translated(_), status_code=400)
    return Redirect(rc.url(f"/smart-service/mine/{event.id}"), status_code=303)


def _rating(raw: Any) -> int | None:
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        return None


handlers = [report_form, report_nearby, report_submit, me_too, my_reports, my_report, rate]
