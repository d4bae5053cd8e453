"""Open311 GeoReport v2 (and FixMyStreet's servicerequestupdates) at ``/open311/v2/``.

Which district: ``jurisdiction_id`` = the tenant's slug on a shared host (``/open311/v2/…?
jurisdiction_id=shuangluan``), or nothing on a tenant's own host or under ``/t/<slug>/``. The routes
are "public" to the context middleware (no tenant resolved there, no session cookie, no CSRF:
clients are machines), so each handler resolves the tenant itself, checks 服务智治 is on for it
and opens a session bound to it.

Every answer is in the format the path ends with (``.xml`` or ``.json``), errors included, in the
spec's shape (open311_format.py). Services are the district's active categories; a request is an
event and ``service_request_id`` its number. POSTing needs an API key of the tenant
(open311_keys.py); the event is reported as a resident report in the key's name.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import i18n
from core.db.base import utcnow
from core.db.context import Actor, set_tenant
from core.grids import geo, locate
from core.grids.locate import node_at_or_root
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import lazy
from core.ops.limits import check_rate, limits_of, too_many
from core.services.events import ENABLED
from core.web.context import SLUG_KEY, TenantConfig, load_tenant
from core.web.guards import public
from plugins.smart_service import open311_format as fmt_
from plugins.smart_service import publicity, reference, services, sla
from plugins.smart_service.lifecycle import ACTION_LABELS, TransitionError
from plugins.smart_service.models import (
    MAX_DESCRIPTION,
    URGENCIES,
    Category,
    Event,
    EventTransition,
    HandlingUnit,
    Open311Request,
)
from plugins.smart_service.open311_keys import touch_key

NAME = "smart_service"
BASE = "/open311/v2"


def _error_responder(request: Request, status: int, message: str) -> Response[bytes]:
    """Core's input layer and degraded mode answer Open311 clients in the spec's error format."""
    name = request.scope.get("path", "").rsplit("/", 1)[-1]
    ext = name.rpartition(".")[2].lower() if "." in name else "xml"
    fmt = ext if ext in fmt_.FORMATS else "xml"
    return _respond(fmt, fmt_.errors(fmt, status, message), status)


OPT = {
    "area": "public",
    "api": True,
    "exclude_from_csrf": True,
    "skip_session": True,
    "error_responder": _error_responder,
}
MAX_PAGE_SIZE = 1000  # the spec's ceiling for one GET requests answer
MAX_PAGE = 1_000_000  # keeps OFFSET (page × size) within what a database holds
DEFAULT_DAYS = 90  # GET requests without dates: the last 90 days, as the spec suggests
EMAIL_PURPOSE = b"smart_service.open311_email"
URGENCY_NAMES = {1: lazy("Normal"), 2: lazy("Urgent"), 3: lazy("Critical")}
API_CHANGESET = datetime(2026, 12, 7, tzinfo=UTC)  # when this endpoint's shape last changed
HIDDEN_UPDATES = ("report", "me_too")  # the report itself is the request; 我也遇到 changes nothing


class Open311Error(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


@dataclass
class Jurisdiction:
    config: TenantConfig
    db: AsyncSession
    fmt: str
    calendar: sla.Calendar
    locale: str

    @property
    def tenant_id(self) -> int:
        return self.config.tenant.id

    @property
    def version(self) -> int:
        """The tenant's version: what is cached of its reference data stands while it does."""
        return self.config.tenant.policy_version or 0

    @property
    def tz(self) -> Any:
        return self.calendar.tz


def _split(name: str) -> tuple[str, str]:
    """``services.xml`` → ("services", "xml"); a missing extension means XML (the required format)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, "xml"
    ext = ext.lower()
    if ext not in fmt_.FORMATS:
        raise Open311Error(400, _("Unknown format %(format)s: use .xml or .json", format=ext))
    return stem, ext


def _respond(fmt: str, body: bytes, status: int = 200) -> Response[bytes]:
    return Response(body, status_code=status, media_type=fmt_.FORMATS[fmt])


def _error(fmt: str, exc: Open311Error) -> Response[bytes]:
    response = _respond(fmt, fmt_.errors(fmt, exc.status, exc.description), exc.status)
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _resolve(request: Request, jurisdiction_id: str | None) -> TenantConfig:
    state = request.app.state
    prefix_slug = request.scope.get(SLUG_KEY)
    jid = (jurisdiction_id or "").strip()
    if jid:
        if len(jid) > 63 or (prefix_slug and prefix_slug != jid):
            config = None
        else:
            config = await load_tenant(state, slug=jid)
    elif prefix_slug:
        config = await load_tenant(state, slug=prefix_slug)
    else:
        host = (request.headers.get("host") or "").split(":")[0].lower()
        config = await load_tenant(state, host=host) if host else None
        if config is None:
            raise Open311Error(400, _("jurisdiction_id was not provided"))
    if config is None or not config.tenant.active or NAME not in config.enabled:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found", id=jid or prefix_slug or ""))
    return config


async def _serve(
    request: Request,
    name: str,
    handler: Callable[[Jurisdiction, str], Awaitable[Response[bytes]]],
    *,
    jurisdiction_id: str | None = None,
    actor: Actor | None = None,
) -> Response[bytes]:
    """Format, district, session; then ``handler(jurisdiction, stem)``; spec errors on the way."""
    i18n.set_locale(i18n.from_accept_language(request.headers.get("accept-language")) or i18n.DEFAULT_LOCALE)
    fmt = "xml"
    try:
        stem, fmt = _split(name)
        if jurisdiction_id is None:
            jurisdiction_id = request.query_params.get("jurisdiction_id")
        config = await _resolve(request, jurisdiction_id)
    except Open311Error as exc:
        return _error(fmt, exc)
    locale = i18n.from_accept_language(request.headers.get("accept-language")) or config.tenant.locale
    i18n.set_locale(locale)
    set_tenant(config.tenant.id)
    async with request.app.state.db.session(config.tenant.id, actor) as session:
        session.info[ENABLED] = config.enabled  # announcements go to these: no query after commit
        calendar = await reference.calendar(session, config.tenant.policy_version or 0)
        j = Jurisdiction(config, session, fmt, calendar, i18n.current_locale())
        try:
            return await handler(j, stem)
        except Open311Error as exc:
            await session.rollback()
            return _error(fmt, exc)


def _only(stem: str, expected: str) -> None:
    if stem != expected:
        raise Open311Error(404, _("There is no Open311 resource %(name)s", name=stem))


# ---- services ----------------------------------------------------------------------------------


async def _categories(j: Jurisdiction) -> dict[str, Category]:
    return await reference.categories(j.db, j.version)


def _attributes(j: Jurisdiction) -> list[dict[str, Any]]:
    return [
        fmt_.attribute(
            "TITLE",
            "string",
            _("A short title for the problem"),
            1,
            datatype_description=_("At most 200 characters; the start of the description if left out"),
        ),
        fmt_.attribute(
            "URGENCY",
            "singlevaluelist",
            _("How urgent is it?"),
            2,
            values=[(str(u), _(URGENCY_NAMES[u])) for u in URGENCIES],
        ),
    ]


async def _discovery(request: Request, j: Jurisdiction) -> Response[bytes]:
    base = str(request.base_url).rstrip("/")
    prefix = f"/t/{request.scope[SLUG_KEY]}" if request.scope.get(SLUG_KEY) else ""
    doc = fmt_.discovery(
        f"{base}{prefix}{BASE}",
        j.config.tenant.created_at,
        j.tz,
        contact=_("%(district)s, hotline %(hotline)s", district=j.config.tenant.name(j.locale), hotline=_hotline(j)),
        key_service=_("Ask the district for an API key"),
    )
    return _respond(j.fmt, fmt_.dump(j.fmt, doc, "discovery"))


async def _shared_discovery(request: Request, name: str) -> Response[bytes] | None:
    """Discovery on the shared root with no district named: the endpoint and how to name one
    (``jurisdiction_id``); None when a district is named, or the host or prefix is a district's."""
    stem, _dot, ext = name.rpartition(".")
    stem, ext = (stem, ext.lower()) if _dot else (name, "xml")
    if stem != "discovery" or ext not in fmt_.FORMATS:
        return None
    if request.query_params.get("jurisdiction_id") or request.scope.get(SLUG_KEY):
        return None
    host = (request.headers.get("host") or "").split(":")[0].lower()
    if host and await load_tenant(request.app.state, host=host) is not None:
        return None
    i18n.set_locale(i18n.from_accept_language(request.headers.get("accept-language")) or i18n.DEFAULT_LOCALE)
    doc = fmt_.discovery(
        f"{str(request.base_url).rstrip('/')}{BASE}",
        API_CHANGESET,
        UTC,
        contact=_("Name the district with jurisdiction_id (its code) on every request"),
        key_service=_("Ask the district for an API key"),
    )
    return _respond(ext, fmt_.dump(ext, doc, "discovery"))


def _hotline(j: Jurisdiction) -> str:
    return str(j.config.settings.get(NAME, {}).get("hotline") or "12345")


async def _services(j: Jurisdiction) -> Response[bytes]:
    categories = await _categories(j)
    docs = []
    for c in categories.values():
        if not c.active:
            continue
        parent = categories.get(c.parent_code) if c.parent_code else None
        group = (parent or c).label(j.locale)
        kind = _("Component") if c.kind == "component" else _("Event")
        docs.append(fmt_.service(c.code, c.label(j.locale), f"{kind}: {c.label(j.locale)}", group))
    return _respond(j.fmt, fmt_.dump(j.fmt, docs, "services", "service"))


async def _active_category(j: Jurisdiction, code: str, status: int) -> Category:
    category = (await _categories(j)).get(code)
    if category is None or not category.active:
        raise Open311Error(status, _("service_code %(code)s was not found", code=code))
    return category


# ---- reading requests --------------------------------------------------------------------------


async def _docs(j: Jurisdiction, events: list[Event]) -> list[dict[str, Any]]:
    """The spec's ``request`` documents for events, with four batched look-ups (not one per event)."""
    if not events:
        return []
    ids = [e.id for e in events]
    categories = await _categories(j)
    unit_ids = {e.handling_unit_id for e in events if e.handling_unit_id is not None}
    units = (
        {u.id: u for u in (await j.db.execute(select(HandlingUnit).where(HandlingUnit.id.in_(unit_ids)))).scalars()}
        if unit_ids
        else {}
    )
    media = dict(
        (
            await j.db.execute(
                select(Open311Request.event_id, Open311Request.media_url).where(Open311Request.event_id.in_(ids))
            )
        ).all()
    )
    node_ids = {e.node_id for e in events}
    areas = dict((await j.db.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(node_ids)))).all())
    out = []
    for e in events:
        category = categories.get(e.category_code)
        unit = units.get(e.handling_unit_id) if e.handling_unit_id is not None else None
        # publicity.py: the residents' status note only, masked text, the category's coarse location.
        lat, lon, address = publicity.location(e, category, areas.get(e.node_id, ""))
        out.append(
            fmt_.service_request(
                e,
                j.tz,
                service_name=category.label(j.locale) if category else e.category_code,
                agency=unit.label(j.locale) if unit else None,
                status_notes=publicity.status_note(e),
                media_url=media.get(e.id),
                description=publicity.description(e),
                location=(lat, lon, address),
            )
        )
    return out


def _list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _dates(j: Jurisdiction, params: Any) -> tuple[datetime | None, datetime | None]:
    try:
        start = fmt_.parse_datetime(params.get("start_date"), j.tz)
        end = fmt_.parse_datetime(params.get("end_date"), j.tz, end=True)
    except fmt_.BadDate as exc:
        raise Open311Error(
            400, _("%(value)s is not a date: use ISO 8601, e.g. 2026-11-25T09:00:00+08:00", value=exc)
        ) from None
    if start is not None and end is not None and start > end:
        raise Open311Error(400, _("start_date is after end_date"))
    return start, end


def _paging(params: Any) -> tuple[int, int]:
    try:
        page = int(params.get("page") or 1)
        size = int(params.get("page_size") or MAX_PAGE_SIZE)
    except ValueError:
        raise Open311Error(400, _("page and page_size are whole numbers")) from None
    if not 1 <= page <= MAX_PAGE or not 1 <= size <= MAX_PAGE_SIZE:
        raise Open311Error(400, _("page starts at 1; page_size is 1 to %(max)s", max=MAX_PAGE_SIZE))
    return page, size


async def _requests(j: Jurisdiction, params: Any) -> Response[bytes]:
    stmt = select(Event).where(await publicity.public_event_filter(j.db))
    numbers = _list(params.get("service_request_id"))
    if numbers:
        stmt = stmt.where(Event.number.in_(numbers[:MAX_PAGE_SIZE]))
    codes = _list(params.get("service_code"))
    if codes:
        categories = await _categories(j)
        unknown = [c for c in codes if c not in categories]
        if unknown:
            raise Open311Error(400, _("service_code %(code)s was not found", code=unknown[0]))
        stmt = stmt.where(Event.category_code.in_(codes))
    start, end = _dates(j, params)
    if start is None and end is None and not numbers:
        start = utcnow() - timedelta(days=DEFAULT_DAYS)
    if start is not None:
        stmt = stmt.where(Event.created_at >= start)
    if end is not None:
        stmt = stmt.where(Event.created_at <= end)
    statuses = {s.lower() for s in _list(params.get("status"))}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status is open, closed or both (comma separated)"))
    if len(statuses) == 1:
        final = list(fmt_.FINAL_STATES)
        stmt = stmt.where(Event.state.in_(final) if "closed" in statuses else Event.state.not_in(final))
    page, size = _paging(params)
    rows = await j.db.execute(
        stmt.order_by(Event.created_at.desc(), Event.id.desc()).offset((page - 1) * size).limit(size)
    )
    docs = await _docs(j, list(rows.scalars()))
    return _respond(j.fmt, fmt_.dump(j.fmt, docs, "service_requests", "request"))


async def _updates(j: Jurisdiction, params: Any) -> Response[bytes]:
    start, end = _dates(j, params)
    if start is None and end is None:
        start = utcnow() - timedelta(days=DEFAULT_DAYS)
    stmt = (
        select(EventTransition, Event.number)
        .join(Event, and_(Event.tenant_id == EventTransition.tenant_id, Event.id == EventTransition.event_id))
        .where(
            EventTransition.action.in_(sorted(publicity.PUBLIC_ACTIONS - set(HIDDEN_UPDATES))),
            await publicity.public_event_filter(j.db),
        )
    )
    if start is not None:
        stmt = stmt.where(EventTransition.at >= start)
    if end is not None:
        stmt = stmt.where(EventTransition.at <= end)
    page, size = _paging(params)
    rows = await j.db.execute(
        stmt.order_by(EventTransition.at, EventTransition.id).offset((page - 1) * size).limit(size)
    )
    docs = []
    for line, number in rows.all():
        # Staff notes stay inside: an update says what step was taken, or the note written for residents.
        label = ACTION_LABELS.get(line.action)
        if line.action == publicity.PUBLIC_NOTE:
            description = publicity.scrub(line.note)
        else:
            description = _(label) if label else line.action
        # Timeline photos are staff-only (the file_access hook): no public media_url for them.
        docs.append(fmt_.request_update(line, number, j.tz, description, None))
    return _respond(j.fmt, fmt_.dump(j.fmt, docs, "service_request_updates", "request_update"))


# ---- creating a request ------------------------------------------------------------------------


def _attribute_answers(form: Any) -> dict[str, Any]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` fields → {CODE: value or [values]}."""
    answers: dict[str, Any] = {}
    for key in set(form.keys()):
        if not (key.startswith("attribute[") and "]" in key):
            continue
        code = key[len("attribute[") : key.index("]")]
        values = [v for v in form.getall(key) if isinstance(v, str)]
        if code and values:
            answers[code] = values if key.endswith("[]") else values[-1]
    return answers


async def locate_node(db: AsyncSession, lon: float | None, lat: float | None) -> GridNode | None:
    """The deepest grid node whose boundary holds the point; else the district's root."""
    return await node_at_or_root(db, lon, lat)


def _coordinate(form: Any, name: str) -> float | None:
    raw = form.get(name)
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        raise Open311Error(400, _("%(name)s is not a number", name=name)) from None


@dataclass
class Submission:
    """A POSTed request's fields, checked (everything but the photos and the place)."""

    category: Category
    description: str
    lon: float | None
    lat: float | None
    address: str
    answers: dict[str, Any]
    title: str
    urgency: int | None
    email: str
    media_url: str


def _text(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _location(form: Any) -> tuple[float | None, float | None]:
    """(lon, lat) in WGS84 from ``long``/``lat`` in ``coord_system``; (None, None) when not given."""
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, _("Give both lat and long"))
    coord_system = _text(form, "coord_system", 10).lower() or "wgs84"
    if coord_system not in geo.COORD_SYSTEMS:
        raise Open311Error(400, _("coord_system is wgs84 or gcj02"))
    if lon is not None and lat is not None:
        lon, lat = geo.to_wgs84(lon, lat, coord_system)
    return lon, lat


def _title_and_urgency(answers: dict[str, Any]) -> tuple[str, int | None]:
    title = str(answers.get("TITLE") or "").strip()
    if len(title) > 200:
        raise Open311Error(400, _("attribute[TITLE] is longer than 200 characters"))
    if answers.get("URGENCY") in (None, ""):
        return title, None
    if str(answers["URGENCY"]) not in {str(u) for u in URGENCIES}:
        raise Open311Error(400, _("attribute[URGENCY] is 1, 2 or 3"))
    return title, int(answers["URGENCY"])


def _contact(form: Any) -> tuple[str, str]:
    email = _text(form, "email", 254)
    if email and ("@" not in email or " " in email):
        raise Open311Error(400, _("email is not an email address"))
    media_url = _text(form, "media_url", 1000)
    if media_url and not media_url.lower().startswith(("http://", "https://")):
        raise Open311Error(400, _("media_url must be an http or https URL"))
    return email, media_url


async def _submission(j: Jurisdiction, form: Any) -> Submission:
    code = _text(form, "service_code", 32)
    if not code:
        raise Open311Error(400, _("service_code was not provided"))
    category = await _active_category(j, code, 400)
    description = form.get("description") if isinstance(form.get("description"), str) else ""
    if len(description.strip()) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description is longer than %(max)s characters", max=MAX_DESCRIPTION))
    lon, lat = _location(form)
    answers = _attribute_answers(form)
    title, urgency = _title_and_urgency(answers)
    email, media_url = _contact(form)
    address = _text(form, "address_string", 300)
    return Submission(category, description, lon, lat, address, answers, title, urgency, email, media_url)


async def _photos(request: Request, j: Jurisdiction, form: Any, sub: Submission) -> Any:
    """The uploaded photos stored (None without any); a photo's GPS places a request without lat/long."""
    uploads = [u for u in form.getall("media") if not isinstance(u, str)] if "media" in form else []
    if not uploads:
        return None
    from plugins.smart_service import photos

    try:
        stored = await photos.store_photos(request, j.db, j.tenant_id, uploads, event_id=None, uploaded_by=None)
    except photos.PhotoError as exc:
        raise Open311Error(400, str(exc)) from None
    if sub.lon is None and stored.gps is not None:
        sub.lon, sub.lat = stored.gps
    return stored


async def _create(request: Request, j: Jurisdiction, form: Any, key: reference.Key) -> Response[bytes]:
    sub = await _submission(j, form)
    stored = await _photos(request, j, form, sub)
    if sub.lon is None and not sub.address:
        raise Open311Error(400, _("Give the location: lat and long, or address_string"))
    node = await locate.area_at_or_root(j.db, sub.lon, sub.lat, j.version)
    if node is None:
        raise Open311Error(400, _("This district has no area to report in yet"))
    first, last = _text(form, "first_name", 50), _text(form, "last_name", 50)
    described = sub.description.strip()
    title = sub.title or (described.splitlines()[0] if described else "")[:60] or sub.category.label(j.locale)
    try:
        event = await services.report_event(
            j.db,
            title=title,
            category_code=sub.category.code,
            node_id=node.id,
            source="resident",
            actor=Actor("token", None, f"Open311: {key.name}"[:100]),
            description=sub.description,
            lon=sub.lon,
            lat=sub.lat,
            address=sub.address,
            urgency=sub.urgency,
            photos=stored.ids if stored is not None else (),
            reporter_name=" ".join(p for p in (first, last) if p) or f"Open311: {key.name}",
            reporter_phone=_text(form, "phone", 40) or None,
            vault=request.app.state.vault,
            app_state=request.app.state,
            enabled=j.config.enabled,
            node=node,
            category=sub.category,
            calendar=j.calendar,
            flush=False,  # written with the request's row below, in the commit's one flush
        )
    except TransitionError as exc:
        raise Open311Error(400, exc.translated(_)) from None
    if stored is not None:
        from plugins.smart_service import photos

        photos.attach(stored, event.id)
    token = secrets.token_hex(16)
    j.db.add(
        Open311Request(
            event_id=event.id,
            key_id=key.id,
            token=token,
            media_url=sub.media_url,
            attributes=sub.answers,
            email_enc=request.app.state.vault.encrypt(sub.email, EMAIL_PURPOSE) if sub.email else None,
            device_id=_text(form, "device_id", 100),
            account_id=_text(form, "account_id", 100),
        )
    )
    await j.db.commit()
    due = fmt_.iso(event.due_at, j.tz)
    notice = _("Received as %(number)s; it will be accepted by %(due)s", number=event.number, due=due)
    doc = fmt_.created(event.number, token, notice, _text(form, "account_id", 100) or None)
    return _respond(j.fmt, fmt_.dump(j.fmt, [doc], "service_requests", "request"))


# ---- routes ------------------------------------------------------------------------------------


@get(f"{BASE}/{{name:str}}", guards=[public], opt=OPT, name="open311.index")
async def open311_get(request: Request, name: FromPath[str]) -> Response[bytes]:
    """discovery, services, requests and servicerequestupdates, each ``.xml`` or ``.json``."""

    shared = await _shared_discovery(request, name)
    if shared is not None:
        return shared

    async def handle(j: Jurisdiction, stem: str) -> Response[bytes]:
        params = request.query_params
        if stem == "discovery":
            return await _discovery(request, j)
        if stem == "services":
            return await _services(j)
        if stem == "requests":
            return await _requests(j, params)
        if stem == "servicerequestupdates":
            return await _updates(j, params)
        raise Open311Error(404, _("There is no Open311 resource %(name)s", name=stem))

    return await _serve(request, name, handle)


@get(f"{BASE}/services/{{name:str}}", guards=[public], opt=OPT, name="open311.service")
async def open311_service(request: Request, name: FromPath[str]) -> Response[bytes]:
    """A service definition: the attributes a request of this category may carry."""

    async def handle(j: Jurisdiction, stem: str) -> Response[bytes]:
        category = await _active_category(j, stem, 404)
        doc = fmt_.service_definition(category.code, _attributes(j))
        return _respond(j.fmt, fmt_.dump(j.fmt, doc, "service_definition"))

    return await _serve(request, name, handle)


@get(f"{BASE}/requests/{{name:str}}", guards=[public], opt=OPT, name="open311.request")
async def open311_request(request: Request, name: FromPath[str]) -> Response[bytes]:
    """One request by its ``service_request_id`` (the event number)."""

    async def handle(j: Jurisdiction, stem: str) -> Response[bytes]:
        event = (
            await j.db.execute(select(Event).where(Event.number == stem, await publicity.public_event_filter(j.db)))
        ).scalar_one_or_none()
        if event is None:  # a non-public category's event is not there for the public
            raise Open311Error(404, _("service_request_id %(id)s was not found", id=stem))
        return _respond(j.fmt, fmt_.dump(j.fmt, await _docs(j, [event]), "service_requests", "request"))

    return await _serve(request, name, handle)


@get(f"{BASE}/tokens/{{name:str}}", guards=[public], opt=OPT, name="open311.token")
async def open311_token(request: Request, name: FromPath[str]) -> Response[bytes]:
    """The ``service_request_id`` a POST's token stands for."""

    async def handle(j: Jurisdiction, stem: str) -> Response[bytes]:
        row = (
            await j.db.execute(
                select(Event.number)
                .join(
                    Open311Request,
                    and_(Open311Request.tenant_id == Event.tenant_id, Open311Request.event_id == Event.id),
                )
                .where(Open311Request.token == stem[:64])
            )
        ).scalar_one_or_none()
        if row is None:
            raise Open311Error(404, _("token %(token)s was not found", token=stem))
        return _respond(j.fmt, fmt_.dump(j.fmt, [fmt_.token(row, stem)], "service_requests", "request"))

    return await _serve(request, name, handle)


@post(f"{BASE}/{{name:str}}", guards=[public], opt=OPT, name="open311.create", status_code=200)
async def open311_post(request: Request, name: FromPath[str]) -> Response[bytes]:
    """POST requests: a new event from an Open311 client holding an API key of the district."""
    try:
        form = await request.form()
    except Exception:  # a body that is not a form: the spec's 400, not a stack trace
        form = None

    async def handle(j: Jurisdiction, stem: str) -> Response[bytes]:
        _only(stem, "requests")
        if form is None:
            raise Open311Error(400, _("Send the request as a form (application/x-www-form-urlencoded or multipart)"))
        raw_key = form.get("api_key") if isinstance(form.get("api_key"), str) else request.query_params.get("api_key")
        key = await reference.api_key(j.db, raw_key, j.version)
        if key is None:
            raise Open311Error(403, _("Invalid api_key received -- can't proceed with create_request."))
        # The district's limit per key (core/ops/limits.py); refused before anything is written.
        limit = limits_of(j.config.tenant, request.app.state.ops.settings).open311_per_minute
        retry = await check_rate(request, "open311", f"{j.tenant_id}:{key.id}", limit, j.config.tenant.slug)
        if retry:
            raise Open311Error(429, too_many(limit, retry, _("API key")), retry_after=retry)
        j.db.info["actor"] = Actor("token", None, f"Open311: {key.name}"[:100])  # for the audit log
        response = await _create(request, j, form, key)
        # The key's last use: after the answer, in a transaction of its own, once a minute at most.
        response.background = BackgroundTask(touch_key, request.app.state.db, j.tenant_id, key.id)
        return response

    jid = form.get("jurisdiction_id") if form is not None and isinstance(form.get("jurisdiction_id"), str) else None
    return await _serve(request, name, handle, jurisdiction_id=jid or request.query_params.get("jurisdiction_id"))


handlers = [open311_get, open311_service, open311_request, open311_token, open311_post]
