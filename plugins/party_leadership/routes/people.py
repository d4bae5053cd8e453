"""Staff pages of 双报到 (party roles only: membership is sensitive personal information): units
and members reported, a member's 服务记录卡, posts, party activities with their attendance
(check-in/out through core.services.activities), quarterly feedback, and the yearly 评议 with its
export. An employer's contact sees its own members' results and nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.identity.models import User
from core.rbac.scope import in_scope
from core.services import activities
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from plugins.party_leadership import members as mb
from plugins.party_leadership import review, rules
from plugins.party_leadership.models import Feedback, Member, Post, Unit
from plugins.party_leadership.plugin import MEMBERS_EDIT, MEMBERS_VIEW, REVIEW
from plugins.party_leadership.routes._common import (
    LOCAL,
    communities,
    community_in_scope,
    day,
    found_in_scope,
    hours_to_minutes,
    in_scope_or_404,
    moment,
    node_names,
    number,
    problem,
    public_url,
    receipt_file,
    rollback,
    settings,
    text,
    today,
)

# ---- units -------------------------------------------------------------------------------------


async def _units_page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    page: int = 1,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(Unit).where(in_scope(Unit.node_path, c.scope_prefixes(MEMBERS_VIEW))).order_by(Unit.node_path, Unit.name)
    )
    result = await paginate(c.db, stmt, page)
    nodes = await communities(request, MEMBERS_VIEW)
    return await render(
        request,
        "party_leadership/units.html",
        {
            "page": result,
            "names": node_names(nodes),
            "nodes": await communities(request, MEMBERS_EDIT),
            "can_edit": c.can(MEMBERS_EDIT),
            "errors": errors or {},
            "values": values or {},
            "base": c.url("/party/units?"),
        },
        status_code=status,
    )


@get("/party/units", guards=[requires(MEMBERS_VIEW)])
async def units_page(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _units_page(request, page=page)


@post("/party/units", guards=[requires(MEMBERS_EDIT)])
async def unit_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    try:
        node = await community_in_scope(request, MEMBERS_EDIT, number(data, "node_id"))
        contact_user_id = None
        if text(data, "contact_username"):
            contact_user_id = await db.scalar(select(User.id).where(User.username == text(data, "contact_username")))
            if contact_user_id is None:
                from core.services.errors import InvalidInput

                raise InvalidInput(_("There is no account with this user name."), field="contact_username")
        unit = await mb.register_unit(
            db,
            node,
            name=text(data, "name"),
            party_org=text(data, "party_org"),
            contact_name=text(data, "contact_name"),
            contact_user_id=contact_user_id,
            on=day(data, "reported_on", required=False) or today(),
        )
        await mb.issue_receipt(db, request.app.state.storage, rc.tenant, public_url(request), unit=unit)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _units_page(request, problem(exc), data, status=exc.status)
    return Redirect(rc.url(f"/party/units/{unit.id}"), status_code=303)


async def _unit(request: Request, unit_id: int, action: str) -> Unit:
    c = ctx(request)
    assert c.db is not None
    return await found_in_scope(request, action, mb.get_unit(c.db, unit_id))


async def _unit_page(request: Request, unit_id: int, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    unit = await _unit(request, unit_id, MEMBERS_VIEW)
    rows = (await c.db.execute(select(Member).where(Member.unit_id == unit.id).order_by(Member.name))).scalars().all()
    feedback = (
        (
            await c.db.execute(
                select(Feedback)
                .where(Feedback.unit_id == unit.id)
                .order_by(Feedback.year.desc(), Feedback.quarter.desc())
            )
        )
        .scalars()
        .all()
    )
    now = today()
    return await render(
        request,
        "party_leadership/unit.html",
        {
            "u": unit,
            "members": rows,
            "feedback": feedback,
            "year": now.year,
            "quarter": rules.quarter_of(now),
            "can_edit": c.can(MEMBERS_EDIT, unit.node_path),
            "errors": errors or {},
            "receipt": await receipt_file(c.db, unit.receipt_document_id),
        },
        status_code=status,
    )


@get("/party/units/{unit_id:int}", guards=[requires(MEMBERS_VIEW)])
async def unit_page(request: Request, unit_id: FromPath[int]) -> Any:
    return await _unit_page(request, unit_id)


@post("/party/units/{unit_id:int}/feedback", guards=[requires(MEMBERS_EDIT)])
async def unit_feedback(request: Request, unit_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    unit = await _unit(request, unit_id, MEMBERS_EDIT)
    try:
        year = number(data, "year", required=True, lo=2000, hi=2100) or 0
        quarter = number(data, "quarter", required=True, lo=1, hi=4) or 0
        await mb.send_feedback(db, request.app.state, unit, year, quarter, text(data, "note"))
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _unit_page(request, unit_id, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/units/{unit_id}"), status_code=303)


async def _employer_view(request: Request, unit_id: int) -> Unit:
    """The unit's own contact, or party staff in scope; anyone else: 404."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        unit = await mb.get_unit(c.db, unit_id)
    except ServiceError:
        raise NotFoundException() from None
    if unit.contact_user_id != c.user.id and not c.can(MEMBERS_VIEW, unit.node_path):
        raise NotFoundException()
    return unit


@get("/party/units/{unit_id:int}/results", guards=[signed_in])
async def unit_results(
    request: Request, unit_id: FromPath[int], db: DbSession, year: FromQuery[int | None] = None
) -> Any:
    unit = await _employer_view(request, unit_id)
    year = year if year and 2000 <= year <= 2100 else today().year
    rows = await review.results(db, year, unit_id=unit.id)
    feedback = (
        (
            await db.execute(
                select(Feedback)
                .where(Feedback.unit_id == unit.id)
                .order_by(Feedback.year.desc(), Feedback.quarter.desc())
            )
        )
        .scalars()
        .all()
    )
    return await render(
        request,
        "party_leadership/unit_results.html",
        {
            "u": unit,
            "rows": rows,
            "year": year,
            "feedback": feedback,
            "grades": {k: _(v) for k, v in rules.GRADES.items()},
        },
    )


@get("/party/units/{unit_id:int}/results.xlsx", guards=[signed_in])
async def unit_results_export(
    request: Request, unit_id: FromPath[int], db: DbSession, year: FromQuery[int | None] = None
) -> Any:
    unit = await _employer_view(request, unit_id)
    year = year if year and 2000 <= year <= 2100 else today().year
    rows = await review.results(db, year, unit_id=unit.id)
    return await _xlsx(request, rows, year, f"{unit.name}-{year}年度评议.xlsx")


async def _xlsx(request: Request, rows: list[Any], year: int, filename: str) -> Response[bytes]:
    c = ctx(request)
    assert c.db is not None
    s = settings(request)
    unit_ids = {r.unit_id for r in rows if r.unit_id}
    units = (
        dict((await c.db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))).all()) if unit_ids else {}
    )
    paths = {r.node_path for r in rows}
    names = (
        dict((await c.db.execute(select(GridNode.path, GridNode.name).where(GridNode.path.in_(paths)))).all())
        if paths
        else {}
    )
    body = review.export_xlsx(rows, units, names, year, s.annual_hours_target, s.pass_mark)
    from urllib.parse import quote

    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


# ---- members -----------------------------------------------------------------------------------


async def _members_page(
    request: Request,
    q: str = "",
    page: int = 1,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = mb.members_page_query(c.scope_prefixes(MEMBERS_VIEW), q[:50])
    result = await paginate(c.db, stmt, page)
    unit_ids = {m.unit_id for m in result.items if m.unit_id}
    units = (
        dict((await c.db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))).all()) if unit_ids else {}
    )
    nodes = await communities(request, MEMBERS_VIEW)
    edit_units = (
        (
            await c.db.execute(
                select(Unit).where(in_scope(Unit.node_path, c.scope_prefixes(MEMBERS_EDIT))).order_by(Unit.name)
            )
        )
        .scalars()
        .all()
    )
    return await render(
        request,
        "party_leadership/members.html",
        {
            "page": result,
            "units": units,
            "names": node_names(nodes),
            "q": q,
            "nodes": await communities(request, MEMBERS_EDIT),
            "edit_units": edit_units,
            "can_edit": c.can(MEMBERS_EDIT),
            "errors": errors or {},
            "values": values or {},
            "base": c.url("/party/members?" + (f"q={q}&" if q else "")),
        },
        status_code=status,
    )


@get("/party/members", guards=[requires(MEMBERS_VIEW)])
async def members_page(request: Request, q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Any:
    return await _members_page(request, q.strip(), page)


@post("/party/members", guards=[requires(MEMBERS_EDIT)])
async def member_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    """Staff register a member who reported on paper (no account yet)."""
    try:
        node = await community_in_scope(request, MEMBERS_EDIT, number(data, "node_id"))
        member = await mb.report_in(
            db,
            node,
            name=text(data, "name"),
            unit_id=number(data, "unit_id"),
            branch=text(data, "branch"),
            on=day(data, "reported_on", required=False) or today(),
        )
        await mb.issue_receipt(db, request.app.state.storage, rc.tenant, public_url(request), member=member)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _members_page(request, errors=problem(exc), values=data, status=exc.status)
    return Redirect(rc.url(f"/party/members/{member.id}"), status_code=303)


async def _member(request: Request, member_id: int, action: str) -> Member:
    c = ctx(request)
    assert c.db is not None
    return await found_in_scope(request, action, mb.get_member(c.db, member_id))


async def _member_page(
    request: Request, member_id: int, year: int | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    member = await _member(request, member_id, MEMBERS_VIEW)
    year = year or today().year
    card = await mb.service_card(c.db, member, year)
    unit = await c.db.scalar(select(Unit).where(Unit.id == member.unit_id)) if member.unit_id else None
    node = await c.db.scalar(select(GridNode).where(GridNode.id == member.node_id))
    s = settings(request)
    return await render(
        request,
        "party_leadership/member.html",
        {
            "m": member,
            "unit": unit,
            "node": node,
            "card": card,
            "year": year,
            "target": s.annual_hours_target,
            "posts": await mb.posts_of(c.db, member.id),
            "results": await review.results(c.db, year, prefixes=[member.node_path], subject="member"),
            "receipt": await receipt_file(c.db, member.receipt_document_id),
            "can_edit": c.can(MEMBERS_EDIT, member.node_path),
            "errors": errors or {},
        },
        status_code=status,
    )


@get("/party/members/{member_id:int}", guards=[requires(MEMBERS_VIEW)])
async def member_page(request: Request, member_id: FromPath[int], year: FromQuery[int | None] = None) -> Any:
    return await _member_page(request, member_id, year if year and 2000 <= year <= 2100 else None)


@post("/party/members/{member_id:int}/service", guards=[requires(MEMBERS_EDIT)])
async def member_service(request: Request, member_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    member = await _member(request, member_id, MEMBERS_EDIT)
    try:
        await mb.record_service(
            db,
            member,
            served_on=day(data, "served_on"),
            minutes=hours_to_minutes(data, "hours"),  # type: ignore[arg-type]
            description=text(data, "description"),
            today=today(),
            post_id=number(data, "post_id"),
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _member_page(request, member_id, errors=problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/members/{member_id}"), status_code=303)


# ---- posts and activities ----------------------------------------------------------------------


async def _posts_page(
    request: Request, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(MEMBERS_VIEW)
    posts = (
        (
            await c.db.execute(
                select(Post)
                .where(in_scope(Post.node_path, prefixes))
                .order_by(Post.node_path, Post.category)
                .limit(300)
            )
        )
        .scalars()
        .all()
    )
    nodes = await communities(request, MEMBERS_VIEW)
    since = datetime.now(LOCAL) - timedelta(days=30)
    from core.services.activities.models import Activity

    acts = (
        (
            await c.db.execute(
                select(Activity)
                .where(Activity.source == mb.NAME, in_scope(Activity.node_path, prefixes), Activity.ends_at >= since)
                .order_by(Activity.starts_at)
                .limit(100)
            )
        )
        .scalars()
        .all()
    )
    return await render(
        request,
        "party_leadership/posts.html",
        {
            "posts": posts,
            "activities": acts,
            "names": node_names(nodes),
            "nodes": await communities(request, MEMBERS_EDIT),
            "categories": settings(request).categories(),
            "can_edit": c.can(MEMBERS_EDIT),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status,
    )


@get("/party/posts", guards=[requires(MEMBERS_VIEW)])
async def posts_page(request: Request) -> Any:
    return await _posts_page(request)


@post("/party/posts/{what:str}", guards=[requires(MEMBERS_EDIT)])
async def posts_add(request: Request, what: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    s = settings(request)
    target = "/party/posts"
    try:
        node = await community_in_scope(request, MEMBERS_EDIT, number(data, "node_id"))
        if what == "post":
            await mb.create_post(
                db,
                node,
                category=text(data, "category"),
                title=text(data, "title"),
                categories=s.categories(),
                description=text(data, "description"),
                capacity=number(data, "capacity", lo=1, hi=500) or 5,
            )
        elif what == "activity":
            act = await mb.publish_activity(
                db,
                node,
                title=text(data, "title"),
                starts_at=moment(data, "starts_at"),  # type: ignore[arg-type]
                ends_at=moment(data, "ends_at"),
                category=text(data, "category"),
                categories=s.categories(),  # type: ignore[arg-type]
                capacity=number(data, "capacity", lo=1, hi=10_000),
                place=text(data, "place"),
            )
            target = f"/party/activities/{act.id}"
        else:
            raise NotFoundException()
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _posts_page(request, problem(exc), data, status=exc.status)
    return Redirect(rc.url(target), status_code=303)


async def _activity(request: Request, activity_id: int, action: str) -> Any:
    c = ctx(request)
    assert c.db is not None
    try:
        act = await activities.get(c.db, activity_id)
    except ServiceError:
        raise NotFoundException() from None
    if act.source != mb.NAME:
        raise NotFoundException()
    in_scope_or_404(request, action, act.node_path)
    return act


async def _activity_page(
    request: Request, activity_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    act = await _activity(request, activity_id, MEMBERS_VIEW)
    sheet = await activities.attendance_sheet(c.db, act.id)
    return await render(
        request,
        "party_leadership/activity.html",
        {"a": act, "sheet": sheet, "can_edit": c.can(MEMBERS_EDIT, act.node_path), "errors": errors or {}},
        status_code=status,
    )


@get("/party/activities/{activity_id:int}", guards=[requires(MEMBERS_VIEW)])
async def activity_page(request: Request, activity_id: FromPath[int]) -> Any:
    return await _activity_page(request, activity_id)


@post("/party/activities/{activity_id:int}/attendance", guards=[requires(MEMBERS_EDIT)])
async def activity_attendance(request: Request, activity_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    """Tick a member in or out on the attendance list; check-out turns the time into served minutes."""
    act = await _activity(request, activity_id, MEMBERS_EDIT)
    try:
        user_id = number(data, "user_id", required=True) or 0
        if text(data, "direction") == "out":
            await activities.check_out(db, act.id, user_id)
        elif text(data, "direction") == "minutes":
            await activities.set_minutes(
                db, act.id, user_id, hours_to_minutes(data, "hours"), text(data, "reason") or "纸质签到表补录"
            )
        else:
            await activities.check_in(db, act.id, user_id)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _activity_page(request, activity_id, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/activities/{activity_id}"), status_code=303)


@post("/party/activities/{activity_id:int}/scan", guards=[requires(MEMBERS_EDIT)])
async def activity_scan(request: Request, activity_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    """The member's QR code, scanned (or its text pasted): in, or out if already in."""
    act = await _activity(request, activity_id, MEMBERS_EDIT)
    try:
        await activities.check_by_token(db, request.app.state.vault, text(data, "token"), activity_id=act.id)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _activity_page(request, activity_id, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/activities/{activity_id}"), status_code=303)


# ---- 评议 ----------------------------------------------------------------------------------------


async def _review_page(request: Request, year: int, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(REVIEW)
    rows = await review.results(c.db, year, prefixes=prefixes)
    units = await review.results(c.db, year, prefixes=prefixes, subject="unit")
    nodes = await communities(request, REVIEW)
    s = settings(request)
    return await render(
        request,
        "party_leadership/review.html",
        {
            "rows": rows,
            "units": units,
            "year": year,
            "names": node_names(nodes),
            "grades": {k: _(v) for k, v in rules.GRADES.items()},
            "s": s,
            "passed": sum(1 for r in rows if r.passed),
            "errors": errors or {},
        },
        status_code=status,
    )


def _year(value: int | None) -> int:
    return value if value and 2000 <= value <= 2100 else today().year


@get("/party/review", guards=[requires(REVIEW)])
async def review_page(request: Request, year: FromQuery[int | None] = None) -> Any:
    return await _review_page(request, _year(year))


@post("/party/review", guards=[requires(REVIEW)])
async def review_run(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    s = settings(request)
    try:
        year = number(data, "year", required=True, lo=2000, hi=2100) or today().year
        ratings = {}
        for key in data:
            if key.startswith("rating_") and key[7:].isdigit() and text(data, key):
                ratings[int(key[7:])] = number(data, key, lo=0, hi=s.staff_points_max) or 0
        await review.run(db, rc.scope_prefixes(REVIEW), year, rules.Scoring.of(s), ratings)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _review_page(request, today().year, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/review?year={year}"), status_code=303)


@get("/party/review/export.xlsx", guards=[requires(REVIEW)])
async def review_export(request: Request, db: DbSession, rc: Ctx, year: FromQuery[int | None] = None) -> Any:
    y = _year(year)
    rows = await review.results(db, y, prefixes=rc.scope_prefixes(REVIEW))
    return await _xlsx(request, rows, y, f"{y}年度在职党员评议.xlsx")


handlers = [
    units_page,
    unit_create,
    unit_page,
    unit_feedback,
    unit_results,
    unit_results_export,
    members_page,
    member_create,
    member_page,
    member_service,
    posts_page,
    posts_add,
    activity_page,
    activity_attendance,
    activity_scan,
    review_page,
    review_run,
    review_export,
]
