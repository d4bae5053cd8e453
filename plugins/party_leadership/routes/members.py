"""双报到 members (party roles only): the list with search and the form to report one in, a member's
page with the 服务记录卡 and served time recorded by staff."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.party_leadership import members as mb
from plugins.party_leadership import review
from plugins.party_leadership.models import Member, Unit
from plugins.party_leadership.plugin import MEMBERS_EDIT, MEMBERS_VIEW
from plugins.party_leadership.routes._common import (
    communities,
    community_in_scope,
    day,
    found_in_scope,
    hours_to_minutes,
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


handlers = [members_page, member_create, member_page, member_service]
