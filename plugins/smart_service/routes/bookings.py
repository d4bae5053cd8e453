"""预约代办 pages: my bookings and the bookings of my area, the booking form, a booking's page with
take / record the result / cancel. Staff lists are filtered by scope in SQL; a booking outside the
user's scope (and not their own) answers 404."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import or_, select

from core.db.base import utcnow
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.identity.models import User
from core.rbac.scope import in_scope
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.smart_service import bookings as bk
from plugins.smart_service import sla
from plugins.smart_service.models import Booking

BASE = "/smart-service/bookings"
NODE_KINDS = ("community", "village", "grid")
GUARD = [requires(bk.REQUEST, bk.HANDLE)]


def _mine(user_id: int) -> Any:
    return or_(Booking.applicant_user_id == user_id, Booking.created_by_user_id == user_id)


@get(f"{BASE}/", guards=GUARD)
async def booking_list(
    request: Request,
    db: DbSession,
    rc: Ctx,
    tab: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    overdue: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Any:
    assert rc.user is not None
    staff = rc.can(bk.HANDLE)
    tab = "area" if staff and tab != "mine" else "mine"
    stmt = select(Booking)
    if tab == "area":
        stmt = stmt.where(in_scope(Booking.node_path, rc.scope_prefixes(bk.HANDLE)))
    else:
        stmt = stmt.where(_mine(rc.user.id))
    state = status if status in bk.STATES else None
    if state:
        stmt = stmt.where(Booking.state == state)
    now = utcnow()
    if overdue:
        stmt = stmt.where(bk.overdue_clause(now))
    stmt = stmt.order_by(Booking.created_at.desc(), Booking.id.desc())
    result = await paginate(db, stmt, page)
    query = "&".join(f"{k}={v}" for k, v in (("tab", tab), ("status", state), ("overdue", overdue)) if v)
    return await render(
        request,
        "smart_service/bookings.html",
        {
            "page": result,
            "rows": [_row(b, rc.locale, now) for b in result.items],
            "tab": tab,
            "staff": staff,
            "filters": {"state": state or "", "overdue": bool(overdue)},
            "states": {s: _(bk.STATE_LABELS[s]) for s in bk.STATES},
            "base": rc.url(f"{BASE}/?") + (query + "&" if query else ""),
            "can_request": rc.can(bk.REQUEST),
        },
    )


def _row(b: Booking, locale: str, now: Any) -> dict[str, Any]:
    matter = bk.MATTER_BY_CODE.get(b.matter)
    return {
        "b": b,
        "matter": matter.label(locale) if matter else b.matter,
        "state": _(bk.STATE_LABELS.get(b.state, b.state)),
        "overdue": bk.is_overdue(b, now),
    }


async def _node_options(request: Request) -> list[GridNode]:
    c = ctx(request)
    assert c.db is not None
    rows = await c.db.execute(
        select(GridNode)
        .where(in_scope(GridNode.path, c.scope_prefixes(bk.REQUEST)), GridNode.kind.in_(NODE_KINDS))
        .order_by(GridNode.path)
        .limit(500)
    )
    return list(rows.scalars())


async def _form(request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    c = ctx(request)
    assert c.user is not None
    return await render(
        request,
        "smart_service/booking_form.html",
        {
            "values": values,
            "errors": errors,
            "matters": bk.MATTERS,
            "nodes": await _node_options(request),
            "on_behalf": c.can(bk.HANDLE),
        },
        status_code=status,
    )


@get(f"{BASE}/new", guards=[requires(bk.REQUEST)])
async def booking_new(request: Request, rc: Ctx) -> Any:
    assert rc.user is not None
    on_behalf = rc.can(bk.HANDLE)
    values = {"applicant_name": "" if on_behalf else rc.user.display_name, "matter": "", "preferred_day": ""}
    return await _form(request, values, {})


@post(f"{BASE}/", guards=[requires(bk.REQUEST)])
async def booking_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None and rc.actor is not None
    values = {k: str(data.get(k, "")).strip() for k in ("matter", "preferred_day", "applicant_name", "phone")}
    values.update({k: str(data.get(k, "")) for k in ("documents", "note", "node_id")})
    calendar = await sla.load_calendar(db)
    errs, _day = bk.check_request(
        matter=values["matter"],
        preferred_day=values["preferred_day"],
        applicant_name=values["applicant_name"],
        calendar=calendar,
        today=bk.local_today(calendar),
    )
    errors = {k: e.translated(_) for k, e in errs.items()}
    nodes = {str(n.id): n for n in await _node_options(request)}
    node = nodes.get(values["node_id"]) or (next(iter(nodes.values())) if len(nodes) == 1 else None)
    if node is None:
        errors["node_id"] = _("Choose where the applicant lives")
    if errors:
        return await _form(request, values, errors, 400)
    assert node is not None
    on_behalf = rc.can(bk.HANDLE)
    try:
        booking = await bk.request_booking(
            db,
            matter=values["matter"],
            preferred_day=values["preferred_day"],
            node=node,
            actor=rc.actor,
            applicant_user_id=None if on_behalf else rc.user.id,
            applicant_name=values["applicant_name"],
            phone=values["phone"],
            documents=values["documents"],
            note=values["note"],
            vault=request.app.state.vault,
            calendar=calendar,
        )
    except bk.BookingError as exc:
        await db.rollback()
        return await _form(request, values, {exc.field or "matter": exc.translated(_)}, 400)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/{booking.id}?created=1"), status_code=303)


async def _visible(request: Request, booking_id: int) -> Booking:
    """The booking if the user booked it or handles bookings where it is; else 404."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        booking = await bk.get_booking(c.db, booking_id)
    except bk.BookingNotFound:
        raise NotFoundException() from None
    own = c.user.id in (booking.applicant_user_id, booking.created_by_user_id)
    if not own and not c.can(bk.HANDLE, booking.node_path):
        raise NotFoundException()
    return booking


async def _detail(request: Request, booking: Booking, error: str | None = None, message: str | None = None) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    ids = [i for i in (booking.taken_by_user_id, booking.created_by_user_id, booking.applicant_user_id) if i]
    names = dict((await c.db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))).all())
    node_name = await c.db.scalar(select(GridNode.name).where(GridNode.id == booking.node_id))
    matter = bk.MATTER_BY_CODE.get(booking.matter)
    handler = c.can(bk.HANDLE, booking.node_path)
    own = c.user.id in (booking.applicant_user_id, booking.created_by_user_id)
    days = int(c.plugin_settings.get("smart_service", {}).get("proxy_service_days", bk.DEFAULT_DAYS))
    return await render(
        request,
        "smart_service/booking.html",
        {
            "b": booking,
            "matter": matter.label(c.locale) if matter else booking.matter,
            "required_documents": matter.documents if matter else (),
            "state": _(bk.STATE_LABELS[booking.state]),
            "overdue": bk.is_overdue(booking, utcnow()),
            "names": names,
            "node_name": node_name or "",
            "can_take": handler and booking.state == bk.REQUESTED,
            "can_complete": handler and booking.state == bk.TAKEN and booking.taken_by_user_id == c.user.id,
            "can_cancel": (handler or own) and booking.state in (bk.REQUESTED, bk.TAKEN),
            "days": days,
            "error": error,
            "message": message,
        },
        status_code=400 if error else 200,
    )


@get(f"{BASE}/{{booking_id:int}}", guards=GUARD)
async def booking_detail(request: Request, booking_id: FromPath[int], created: FromQuery[str | None] = None) -> Any:
    booking = await _visible(request, booking_id)
    return await _detail(request, booking, message=_("Your booking was received.") if created else None)


async def _act(request: Request, booking_id: int, action: str, data: dict[str, Any]) -> Any:
    c = ctx(request)
    assert c.db is not None and c.actor is not None
    booking = await _visible(request, booking_id)
    try:
        if action == "take":
            days = int(c.plugin_settings.get("smart_service", {}).get("proxy_service_days", bk.DEFAULT_DAYS))
            await bk.take(c.db, booking, c.actor, days=days, can=c.can)
        elif action == "complete":
            await bk.complete(c.db, booking, c.actor, str(data.get("result", "")), can=c.can)
        else:
            await bk.cancel(c.db, booking, c.actor, str(data.get("reason", "")), can=c.can)
    except bk.BookingError as exc:
        await c.db.rollback()
        booking = await _visible(request, booking_id)
        return await _detail(request, booking, error=exc.translated(_))
    await c.db.commit()
    return Redirect(c.url(f"{BASE}/{booking.id}"), status_code=303)


@post(f"{BASE}/{{booking_id:int}}/take", guards=[requires(bk.HANDLE)])
async def booking_take(request: Request, booking_id: FromPath[int], data: Form) -> Any:
    return await _act(request, booking_id, "take", data)


@post(f"{BASE}/{{booking_id:int}}/complete", guards=[requires(bk.HANDLE)])
async def booking_complete(request: Request, booking_id: FromPath[int], data: Form) -> Any:
    return await _act(request, booking_id, "complete", data)


@post(f"{BASE}/{{booking_id:int}}/cancel", guards=GUARD)
async def booking_cancel(request: Request, booking_id: FromPath[int], data: Form) -> Any:
    return await _act(request, booking_id, "cancel", data)


handlers = [booking_list, booking_new, booking_create, booking_detail, booking_take, booking_complete, booking_cancel]
