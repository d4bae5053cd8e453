"""律师参与信访: officers register petitions and assign a lawyer; a lawyer sees their own and records advice."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import select

from core.i18n import gettext as _
from core.identity.models import User
from core.rbac.models import RoleAssignment
from core.rbac.scope import in_scope
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires
from core.web.render import render
from plugins.rule_of_law import petitions
from plugins.rule_of_law.common import ServiceError, local_day
from plugins.rule_of_law.models import Petition
from plugins.rule_of_law.plugin import PETITION_ADVISE, PETITION_MANAGE
from plugins.rule_of_law.routes.web import context, integer, node_in_scope, nodes_in_scope, rollback, see_other, text

GUARD = [requires(PETITION_MANAGE, PETITION_ADVISE)]


async def _lawyers(c: Any) -> list[tuple[int, str]]:
    rows = await c.db.execute(
        select(User.id, User.display_name)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role_code == "lawyer")
        .order_by(User.display_name)
    )
    return list(dict.fromkeys((i, n) for i, n in rows.all()))


@get("/rule-of-law/petitions/", guards=GUARD)
async def petition_list(request: Request) -> Any:
    return await _petition_list(request)


async def _petition_list(request: Request, error: str | None = None) -> Any:
    c = context(request)
    mine = await petitions.of_lawyer(c.db, c.user.id) if c.user else []  # type: ignore[arg-type]
    managed: list[Petition] = []
    if c.can(PETITION_MANAGE):
        stmt = (
            select(Petition)
            .where(in_scope(Petition.node_path, c.scope_prefixes(PETITION_MANAGE)))
            .order_by(Petition.received_on.desc())
            .limit(200)
        )
        managed = list((await c.db.execute(stmt)).scalars())  # type: ignore[union-attr]
    return await render(
        request,
        "rule_of_law/petitions.html",
        {
            "mine": mine,
            "managed": managed,
            "states": petitions.STATE_LABELS,
            "nodes": await nodes_in_scope(c, PETITION_MANAGE, ("community", "village"))
            if c.can(PETITION_MANAGE)
            else [],
            "lawyers": await _lawyers(c) if c.can(PETITION_MANAGE) else [],
            "today": local_day(),
            "error": error,
        },
        status_code=400 if error else 200,
    )


@post("/rule-of-law/petitions/", guards=[requires(PETITION_MANAGE)])
async def petition_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    node = await node_in_scope(rc, PETITION_MANAGE, text(data, "node"))
    if node is None:
        return await _petition_list(request, error=_("Choose a community in your area."))
    lawyer = integer(text(data, "lawyer"))
    if lawyer is not None and lawyer not in {i for i, _n in await _lawyers(rc)}:
        return await _petition_list(request, error=_("Choose one of the lawyers."))
    try:
        received = date.fromisoformat(text(data, "received_on")) if text(data, "received_on") else local_day()
    except ValueError:
        return await _petition_list(request, error=_("Enter the date as YYYY-MM-DD."))
    try:
        p = await petitions.create(
            db,
            node=node,
            subject=text(data, "subject"),
            petitioner=text(data, "petitioner"),
            received_on=received,
            lawyer_user_id=lawyer,  # type: ignore[arg-type]
        )
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _petition_list(request, error=exc.translate(_))
    return see_other(rc, f"/rule-of-law/petitions/{p.id}")


async def _petition(request: Request, petition_id: int) -> Petition:
    c = context(request)
    try:
        p = await petitions.get(c.db, petition_id)  # type: ignore[arg-type]
    except ServiceError:
        raise NotFoundException() from None
    if not (c.can(PETITION_MANAGE, p.node_path) or (c.user is not None and p.lawyer_user_id == c.user.id)):
        raise NotFoundException()
    return p


async def _page(request: Request, p: Petition, error: str | None = None) -> Any:
    c = context(request)
    return await render(
        request,
        "rule_of_law/petition.html",
        {
            "p": p,
            "states": petitions.STATE_LABELS,
            "is_lawyer": c.user is not None and p.lawyer_user_id == c.user.id,
            "may_manage": c.can(PETITION_MANAGE, p.node_path),
            "error": error,
        },
        status_code=400 if error else 200,
    )


@get("/rule-of-law/petitions/{petition_id:int}", guards=GUARD)
async def petition_page(request: Request, petition_id: FromPath[int]) -> Any:
    return await _page(request, await _petition(request, petition_id))


@post("/rule-of-law/petitions/{petition_id:int}/{what:str}", guards=GUARD)
async def petition_act(
    request: Request, petition_id: FromPath[int], what: FromPath[str], data: Form, db: DbSession, rc: Ctx
) -> Any:
    p = await _petition(request, petition_id)
    try:
        if what == "accept" and rc.can(PETITION_MANAGE, p.node_path):
            await petitions.accept(db, p, local_day())
        elif what == "advise" and rc.user is not None and p.lawyer_user_id == rc.user.id:
            await petitions.advise(db, p, text(data, "advice"), text(data, "outcome"))
        else:
            raise NotFoundException()
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _page(request, await _petition(request, petition_id), exc.translate(_))
    return see_other(rc, f"/rule-of-law/petitions/{petition_id}")


handlers = [petition_list, petition_create, petition_page, petition_act]
