"""Organisers' pages: the overview, volunteers (register on someone's behalf, their record), teams,
activities (publish, the attendance sheet, check-in/out by scanned code or by list, hours
corrections). Lists are filtered by scope in SQL; a record outside the user's scope is 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import or_, select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services import activities
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.co_governance import figures, rules, volunteers
from plugins.co_governance.models import ActivityInfo, Team, TeamMember, Volunteer
from plugins.co_governance.plugin import (
    PROPERTY_MANAGE,
    SERVICE_MANAGE,
    STORE_MANAGE,
    TRAINING_MANAGE,
    VIEW,
    VOLUNTEER_MANAGE,
)
from plugins.co_governance.routes.common import (
    as_id,
    chart,
    field_errors,
    local_datetime,
    message,
    node_or_404,
    nodes_in_scope,
    points_rule,
    rollback,
    tenant_settings,
    text,
)

MANAGE = [requires(VOLUNTEER_MANAGE)]
PLACES = ("district", "subdistrict", "town", "community", "village", "grid")


def _star(minutes: int) -> str:
    level = rules.star_level(minutes)
    return _(rules.STAR_NAMES_EN[level]) if level else "—"


@get("/co-governance/", guards=[requires(VIEW)])
async def overview(request: Request, db: DbSession, rc: Ctx) -> Any:
    prefixes = rc.scope_prefixes(VIEW)
    head = await figures.headline(db, prefixes)
    rows = await figures.hours_overview(db, prefixes)
    names = dict(
        (await db.execute(select(GridNode.path, GridNode.name).where(GridNode.path.in_([r.path for r in rows])))).all()
    )
    return await render(
        request,
        "co_governance/overview.html",
        {
            "head": head,
            "rows": rows,
            "names": names,
            "stars": [_(s) if s else _("No star yet") for s in rules.STAR_NAMES_EN],
            "chart_json": chart(
                [_(s) if s else _("No star yet") for s in rules.STAR_NAMES_EN],
                [(_("Volunteers"), [sum(r.stars[k] for r in rows) for k in range(6)])],
            ),
            "store_name": tenant_settings(request)["store_name"],
            "links": [
                (href, label)
                for href, label, action in (
                    ("/co-governance/volunteers/", _("Volunteers"), VOLUNTEER_MANAGE),
                    ("/co-governance/teams/", _("Teams"), VOLUNTEER_MANAGE),
                    ("/co-governance/activities/", _("Volunteer activities"), VOLUNTEER_MANAGE),
                    ("/co-governance/store/manage/", tenant_settings(request)["store_name"], STORE_MANAGE),
                    ("/co-governance/services/manage/", _("Home and purchased services"), SERVICE_MANAGE),
                    ("/co-governance/training/", _("Training and employment"), TRAINING_MANAGE),
                    ("/co-governance/property/manage/", _("Red property management"), PROPERTY_MANAGE),
                )
                if rc.can(action)
            ],
        },
    )


# ---- volunteers ------------------------------------------------------------------------------


async def _volunteer_list(
    request: Request, q: str, page: int, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = select(Volunteer).where(in_scope(Volunteer.node_path, c.scope_prefixes(VOLUNTEER_MANAGE)))
    if q:
        stmt = stmt.where(or_(Volunteer.name.contains(q), Volunteer.number == q))
    result = await paginate(c.db, stmt.order_by(Volunteer.registered_at.desc(), Volunteer.id.desc()), page)
    return await render(
        request,
        "co_governance/volunteers.html",
        {
            "page": result,
            "q": q,
            "star": _star,
            "base": c.url("/co-governance/volunteers/?") + (f"q={q}&" if q else ""),
            "values": values,
            "errors": errors,
            "nodes": await nodes_in_scope(request, VOLUNTEER_MANAGE, ("community", "village")),
            "skills": volunteers.SKILLS,
        },
        status_code=status,
    )


@get("/co-governance/volunteers/", guards=MANAGE)
async def volunteer_list(request: Request, q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Any:
    return await _volunteer_list(request, q.strip()[:50], page, {}, {})


@post("/co-governance/volunteers/", guards=MANAGE)
async def volunteer_register(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    """A worker registers someone from a paper form (without an account they cannot sign up online)."""
    values = {k: text(data, k) for k in ("name", "phone", "availability", "node_id")}
    skills = data.get("skills", [])
    values["skills"] = skills if isinstance(skills, list) else [skills]
    try:
        node = await node_or_404(request, values["node_id"], VOLUNTEER_MANAGE)
    except NotFoundException:
        return await _volunteer_list(request, "", 1, values, {"node_id": _("Choose a community.")}, 400)
    try:
        v = await volunteers.register(
            db,
            request.app.state.vault,
            name=values["name"],
            phone=values["phone"],
            skills=values["skills"],
            availability=values["availability"],
            node=node,
            number_format=tenant_settings(request)["volunteer_number_format"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _volunteer_list(request, "", 1, values, field_errors(err), err.status)
    return Redirect(rc.url(f"/co-governance/volunteers/{v.id}"), status_code=303)


async def _volunteer_in_scope(request: Request, volunteer_id: int) -> Volunteer:
    c = ctx(request)
    assert c.db is not None
    v = await c.db.scalar(select(Volunteer).where(Volunteer.id == volunteer_id))
    if v is None:
        raise NotFoundException()
    check_in_scope(request, VOLUNTEER_MANAGE, v.node_path)
    return v


@get("/co-governance/volunteers/{volunteer_id:int}", guards=MANAGE)
async def volunteer_page(request: Request, volunteer_id: FromPath[int], db: DbSession) -> Any:
    v = await _volunteer_in_scope(request, volunteer_id)
    standing = await volunteers.standing(db, v)
    return await render(
        request,
        "co_governance/volunteer.html",
        {
            "v": v,
            "standing": standing,
            "star_name": _star(v.minutes_total),
            "teams": await volunteers.teams_of(db, v.id),
            "records": await volunteers.records_of(db, v.id, limit=200),
        },
    )


# ---- teams -----------------------------------------------------------------------------------


async def _teams(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200, notice: str = ""
) -> Any:
    c = ctx(request)
    assert c.db is not None
    teams = list(
        (
            await c.db.execute(
                select(Team).where(in_scope(Team.node_path, c.scope_prefixes(VOLUNTEER_MANAGE))).order_by(Team.name)
            )
        ).scalars()
    )
    counts: dict[int, int] = {}
    if teams:
        from sqlalchemy import func

        counts = dict(
            (
                await c.db.execute(
                    select(TeamMember.team_id, func.count())
                    .where(TeamMember.team_id.in_([t.id for t in teams]))
                    .group_by(TeamMember.team_id)
                )
            ).all()
        )
    return await render(
        request,
        "co_governance/teams.html",
        {
            "teams": teams,
            "counts": counts,
            "values": values,
            "errors": errors,
            "notice": notice,
            "nodes": await nodes_in_scope(
                request, VOLUNTEER_MANAGE, ("district", "subdistrict", "community", "village")
            ),
        },
        status_code=status,
    )


@get("/co-governance/teams/", guards=MANAGE)
async def team_list(request: Request) -> Any:
    return await _teams(request, {}, {})


@post("/co-governance/teams/", guards=MANAGE)
async def team_create(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in ("name", "description", "node_id")}
    try:
        node = await node_or_404(request, values["node_id"], VOLUNTEER_MANAGE)
    except NotFoundException:
        return await _teams(request, values, {"node_id": _("Choose where the team serves.")}, 400)
    try:
        await volunteers.create_team(db, name=values["name"], node=node, description=values["description"])
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _teams(request, values, field_errors(err), err.status)
    return await _teams(request, {}, {}, notice=_("Team %(name)s created.", name=values["name"]))


@post("/co-governance/teams/{team_id:int}/members", guards=MANAGE)
async def team_add_member(request: Request, team_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    team = await db.scalar(select(Team).where(Team.id == team_id))
    if team is None:
        raise NotFoundException()
    check_in_scope(request, VOLUNTEER_MANAGE, team.node_path)
    number = text(data, "number")
    v = await volunteers.by_number(db, number) if number else None
    if v is None or not rc.can(VOLUNTEER_MANAGE, v.node_path):
        return await _teams(request, {}, {"member": _("No volunteer %(number)s in your area.", number=number)}, 404)
    try:
        await volunteers.join_team(db, team, v)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _teams(request, {}, {"member": message(err)}, err.status)
    return await _teams(request, {}, {}, notice=_("%(name)s joined %(team)s.", name=v.name, team=team.name))


# ---- activities ------------------------------------------------------------------------------


async def _activities(
    request: Request, values: dict[str, Any], errors: dict[str, str], page: int = 1, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(activities.Activity)
        .where(
            activities.Activity.source == volunteers.SOURCE,
            in_scope(activities.Activity.node_path, c.scope_prefixes(VOLUNTEER_MANAGE)),
        )
        .order_by(activities.Activity.starts_at.desc(), activities.Activity.id.desc())
    )
    result = await paginate(c.db, stmt, page)
    teams = list(
        (
            await c.db.execute(
                select(Team).where(in_scope(Team.node_path, c.scope_prefixes(VOLUNTEER_MANAGE))).order_by(Team.name)
            )
        ).scalars()
    )
    return await render(
        request,
        "co_governance/activities.html",
        {
            "page": result,
            "base": c.url("/co-governance/activities/?"),
            "values": values,
            "errors": errors,
            "categories": volunteers.CATEGORIES,
            "teams": teams,
            "nodes": await nodes_in_scope(request, VOLUNTEER_MANAGE, PLACES),
            "now": datetime.now(UTC),
        },
        status_code=status,
    )


@get("/co-governance/activities/", guards=MANAGE)
async def activity_list(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _activities(request, {}, {}, page)


@post("/co-governance/activities/", guards=MANAGE)
async def activity_publish(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    keys = (
        "title",
        "node_id",
        "starts_at",
        "ends_at",
        "capacity",
        "category",
        "organiser",
        "team_id",
        "place",
        "description",
    )
    values = {k: text(data, k) for k in keys}
    errors: dict[str, str] = {}
    starts, ends = local_datetime(values["starts_at"]), local_datetime(values["ends_at"])
    if starts is None:
        errors["starts_at"] = _("Give the start as a date and time.")
    if ends is None:
        errors["ends_at"] = _("Give the end as a date and time.")
    capacity = None
    if values["capacity"]:
        try:
            capacity = int(values["capacity"])
        except ValueError:
            errors["capacity"] = _("Enter a whole number.")
        else:
            if not 1 <= capacity <= 100000:
                errors["capacity"] = _("Places are 1 to 100000, or empty for no limit.")
    team_id = None
    if values["team_id"]:
        wanted = as_id(values["team_id"])
        team = await db.scalar(select(Team).where(Team.id == wanted)) if wanted else None
        if team is None or not rc.can(VOLUNTEER_MANAGE, team.node_path):
            errors["team_id"] = _("Choose one of your teams.")
        else:
            team_id = team.id
    try:
        node = await node_or_404(request, values["node_id"], VOLUNTEER_MANAGE)
    except NotFoundException:
        errors["node_id"] = _("Choose where the activity takes place.")
    if errors:
        return await _activities(request, values, errors, status=400)
    assert starts is not None and ends is not None
    try:
        act = await volunteers.publish_activity(
            db,
            title=values["title"],
            node=node,
            starts_at=starts,
            ends_at=ends,
            capacity=capacity,
            category=values["category"],
            organiser=values["organiser"],
            team_id=team_id,
            place=values["place"],
            description=values["description"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _activities(request, values, field_errors(err), status=err.status)
    return Redirect(rc.url(f"/co-governance/activities/{act.id}"), status_code=303)


async def _activity_in_scope(request: Request, activity_id: int) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        act = await activities.get(c.db, activity_id)
    except ServiceError:
        raise NotFoundException() from None
    if act.source != volunteers.SOURCE:
        raise NotFoundException()
    check_in_scope(request, VOLUNTEER_MANAGE, act.node_path)
    return act


async def _sheet(request: Request, act: Any, *, notice: str = "", error: str = "", status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    sheet = await activities.attendance_sheet(c.db, act.id)
    info = await c.db.scalar(select(ActivityInfo).where(ActivityInfo.activity_id == act.id))
    numbers_by_user = (
        dict(
            (
                await c.db.execute(
                    select(Volunteer.user_id, Volunteer.number).where(
                        Volunteer.user_id.in_([r.user_id for r in sheet.rows])
                    )
                )
            ).all()
        )
        if sheet.rows
        else {}
    )
    return await render(
        request,
        "co_governance/activity.html",
        {"a": act, "sheet": sheet, "info": info, "numbers": numbers_by_user, "notice": notice, "error": error},
        status_code=status,
    )


@get("/co-governance/activities/{activity_id:int}", guards=MANAGE)
async def activity_page(request: Request, activity_id: FromPath[int]) -> Any:
    return await _sheet(request, await _activity_in_scope(request, activity_id))


@post("/co-governance/activities/{activity_id:int}/scan", guards=MANAGE)
async def activity_scan(request: Request, activity_id: FromPath[int], data: Form, db: DbSession) -> Any:
    """The organiser scanned a volunteer's code: in, or out (then the hours become a record)."""
    act = await _activity_in_scope(request, activity_id)
    try:
        signup, direction = await activities.check_by_token(
            db, request.app.state.vault, text(data, "token"), activity_id=act.id
        )
        if direction == "out":
            await volunteers.record_attendance(db, act.id, signup.user_id, points_rule(request))
        await db.commit()
    except ServiceError as err:
        await rollback(request, act)
        return await _sheet(request, act, error=message(err), status=err.status)
    note = (
        _("Checked in.")
        if direction == "in"
        else _("Checked out: %(minutes)s minutes recorded.", minutes=signup.minutes)
    )
    return await _sheet(request, act, notice=note)


@post("/co-governance/activities/{activity_id:int}/check", guards=MANAGE)
async def activity_check(request: Request, activity_id: FromPath[int], data: Form, db: DbSession) -> Any:
    """Tick someone in or out on the list (no phone at hand)."""
    act = await _activity_in_scope(request, activity_id)
    user_id = as_id(text(data, "user_id"))
    if user_id is None:
        return await _sheet(request, act, error=_("Choose someone on the list."), status=400)
    try:
        if text(data, "direction") == "out":
            await activities.check_out(db, act.id, user_id)
            await volunteers.record_attendance(db, act.id, user_id, points_rule(request))
        else:
            await activities.check_in(db, act.id, user_id)
        await db.commit()
    except ServiceError as err:
        await rollback(request, act)
        return await _sheet(request, act, error=message(err), status=err.status)
    return await _sheet(request, act, notice=_("Saved."))


@post("/co-governance/activities/{activity_id:int}/hours", guards=MANAGE)
async def activity_hours(request: Request, activity_id: FromPath[int], data: Form, db: DbSession) -> Any:
    """Record or correct someone's hours (谁记录谁证明: the recorder is kept with the reason)."""
    act = await _activity_in_scope(request, activity_id)
    user_id = as_id(text(data, "user_id"))
    try:
        minutes = round(float(text(data, "hours")) * 60)
    except (ValueError, OverflowError):
        minutes = -1
    if user_id is None:
        return await _sheet(request, act, error=_("Choose someone on the list."), status=400)
    if not 0 <= minutes <= 24 * 60:
        return await _sheet(request, act, error=_("Enter the hours as a number, e.g. 2.5."), status=400)
    try:
        await activities.set_minutes(db, act.id, user_id, minutes, text(data, "reason"))
        await volunteers.record_attendance(db, act.id, user_id, points_rule(request))
        await db.commit()
    except ServiceError as err:
        await rollback(request, act)
        return await _sheet(request, act, error=message(err), status=err.status)
    return await _sheet(request, act, notice=_("Hours saved."))


handlers = [
    overview,
    volunteer_list,
    volunteer_register,
    volunteer_page,
    team_list,
    team_create,
    team_add_member,
    activity_list,
    activity_publish,
    activity_page,
    activity_scan,
    activity_check,
    activity_hours,
]
