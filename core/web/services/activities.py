"""Activities pages. Staff (``core.activity.manage``, in their part of the tree) publish, see the
sign-ups, check people in and out by scanning the QR code on the participant's phone (the camera
where the browser can read codes, or the code typed or pasted) or by ticking the list, correct
hours (audited) and print the attendance sheet. Residents (``core.activity.join``) list, sign up,
cancel, and show their QR code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import segno
from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import or_, select

from core.i18n import gettext as _
from core.i18n import lazy
from core.identity.models import User
from core.rbac.models import Role
from core.rbac.scope import in_scope
from core.services import activities, documents
from core.services.activities.models import PUBLISHED, SIGNED_UP, Activity, ActivitySignup
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import check_in_scope, requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.services.common import (
    Form,
    errors_of,
    integer,
    local_datetime,
    node_or_404,
    rollback,
    scope_nodes,
    text,
)

MANAGE = "core.activity.manage"
JOIN = "core.activity.join"
PER_PAGE = 20

STATUS = {"draft": lazy("Draft"), "published": lazy("Published"), "cancelled": lazy("Cancelled")}
DONE = {
    "published": lazy("The activity has been published."),
    "signed_up": lazy("You are signed up."),
    "withdrawn": lazy("Your sign-up has been cancelled."),
    "cancelled": lazy("The activity has been cancelled."),
    "hours": lazy("The hours have been recorded."),
}
SHEET = documents.DocumentTemplate(
    kind="attendance_sheet",
    title="活动签到表",
    fields=(("活动", "{title}"), ("时间", "{when}"), ("地点", "{place}"), ("报名/签到", "{signed_up} / {attended}")),
    signatures=("记录人", "负责人"),
)


def _ancestors(prefixes: list[str]) -> set[str]:
    """Every node path above (and at) the scopes: a district-wide activity shows in each community."""
    out = set()
    for p in prefixes:
        parts = [x for x in p.split("/") if x]
        out.update("/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
    return out


def _visible(request: Request, action: str) -> Any:
    prefixes = ctx(request).scope_prefixes(action)
    return or_(in_scope(Activity.node_path, prefixes), Activity.node_path.in_(sorted(_ancestors(prefixes))))


async def _visible_activity(request: Request, activity_id: int, action: str = JOIN) -> Activity:
    """The activity if this user may see it for ``action`` (a draft only for its managers); 404 otherwise."""
    c = ctx(request)
    assert c.db is not None
    stmt = select(Activity).where(Activity.id == activity_id, _visible(request, action))
    found = (await c.db.execute(stmt)).scalar_one_or_none()
    if found is None or (found.status == "draft" and not c.can(MANAGE, found.node_path)):
        raise NotFoundException()
    return found


async def _managed(request: Request, activity_id: int) -> Activity:
    c = ctx(request)
    assert c.db is not None
    found = (await c.db.execute(select(Activity).where(Activity.id == activity_id))).scalar_one_or_none()
    if found is None:
        raise NotFoundException()
    check_in_scope(request, MANAGE, found.node_path)
    return found


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def open_for_signup(activity: Activity, moment: datetime | None = None) -> bool:
    moment = moment or datetime.now(UTC)
    if activity.status != PUBLISHED or moment >= _aware(activity.ends_at):  # type: ignore[operator]
        return False
    if activity.signup_opens_at and moment < _aware(activity.signup_opens_at):  # type: ignore[operator]
        return False
    return not (activity.signup_closes_at and moment >= _aware(activity.signup_closes_at))  # type: ignore[operator]


def qr_image(token: str) -> str:
    """The QR code as an SVG data URI (served inline: no file, nothing cached)."""
    return segno.make(token, error="m").svg_data_uri(scale=6, border=2)


# ---- residents ------------------------------------------------------------------------------


@get("/activities/", guards=[requires(JOIN, MANAGE)])
async def activity_list(
    request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1, past: FromQuery[int] = 0
) -> Any:
    assert rc.user is not None
    now = datetime.now(UTC)
    action = JOIN if rc.can(JOIN) else MANAGE
    stmt = select(Activity).where(Activity.status == PUBLISHED, _visible(request, action))
    if past:
        stmt = stmt.where(Activity.ends_at < now).order_by(Activity.starts_at.desc(), Activity.id)
    else:
        stmt = stmt.where(Activity.ends_at >= now).order_by(Activity.starts_at, Activity.id)
    result = await paginate(db, stmt, page, PER_PAGE)
    mine = set()
    if result.items:
        mine = set(
            (
                await db.execute(
                    select(ActivitySignup.activity_id).where(
                        ActivitySignup.user_id == rc.user.id,
                        ActivitySignup.status == SIGNED_UP,
                        ActivitySignup.activity_id.in_([a.id for a in result.items]),
                    )
                )
            ).scalars()
        )
    return await render(
        request,
        "core/services/activities.html",
        {"page": result, "mine": mine, "past": bool(past), "can_manage": rc.can(MANAGE), "open": open_for_signup},
    )


async def _detail(request: Request, activity: Activity, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    signup = (
        await c.db.execute(
            select(ActivitySignup).where(ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == c.user.id)
        )
    ).scalar_one_or_none()
    done = request.query_params.get("done")
    return await render(
        request,
        "core/services/activity.html",
        {
            "a": activity,
            "signup": signup if signup is not None and signup.status == SIGNED_UP else None,
            "open": open_for_signup(activity),
            "error": error,
            "message": _(DONE[done]) if done in DONE else None,
            "can_manage": c.can(MANAGE, activity.node_path),
            "status_label": _(STATUS.get(activity.status, activity.status)),
        },
        status_code=status,
    )


@get("/activities/{activity_id:int}", guards=[requires(JOIN, MANAGE)])
async def activity_page(request: Request, activity_id: FromPath[int], rc: Ctx) -> Any:
    return await _detail(request, await _visible_activity(request, activity_id, JOIN if rc.can(JOIN) else MANAGE))


@post("/activities/{activity_id:int}/signup", guards=[requires(JOIN)], status_code=200)
async def activity_signup(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    activity = await _visible_activity(request, activity_id)
    try:
        await activities.sign_up(db, activity.id, rc.user.id)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _detail(request, await _visible_activity(request, activity_id), err.translate(_), 409)
    return Redirect(rc.url(f"/activities/{activity_id}?done=signed_up"), status_code=303)


@post("/activities/{activity_id:int}/withdraw", guards=[requires(JOIN)], status_code=200)
async def activity_withdraw(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    activity = await _visible_activity(request, activity_id)
    try:
        await activities.withdraw(db, activity.id, rc.user.id)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _detail(request, await _visible_activity(request, activity_id), err.translate(_), 409)
    return Redirect(rc.url(f"/activities/{activity_id}?done=withdrawn"), status_code=303)


async def my_token(request: Request, activity: Activity) -> str:
    """The signed-up user's current check-in code; 404 unless they are signed up."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    signed = await c.db.scalar(
        select(ActivitySignup.id).where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.user_id == c.user.id,
            ActivitySignup.status == SIGNED_UP,
        )
    )
    if signed is None:
        raise NotFoundException()
    return activities.issue_token(request.app.state.vault, activity, c.user.id)


@get("/activities/{activity_id:int}/qr", guards=[requires(JOIN)])
async def activity_qr(request: Request, activity_id: FromPath[int]) -> Any:
    """My check-in code: shown full-screen on the phone; it renews itself before it expires."""
    activity = await _visible_activity(request, activity_id)
    token = await my_token(request, activity)
    return await render(
        request,
        "core/services/activity_qr.html",
        {
            "a": activity,
            "token": token,
            "image": qr_image(token),
            "minutes": int(activities.QR_TTL.total_seconds() // 60),
        },
    )


@get("/me/activities", guards=[requires(JOIN)])
async def my_activities(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    rows = await activities.my_activities(db, rc.user.id, limit=100)
    served = await activities.served(db, rc.user.id)
    return await render(request, "core/services/my_activities.html", {"rows": rows, "served": served})


# ---- staff ----------------------------------------------------------------------------------


@get("/activities/manage", guards=[requires(MANAGE)])
async def manage_list(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    stmt = (
        select(Activity)
        .where(in_scope(Activity.node_path, rc.scope_prefixes(MANAGE)))
        .order_by(Activity.starts_at.desc(), Activity.id)
    )
    result = await paginate(db, stmt, page, PER_PAGE)
    return await render(
        request,
        "core/services/activities_manage.html",
        {"page": result, "status": {k: _(v) for k, v in STATUS.items()}},
    )


async def _eligibility_choices(request: Request) -> list[tuple[str, str]]:
    c = ctx(request)
    assert c.db is not None
    roles = (await c.db.execute(select(Role).order_by(Role.code))).scalars().all()
    choices = [("everyone", _("Everyone")), ("residents", _("Residents linked to their record"))]
    for role in roles:
        if role.code in ("district_admin",):
            continue
        name = role.name_en if c.locale == "en" and role.name_en else role.name_zh
        choices.append((f"role:{role.code}", _("Only: %(role)s", role=name)))
    return choices


async def _form_page(request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return await render(
        request,
        "core/services/activity_form.html",
        {
            "values": values,
            "errors": errors,
            "nodes": await scope_nodes(request, MANAGE),
            "eligibility": await _eligibility_choices(request),
        },
        status_code=status,
    )


@get("/activities/new", guards=[requires(MANAGE)])
async def new_form(request: Request) -> Any:
    return await _form_page(request, {"eligibility": "everyone"}, {})


@post("/activities/new", guards=[requires(MANAGE)], status_code=200)
async def new_activity(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    keys = ("title", "node", "place", "description", "starts_at", "ends_at", "capacity", "signup_opens_at",
            "signup_closes_at", "eligibility", "category")  # fmt: skip
    values = {k: text(data, k, 2000) for k in keys}
    errors: dict[str, str] = {}
    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at"):
        times[name] = local_datetime(values[name])
        if values[name] and times[name] is None:
            errors[name] = _("Give a date and time.")
    for name in ("starts_at", "ends_at"):
        if not values[name]:
            errors[name] = _("Give a date and time.")
    capacity = integer(values, "capacity")
    if values["capacity"] and (capacity is None or capacity < 1 or capacity > 100000):
        errors["capacity"] = _("Capacity is a whole number of at least 1, or empty for no limit.")
    node_id = integer(values, "node")
    if node_id is None:
        errors["node"] = _("Choose where the activity belongs.")
    if errors:
        return await _form_page(request, values, errors, 400)
    try:
        node = await node_or_404(request, node_id, MANAGE)
    except NotFoundException:
        return await _form_page(request, values, {"node": _("Choose where the activity belongs.")}, 400)
    try:
        activity = await activities.publish(
            db,
            title=values["title"],
            node=node,
            starts_at=times["starts_at"],  # type: ignore[arg-type]
            ends_at=times["ends_at"],  # type: ignore[arg-type]
            capacity=capacity,
            signup_opens_at=times["signup_opens_at"],
            signup_closes_at=times["signup_closes_at"],
            eligibility_rule=values["eligibility"] or "everyone",
            place=values["place"],
            description=values["description"],
            category=values["category"][:64],
            source="core",
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _form_page(request, values, errors_of(err), 400)
    return Redirect(rc.url(f"/activities/{activity.id}/staff?done=published"), status_code=303)


async def _staff_page(
    request: Request, activity: Activity, message: str | None = None, error: str | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    sheet = await activities.attendance_sheet(c.db, activity.id)
    done = request.query_params.get("done")
    return await render(
        request,
        "core/services/activity_staff.html",
        {
            "a": activity,
            "sheet": sheet,
            "message": message or (_(DONE[done]) if done in DONE else None),
            "error": error,
            "status_label": _(STATUS.get(activity.status, activity.status)),
        },
        status_code=status,
    )


@get("/activities/{activity_id:int}/staff", guards=[requires(MANAGE)])
async def staff_page(request: Request, activity_id: FromPath[int]) -> Any:
    return await _staff_page(request, await _managed(request, activity_id))


async def _name(request: Request, user_id: int) -> str:
    c = ctx(request)
    assert c.db is not None
    return (await c.db.execute(select(User.display_name).where(User.id == user_id))).scalar_one_or_none() or ""


@post("/activities/{activity_id:int}/scan", guards=[requires(MANAGE)], status_code=200)
async def scan(request: Request, activity_id: FromPath[int], data: Form, db: DbSession) -> Any:
    """A participant's code, read by the camera or typed: checks them in, or out if they are in."""
    activity = await _managed(request, activity_id)
    try:
        signup, direction = await activities.check_by_token(
            db, request.app.state.vault, text(data, "token", 200), activity_id=activity.id
        )
        user_id = signup.user_id
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, activity_id), error=err.translate(_), status=400)
    name = await _name(request, user_id)
    if direction == "in":
        message = _("%(name)s has checked in.", name=name)
    else:
        message = _("%(name)s has checked out.", name=name)
    return await _staff_page(request, activity, message=message)


@post("/activities/{activity_id:int}/attendance/{user_id:int}", guards=[requires(MANAGE)], status_code=200)
async def tick(
    request: Request,
    activity_id: FromPath[int],
    user_id: FromPath[int],
    data: Form,
    db: DbSession,
    rc: Ctx,
) -> Any:
    """Ticking the list: check in or out without a code."""
    activity = await _managed(request, activity_id)
    try:
        if data.get("direction") == "out":
            await activities.check_out(db, activity.id, user_id, method="list")
        else:
            await activities.check_in(db, activity.id, user_id, method="list")
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, activity_id), error=err.translate(_), status=409)
    return Redirect(rc.url(f"/activities/{activity_id}/staff"), status_code=303)


@post("/activities/{activity_id:int}/hours/{user_id:int}", guards=[requires(MANAGE)], status_code=200)
async def set_hours(
    request: Request,
    activity_id: FromPath[int],
    user_id: FromPath[int],
    data: Form,
    db: DbSession,
    rc: Ctx,
) -> Any:
    """Staff correct someone's hours, with a reason (audited with the old value)."""
    activity = await _managed(request, activity_id)
    raw = text(data, "hours", 10).replace(",", ".")
    try:
        minutes = round(float(raw) * 60)
    except ValueError:
        return await _staff_page(request, activity, error=_("Give the hours as a number, such as 2.5."), status=400)
    try:
        await activities.set_minutes(db, activity.id, user_id, minutes, text(data, "reason", 300))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, activity_id), error=err.translate(_), status=400)
    return Redirect(rc.url(f"/activities/{activity_id}/staff?done=hours"), status_code=303)


@post("/activities/{activity_id:int}/cancel", guards=[requires(MANAGE)], status_code=200)
async def cancel(request: Request, activity_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    activity = await _managed(request, activity_id)
    try:
        await activities.cancel(db, activity, text(data, "reason", 300))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, activity_id), error=err.translate(_), status=400)
    return Redirect(rc.url(f"/activities/{activity_id}/staff?done=cancelled"), status_code=303)


def _when(activity: Activity) -> str:
    from core.web.services.common import LOCAL

    start = _aware(activity.starts_at).astimezone(LOCAL)  # type: ignore[union-attr]
    end = _aware(activity.ends_at).astimezone(LOCAL)  # type: ignore[union-attr]
    return (
        f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    )


@post("/activities/{activity_id:int}/sheet", guards=[requires(MANAGE)], status_code=200)
async def sheet_pdf(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    """The attendance sheet as a PDF document (with its verification QR), stored and downloaded."""
    from core.web.services.common import LOCAL

    assert rc.tenant is not None
    activity = await _managed(request, activity_id)
    sheet = await activities.attendance_sheet(db, activity.id)

    def clock(v: datetime | None) -> str:
        return _aware(v).astimezone(LOCAL).strftime("%H:%M") if v else ""  # type: ignore[union-attr]

    rows = [["姓名", "签到", "签退", "时长（小时）"]] + [
        [
            r.name,
            clock(r.checked_in_at),
            clock(r.checked_out_at),
            f"{(r.minutes or 0) / 60:.2f}" if r.minutes is not None else "",
        ]
        for r in sheet.rows
    ]
    doc = await documents.issue(
        db,
        request.app.state.storage,
        tenant=rc.tenant,
        template=SHEET,
        values={
            "title": activity.title,
            "when": _when(activity),
            "place": activity.place or "—",
            "signed_up": sheet.signed_up,
            "attended": sheet.attended,
        },
        base_url=f"{request.url.scheme}://{request.url.netloc}",
        subject=("core.activity", str(activity.id)),
        node_path=activity.node_path,
        source="core",
        rows=rows,
    )
    await db.commit()
    return Redirect(rc.url(f"/files/{doc.file_id}"), status_code=303)


handlers = [
    activity_list,
    manage_list,
    new_form,
    new_activity,
    activity_page,
    activity_signup,
    activity_withdraw,
    activity_qr,
    my_activities,
    staff_page,
    scan,
    tick,
    set_hours,
    cancel,
    sheet_pdf,
]
