"""The member's phone pages (any signed-in user): report in to a community, then my posts and the
posts to claim, the community's activities (sign up, show my check-in code), my 服务记录卡 and 评议
standing, projects to claim, and buildings I captain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.services import activities
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import signed_in
from core.web.render import render
from plugins.party_leadership import captains, members, mine, rules
from plugins.party_leadership.models import Unit
from plugins.party_leadership.routes._common import (
    LOCAL,
    number,
    problem,
    public_url,
    receipt_file,
    rollback,
    settings,
    text,
    today,
)


async def _page(
    request: Request, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    member = await members.member_of_user(c.db, c.user.id)
    s = settings(request)
    data: dict[str, Any] = {"member": member, "errors": errors or {}, "values": values or {}}
    if member is None:
        data["communities"] = await mine.community_choices(c.db)
        data["units"] = await mine.unit_choices(c.db)
        data["display_name"] = c.user.display_name
    else:
        year = today().year
        data.update(
            {
                "node": await c.db.scalar(select(GridNode).where(GridNode.id == member.node_id)),
                "unit": await c.db.scalar(select(Unit).where(Unit.id == member.unit_id)) if member.unit_id else None,
                "my_posts": await members.posts_of(c.db, member.id),
                "posts": await members.posts_at(c.db, member.node_path),
                "activities": await mine.upcoming(c.db, member, datetime.now(LOCAL)),
                "card": await members.service_card(c.db, member, year),
                "standing": await mine.standing(c.db, member, year, s),
                "grades": {k: _(v) for k, v in rules.GRADES.items()},
                "projects": await mine.open_projects(c.db, member),
                "my_projects": await mine.my_projects(c.db, member),
                "buildings": await captains.of_member(c.db, member.id),
                "free_buildings": await mine.free_buildings(c.db, member),
                "project_states": {str(k): _(v) for k, v in rules.PROJECT_STATE_LABELS.items()},
                "receipt": await receipt_file(c.db, member.receipt_document_id),
            }
        )
    return await render(request, "party_leadership/me.html", data, status_code=status)


@get("/party/me", guards=[signed_in])
async def me_page(request: Request) -> Any:
    return await _page(request)


@post("/party/me/report", guards=[signed_in])
async def me_report(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        member = await mine.report_in(
            db,
            rc.user.id,
            node_id=number(data, "node_id"),
            name=text(data, "name") or rc.user.display_name,
            unit_id=number(data, "unit_id"),
            branch=text(data, "branch"),
            on=today(),
        )
        await members.issue_receipt(db, request.app.state.storage, rc.tenant, public_url(request), member=member)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _page(request, problem(exc), data, status=exc.status)
    return Redirect(rc.url("/party/me"), status_code=303)


@post("/party/me/{what:str}/{object_id:int}", guards=[signed_in])
async def me_act(
    request: Request, what: FromPath[str], object_id: FromPath[int], data: Form, db: DbSession, rc: Ctx
) -> Any:
    """Claim a post, a project or a building; sign up for an activity; update my building's links."""
    assert rc.user is not None
    if what not in ("post", "activity", "project", "building", "captain"):
        raise NotFoundException()
    try:
        member = await mine.require_member(db, rc.user.id)
        if what == "post":
            await members.claim_post(db, object_id, member)
        elif what == "activity":
            await mine.sign_up(db, member, object_id)
        elif what == "project":
            await mine.claim_project(db, member, object_id)
        elif what == "building":
            await captains.claim(
                db, member, object_id, group_link=text(data, "group_link"), contact=text(data, "contact")
            )
        else:
            captain = await captains.get(db, object_id)
            if captain.member_id != member.id:
                raise NotFoundException()
            if text(data, "release"):
                await captains.release(db, captain)
            else:
                await captains.update_links(
                    db, captain, group_link=text(data, "group_link"), contact=text(data, "contact")
                )
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _page(request, problem(exc), status=exc.status)
    return Redirect(rc.url("/party/me"), status_code=303)


@get("/party/me/activities/{activity_id:int}/code", guards=[signed_in])
async def me_code(request: Request, activity_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    """My check-in code for an activity I signed up for: staff scan it to check me in and out."""
    assert rc.user is not None
    member = await members.member_of_user(db, rc.user.id)
    try:
        act = await activities.get(db, activity_id)
    except ServiceError:
        raise NotFoundException() from None
    if member is None or act.source != members.NAME or act.node_path != member.node_path:
        raise NotFoundException()
    token = activities.issue_token(request.app.state.vault, act, rc.user.id)
    return await render(request, "party_leadership/me_code.html", {"a": act, "token": token})


handlers = [me_page, me_report, me_act, me_code]
