"""邻里节 and community activities: the calendar (by month), publishing one, its page with sign-up
for residents and, for staff, the attendance sheet (tick who came), the headcount and co-building
units after the event, and photos. Sign-up, capacity and check-in are core.services.activities."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import or_, select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services import activities
from core.services.activities.models import Activity
from core.services.errors import ServiceError
from core.services.files.models import StoredFile
from core.services.files.storage import UploadError
from core.services.files.uploads import IMAGES
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from core.web.uploads import save_upload
from plugins.civic_virtue import festivals
from plugins.civic_virtue.models import ACTIVITY_KINDS, CommunityEvent
from plugins.civic_virtue.plugin import ACTIVITIES, NOMINATE, VIEW, VOTE
from plugins.civic_virtue.routes.common import (
    LOCAL,
    Errors,
    FormError,
    Values,
    ancestors_of,
    integer,
    local_datetime,
    message,
    node_in_scope,
    nodes_for,
    number_id,
    rollback,
    text,
    to_local_input,
)

BASE = "/civic-virtue/activities"
NODE_KINDS = ("subdistrict", "town", "community", "village", "grid", "estate")


def kind_labels() -> dict[str, str]:
    return {k: _(festivals.KIND_LABELS[k]) for k in ACTIVITY_KINDS}


def _prefixes(request: Request) -> list[str]:
    c = ctx(request)
    return sorted({*c.scope_prefixes(VIEW), *c.scope_prefixes(NOMINATE), *c.scope_prefixes(VOTE)})


def _visible(prefixes: list[str]) -> Any:
    return or_(in_scope(CommunityEvent.node_path, prefixes), CommunityEvent.node_path.in_(ancestors_of(prefixes)))


@get(f"{BASE}/", guards=[signed_in])
async def calendar(
    request: Request,
    db: DbSession,
    rc: Ctx,
    month: FromQuery[str | None] = None,
    kind: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Any:
    now = datetime.now(LOCAL)
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=LOCAL) if month else None
    except ValueError:
        first = None
    stmt = select(CommunityEvent).where(_visible(_prefixes(request)))
    if first is not None:
        nxt = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
        stmt = stmt.where(
            CommunityEvent.starts_at >= first.astimezone(UTC), CommunityEvent.starts_at < nxt.astimezone(UTC)
        )
    if kind in ACTIVITY_KINDS:
        stmt = stmt.where(CommunityEvent.kind == kind)
    result = await paginate(db, stmt.order_by(CommunityEvent.starts_at.desc(), CommunityEvent.id.desc()), page)
    acts = {
        a.id: a
        for a in (
            await db.execute(select(Activity).where(Activity.id.in_([e.activity_id for e in result.items])))
        ).scalars()
    }
    staff_prefixes = rc.scope_prefixes(VIEW)
    figures = await festivals.figures(db, staff_prefixes or _prefixes(request))
    query = "&".join(
        f"{k}={v}"
        for k, v in (("month", month if first else None), ("kind", kind if kind in ACTIVITY_KINDS else None))
        if v
    )
    return await render(
        request,
        "civic_virtue/activities.html",
        {
            "page": result,
            "rows": [(e, acts[e.activity_id]) for e in result.items if e.activity_id in acts],
            "kinds": kind_labels(),
            "filters": {"month": month if first else "", "kind": kind if kind in ACTIVITY_KINDS else ""},
            "base": rc.url(f"{BASE}/?") + (query + "&" if query else ""),
            "can_manage": rc.can(ACTIVITIES),
            "f": figures,
            "this_month": now.strftime("%Y-%m"),
        },
    )


async def _form(request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return await render(
        request,
        "civic_virtue/activity_form.html",
        {
            "values": Values(values),
            "errors": Errors(errors),
            "kinds": kind_labels(),
            "nodes": await nodes_for(request, ACTIVITIES, NODE_KINDS),
        },
        status_code=status,
    )


@get(f"{BASE}/new", guards=[requires(ACTIVITIES)])
async def activity_new(request: Request) -> Any:
    return await _form(request, {"kind": "festival"}, {})


@post(f"{BASE}/", guards=[requires(ACTIVITIES)])
async def activity_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    values = {k: text(data, k) for k in data if not k.startswith("_")}
    try:
        node = await node_in_scope(request, data.get("node_id"), ACTIVITIES, NODE_KINDS)
        starts = local_datetime(data, "starts_at")
        ends = local_datetime(data, "ends_at")
        capacity = integer(data, "capacity", 0, low=0, high=100000) or None
        event = await festivals.publish(
            db,
            festivals.EventInput(
                title=text(data, "title"),
                kind=text(data, "kind"),
                node=node,
                starts_at=starts,  # type: ignore[arg-type]
                ends_at=ends,  # type: ignore[arg-type]
                place=text(data, "place"),
                description=str(data.get("description") or ""),
                capacity=capacity,
                signup_closes_at=local_datetime(data, "signup_closes_at", required=False),
                units=festivals.clean_units(str(data.get("units") or "")),
            ),
        )
    except FormError as e:
        await rollback(request)
        return await _form(request, values, {e.field: e.message}, 400)
    except ServiceError as e:
        await rollback(request)
        return await _form(request, values, {getattr(e, "field", None) or "title": message(e)}, e.status)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/{event.id}"), status_code=303)


async def _load(request: Request, event_id: int) -> tuple[CommunityEvent, Activity]:
    c = ctx(request)
    assert c.db is not None
    row = (
        await c.db.execute(
            select(CommunityEvent, Activity)
            .join(Activity, Activity.id == CommunityEvent.activity_id)
            .where(CommunityEvent.id == event_id, _visible(_prefixes(request)))
        )
    ).first()
    if row is None:
        raise NotFoundException()
    return row[0], row[1]


async def _page(request: Request, event_id: int, *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    event, activity = await _load(request, event_id)
    staff = c.can(ACTIVITIES, activity.node_path)
    sheet = await activities.attendance_sheet(c.db, activity.id) if staff else None
    mine = next(((a, s) for a, s in await activities.my_activities(c.db, c.user.id) if a.id == activity.id), None)
    attended = await festivals.attended_count(c.db, activity.id)
    photos = list(
        (
            await c.db.execute(
                select(StoredFile.id).where(
                    StoredFile.owner_type == festivals.PHOTO_OWNER, StoredFile.owner_id == str(event.id)
                )
            )
        ).scalars()
    )
    return await render(
        request,
        "civic_virtue/activity.html",
        {
            "event": event,
            "activity": activity,
            "kind": kind_labels().get(event.kind, event.kind),
            "staff": staff,
            "sheet": sheet,
            "mine": mine,
            "participants": festivals.participants(event, attended),
            "attended": attended,
            "photos": photos,
            "error": error,
            "units_text": "\n".join(event.units or []),
            "ended": activity.ends_at.replace(tzinfo=activity.ends_at.tzinfo or UTC) <= datetime.now(UTC),
            "to_local_input": to_local_input,
        },
        status_code=status,
    )


@get(f"{BASE}/{{event_id:int}}", guards=[signed_in])
async def activity_page(request: Request, event_id: FromPath[int]) -> Any:
    return await _page(request, event_id)


async def _do(request: Request, event_id: int, step: Any, *, staff: bool = False) -> Any:
    c = ctx(request)
    assert c.db is not None
    event, activity = await _load(request, event_id)
    if staff and not c.can(ACTIVITIES, activity.node_path):
        raise NotFoundException()
    try:
        await step(event, activity)
    except (ServiceError, FormError, UploadError) as e:
        await rollback(request)
        if isinstance(e, ServiceError):
            text_, status = message(e), e.status
        elif isinstance(e, FormError):
            text_, status = e.message, 400
        else:
            text_, status = str(e), getattr(e, "status", 400)
        return await _page(request, event_id, error=text_, status=status)
    await c.db.commit()
    return Redirect(c.url(f"{BASE}/{event_id}"), status_code=303)


@post(f"{BASE}/{{event_id:int}}/signup", guards=[signed_in])
async def signup(request: Request, event_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None

    async def step(event: CommunityEvent, activity: Activity) -> None:
        if text(data, "withdraw") == "1":
            await activities.withdraw(db, activity.id, rc.user.id)
        else:
            await activities.sign_up(db, activity.id, rc.user.id)

    return await _do(request, event_id, step)


@post(f"{BASE}/{{event_id:int}}/check-in", guards=[requires(ACTIVITIES)])
async def check_in(request: Request, event_id: FromPath[int], data: Form, db: DbSession) -> Any:

    async def step(event: CommunityEvent, activity: Activity) -> None:
        user_id = number_id(data.get("user_id"))
        if user_id is None:
            raise FormError("user_id", _("Choose a participant."))
        await activities.check_in(db, activity.id, user_id, method="list")

    return await _do(request, event_id, step, staff=True)


@post(f"{BASE}/{{event_id:int}}/after", guards=[requires(ACTIVITIES)])
async def after(request: Request, event_id: FromPath[int], data: Form, db: DbSession) -> Any:

    async def step(event: CommunityEvent, activity: Activity) -> None:
        await festivals.record_after(
            db,
            event,
            headcount=integer(data, "headcount", low=0, high=100000),
            units=festivals.clean_units(str(data.get("units") or "")),
            summary=str(data.get("summary") or ""),
        )

    return await _do(request, event_id, step, staff=True)


@post(f"{BASE}/{{event_id:int}}/photos", guards=[requires(ACTIVITIES)], request_max_body_size=30 * 1024 * 1024)
async def photos(request: Request, event_id: FromPath[int]) -> Any:
    form = await request.form()
    uploads = [u for u in form.getall("photos") if isinstance(u, UploadFile) and u.filename] if "photos" in form else []

    async def step(event: CommunityEvent, activity: Activity) -> None:
        if not uploads:
            raise FormError("photos", _("Choose photos to upload."))
        for u in uploads[:10]:
            await save_upload(request, u, festivals.PHOTO_OWNER, event.id, allowed_types=IMAGES)

    return await _do(request, event_id, step, staff=True)


handlers = [calendar, activity_new, activity_create, activity_page, signup, check_in, after, photos]
