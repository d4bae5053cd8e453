"""Service posts of the eight categories and party activities: publishing them, an activity's page
with attendance (check-in/out through core.services.activities) and the scanner."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.rbac.scope import in_scope
from core.services import activities
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.render import render
from plugins.party_leadership import members as mb
from plugins.party_leadership.models import Post
from plugins.party_leadership.plugin import MEMBERS_EDIT, MEMBERS_VIEW
from plugins.party_leadership.routes._common import (
    LOCAL,
    communities,
    community_in_scope,
    hours_to_minutes,
    in_scope_or_404,
    moment,
    node_names,
    number,
    problem,
    rollback,
    settings,
    text,
)


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


handlers = [posts_page, posts_add, activity_page, activity_attendance, activity_scan]
