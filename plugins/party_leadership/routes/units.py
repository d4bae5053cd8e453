"""双报到 units (party roles only: membership is sensitive personal information): the list with the
form to register one, a unit's page with its members and the quarterly feedback sent to it."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import gettext as _
from core.identity.models import User
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.party_leadership import members as mb
from plugins.party_leadership import rules
from plugins.party_leadership.models import Feedback, Member, Unit
from plugins.party_leadership.plugin import MEMBERS_EDIT, MEMBERS_VIEW
from plugins.party_leadership.routes._common import (
    communities,
    community_in_scope,
    day,
    found_in_scope,
    node_names,
    number,
    problem,
    public_url,
    receipt_file,
    rollback,
    text,
    today,
)


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


handlers = [units_page, unit_create, unit_page, unit_feedback]
