"""五事联办: the list with the form to file a matter (routed by its kind) and resolving one."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.party_leadership import matters, rules
from plugins.party_leadership.models import Matter
from plugins.party_leadership.plugin import MATTERS, VIEW
from plugins.party_leadership.routes._common import (
    communities,
    community_in_scope,
    found_in_scope,
    moment,
    node_names,
    number,
    problem,
    rollback,
    settings,
    text,
)


async def _matters_page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    page: int = 1,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    stmt = select(Matter).where(in_scope(Matter.node_path, c.scope_prefixes(VIEW))).order_by(Matter.created_at.desc())
    result = await paginate(c.db, stmt, page)
    nodes = await communities(request, VIEW)
    return await render(
        request,
        "party_leadership/matters.html",
        {
            "page": result,
            "kinds": {k: _(v) for k, v in rules.MATTER_KINDS.items()},
            "routes": {k: _(v) for k, v in rules.ROUTES.items()},
            "route_of": rules.MATTER_ROUTE,
            "names": node_names(nodes),
            "nodes": await communities(request, MATTERS),
            "can_file": c.can(MATTERS),
            "errors": errors or {},
            "values": values or {},
            "base": c.url("/party/matters?"),
        },
        status_code=status,
    )


@get("/party/matters", guards=[requires(VIEW)])
async def matters_page(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _matters_page(request, page=page)


@post("/party/matters", guards=[requires(MATTERS)])
async def matter_file(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    try:
        node = await community_in_scope(request, MATTERS, number(data, "node_id"))
        await matters.file(
            db,
            node,
            kind=text(data, "kind"),
            title=text(data, "title"),
            description=text(data, "description"),
            meeting_at=moment(data, "meeting_at", required=False),
            urgent_hours=settings(request).urgent_consultation_hours,
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _matters_page(request, problem(exc), data, status=exc.status)
    return Redirect(rc.url("/party/matters"), status_code=303)


@post("/party/matters/{matter_id:int}/resolve", guards=[requires(MATTERS)])
async def matter_resolve(request: Request, matter_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    matter = await found_in_scope(request, MATTERS, matters.get(db, matter_id))
    try:
        await matters.resolve(db, matter, text(data, "resolution"))
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _matters_page(request, problem(exc), status=exc.status)
    return Redirect(rc.url("/party/matters"), status_code=303)


handlers = [matters_page, matter_file, matter_resolve]
