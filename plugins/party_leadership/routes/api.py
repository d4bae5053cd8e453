"""JSON API for a WeChat mini-program's back end: the member's side of 双报到 over bearer tokens.

    GET  /api/v1/party/me                          my registration, posts, hours, 评议 standing
    GET  /api/v1/party/communities                 where I can report in (with their units)
    POST /api/v1/party/report-in                   {"node_id", "unit_id"?, "name"?, "branch"?}
    GET  /api/v1/party/posts                       my community's posts
    POST /api/v1/party/posts/{id}/claim            claim a post
    GET  /api/v1/party/activities                  my community's upcoming party activities
    POST /api/v1/party/activities/{id}/sign-up     sign up
    GET  /api/v1/party/activities/{id}/code        my check-in code (staff scan it)
    GET  /api/v1/party/card                        my 服务记录卡 (?year=)
    GET  /api/v1/party/projects                    projects open for claiming
    POST /api/v1/party/projects/{id}/claim         认领 a project
    POST /api/v1/party/buildings/{id}/claim        become a building's 网络楼长 {"group_link", "contact"}

Errors are ``{"status_code": ..., "detail": "<message in the user's language>", "field"?: ...}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from core.i18n import gettext as _
from core.services import activities
from core.services.errors import InvalidInput, ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import signed_in
from core.web.routes.api import api_router
from plugins.party_leadership import captains, members, mine, rules
from plugins.party_leadership.routes._common import LOCAL, public_url, rollback, settings, today

GUARD = [signed_in]


def refuse(status: int, detail: str, field: str | None = None) -> Response[Any]:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if field:
        body["field"] = field
    return Response(body, status_code=status)


def refused(exc: ServiceError) -> Response[Any]:
    return refuse(exc.status, exc.translate(_), getattr(exc, "field", None))


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception:
        raise InvalidInput(_("The body is not valid JSON.")) from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput(_("Send a JSON object."))
    return body


def _int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InvalidInput(_("Enter a whole number."), field=key)
    return int(value)


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("Send text."), field=key)
    return value


async def _member(request: Request) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    return await mine.require_member(c.db, c.user.id)


@get("/party/me", guards=GUARD, summary="My 双报到 registration, posts, hours this year and 评议 standing")
async def api_me(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    member = await members.member_of_user(db, rc.user.id)
    if member is None:
        return {"reported": False}
    s = settings(request)
    st = await mine.standing(db, member, today().year, s)
    return {
        "reported": True,
        "member_id": member.id,
        "name": member.name,
        "community_id": member.node_id,
        "unit_id": member.unit_id,
        "reported_on": member.reported_on.isoformat(),
        "posts": [
            {"id": p.id, "title": p.title, "category": p.category} for p in await members.posts_of(db, member.id)
        ],
        "standing": {
            "year": st.year,
            "hours": float(st.hours),
            "target_hours": st.target_hours,
            "hours_met": st.hours_met,
            "score": float(st.score),
            "pass_mark": s.pass_mark,
            "grade": st.grade,
            "grade_label": _(rules.GRADES[st.grade]),
            "passed": st.passed,
            "reviewed": st.reviewed,
        },
    }


@get("/party/communities", guards=GUARD, summary="Communities a member can report to, with their units")
async def api_communities(db: DbSession) -> Any:
    units = await mine.unit_choices(db)
    by_path: dict[str, list[dict[str, Any]]] = {}
    for u in units:
        by_path.setdefault(u.node_path, []).append({"id": u.id, "name": u.name})
    return {
        "communities": [
            {"id": n.id, "name": n.name, "units": by_path.get(n.path, [])} for n in await mine.community_choices(db)
        ]
    }


@post("/party/report-in", guards=GUARD, status_code=201, summary="Report in (报到) to a community")
async def api_report_in(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        body = await _body(request)
        member = await mine.report_in(
            db,
            rc.user.id,
            node_id=_int(body, "node_id"),
            name=_str(body, "name") or rc.user.display_name,
            unit_id=_int(body, "unit_id"),
            branch=_str(body, "branch"),
            on=today(),
        )
        doc = await members.issue_receipt(db, request.app.state.storage, rc.tenant, public_url(request), member=member)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return refused(exc)
    return {
        "member_id": member.id,
        "community_id": member.node_id,
        "reported_on": member.reported_on.isoformat(),
        "receipt": rc.url(f"/files/{doc.file_id}"),
    }


@get("/party/posts", guards=GUARD, summary="My community's service posts")
async def api_posts(request: Request, db: DbSession) -> Any:
    try:
        member = await _member(request)
    except ServiceError as exc:
        return refused(exc)
    held = {p.id for p in await members.posts_of(db, member.id)}
    return {
        "posts": [
            {"id": p.id, "category": p.category, "title": p.title, "description": p.description,
             "capacity": p.capacity, "claimed": p.claimed, "mine": p.id in held}
            for p in await members.posts_at(db, member.node_path)
        ]
    }  # fmt: skip


@post("/party/posts/{post_id:int}/claim", guards=GUARD, status_code=200, summary="Claim a post")
async def api_claim_post(request: Request, post_id: FromPath[int], db: DbSession) -> Any:
    try:
        member = await _member(request)
        await members.claim_post(db, post_id, member)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return refused(exc)
    return {"post_id": post_id, "claimed": True}


@get("/party/activities", guards=GUARD, summary="My community's upcoming party activities")
async def api_activities(request: Request, db: DbSession) -> Any:
    try:
        member = await _member(request)
    except ServiceError as exc:
        return refused(exc)
    return {
        "activities": [
            {"id": a.id, "title": a.title, "category": a.category, "place": a.place,
             "starts_at": a.starts_at.isoformat(), "ends_at": a.ends_at.isoformat(),
             "capacity": a.capacity, "signed_up": a.signed_up, "mine": s is not None}
            for a, s in await mine.upcoming(db, member, datetime.now(LOCAL))
        ]
    }  # fmt: skip


@post("/party/activities/{activity_id:int}/sign-up", guards=GUARD, status_code=200, summary="Sign up for an activity")
async def api_sign_up(request: Request, activity_id: FromPath[int], db: DbSession) -> Any:
    try:
        member = await _member(request)
        await mine.sign_up(db, member, activity_id)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return refused(exc)
    return {"activity_id": activity_id, "signed_up": True}


@get("/party/activities/{activity_id:int}/code", guards=GUARD, summary="My check-in code for an activity")
async def api_code(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        member = await _member(request)
        act = await activities.get(db, activity_id)
    except ServiceError as exc:
        return refused(exc)
    if act.source != members.NAME or act.node_path != member.node_path:
        return refuse(404, _("There is no such activity in your community."))
    return {"activity_id": act.id, "token": activities.issue_token(request.app.state.vault, act, rc.user.id)}


@get("/party/card", guards=GUARD, summary="My service record card (服务记录卡)")
async def api_card(request: Request, db: DbSession, year: FromQuery[int | None] = None) -> Any:
    try:
        member = await _member(request)
    except ServiceError as exc:
        return refused(exc)
    y = year if year and 2000 <= year <= 2100 else today().year
    card = await members.service_card(db, member, y)
    return {
        "year": y,
        "hours": float(card.hours),
        "target_hours": settings(request).annual_hours_target,
        "lines": [
            {"date": line.day.isoformat(), "title": line.title, "minutes": line.minutes, "source": line.source}
            for line in card.lines
        ],
    }


@get("/party/projects", guards=GUARD, summary="Projects of my community open for claiming")
async def api_projects(request: Request, db: DbSession) -> Any:
    try:
        member = await _member(request)
    except ServiceError as exc:
        return refused(exc)
    return {
        "projects": [
            {"id": p.id, "title": p.title, "description": p.description} for p in await mine.open_projects(db, member)
        ]
    }


@post("/party/projects/{project_id:int}/claim", guards=GUARD, status_code=200, summary="Claim (认领) a project")
async def api_claim_project(request: Request, project_id: FromPath[int], db: DbSession) -> Any:
    try:
        member = await _member(request)
        project = await mine.claim_project(db, member, project_id)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return refused(exc)
    return {"project_id": project.id, "state": project.state}


@post(
    "/party/buildings/{node_id:int}/claim", guards=GUARD, status_code=200, summary="Become a building's online captain"
)
async def api_claim_building(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    try:
        member = await _member(request)
        body = await _body(request)
        captain = await captains.claim(
            db, member, node_id, group_link=_str(body, "group_link"), contact=_str(body, "contact")
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return refused(exc)
    return {"building_id": node_id, "captain_id": captain.id}


handlers = [
    api_router(
        api_me, api_communities, api_report_in, api_posts, api_claim_post, api_activities, api_sign_up, api_code,
        api_card, api_projects, api_claim_project, api_claim_building,
    )
]  # fmt: skip
