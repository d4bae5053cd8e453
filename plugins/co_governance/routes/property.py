"""红色物业: staff see the property companies of their estates, how the party reaches each, and
each company's quarterly review history; residents review the company of their estate once a
quarter."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy import func, select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.co_governance import property as pm
from plugins.co_governance.models import PropertyCompany, PropertyReview
from plugins.co_governance.plugin import PROPERTY_MANAGE, PROPERTY_REVIEW
from plugins.co_governance.routes.common import (
    ancestors_of,
    field_errors,
    message,
    node_or_404,
    nodes_in_scope,
    rollback,
    tenant_settings,
    text,
)

MANAGE = [requires(PROPERTY_MANAGE)]
REVIEW = [requires(PROPERTY_REVIEW)]


async def _manage(
    request: Request,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    quarter = pm.current_quarter()
    rows = (
        await c.db.execute(
            select(PropertyCompany, GridNode.name)
            .join(GridNode, GridNode.id == PropertyCompany.node_id)
            .where(in_scope(PropertyCompany.node_path, c.scope_prefixes(PROPERTY_MANAGE)))
            .order_by(PropertyCompany.node_path, PropertyCompany.name)
        )
    ).all()
    scores = dict(
        (
            await c.db.execute(
                select(PropertyReview.company_id, func.avg(PropertyReview.score))
                .where(PropertyReview.quarter == quarter)
                .group_by(PropertyReview.company_id)
            )
        ).all()
    )
    modes = {k: _(v) for k, v in pm.PARTY_MODES.items()}
    covered = {
        "orgs": sum(1 for p, _n in rows if p.party_mode in pm.ORG_MODES),
        "instructors": sum(1 for p, _n in rows if p.party_mode == "instructor"),
        "none": sum(1 for p, _n in rows if p.party_mode == "none"),
    }
    return await render(
        request,
        "co_governance/property_manage.html",
        {
            "rows": rows,
            "scores": {k: round(float(v), 2) for k, v in scores.items()},
            "alert_below": tenant_settings(request)["review_min_score_alert"],
            "quarter": quarter,
            "modes": modes,
            "covered": covered,
            "estates": await nodes_in_scope(request, PROPERTY_MANAGE, ("estate",)),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=status,
    )


@get("/co-governance/property/manage/", guards=MANAGE)
async def manage(request: Request) -> Any:
    return await _manage(request)


@post("/co-governance/property/manage/", guards=MANAGE)
async def add_company(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in ("name", "node_id", "party_mode", "party_org", "instructor", "credit_code")}
    try:
        estate = await node_or_404(request, values["node_id"], PROPERTY_MANAGE)
    except NotFoundException:
        return await _manage(request, values, {"node_id": _("Choose the estate.")}, status=400)
    try:
        company = await pm.add_company(
            db,
            name=values["name"],
            estate=estate,
            party_mode=values["party_mode"],
            party_org=values["party_org"],
            instructor=values["instructor"],
            credit_code=values["credit_code"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _manage(request, values, field_errors(err), status=err.status)
    return await _manage(request, notice=_("%(name)s listed.", name=company.name))


@get("/co-governance/property/companies/{company_id:int}", guards=MANAGE)
async def company_page(request: Request, company_id: FromPath[int], db: DbSession) -> Any:
    company = await db.scalar(select(PropertyCompany).where(PropertyCompany.id == company_id))
    if company is None:
        raise NotFoundException()
    check_in_scope(request, PROPERTY_MANAGE, company.node_path)
    estate = await db.scalar(select(GridNode.name).where(GridNode.id == company.node_id))
    comments = list(
        (
            await db.execute(
                select(PropertyReview)
                .where(PropertyReview.company_id == company.id, PropertyReview.comment != "")
                .order_by(PropertyReview.created_at.desc())
                .limit(30)
            )
        ).scalars()
    )
    return await render(
        request,
        "co_governance/company.html",
        {
            "p": company,
            "estate": estate,
            "history": await pm.history(db, company.id),
            "comments": comments,
            "mode": _(pm.PARTY_MODES[company.party_mode]),
        },
    )


# ---- residents -------------------------------------------------------------------------------


async def _companies_for(request: Request) -> list[PropertyCompany]:
    """The companies of the estates at or around the resident's place (their estate, or every
    estate of their grid when the account sits at a grid)."""
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(PROPERTY_REVIEW)
    paths = {a for p in prefixes for a in ancestors_of(p)}
    stmt = select(PropertyCompany).where(
        PropertyCompany.node_path.in_(paths) | in_scope(PropertyCompany.node_path, prefixes)
    )
    return list((await c.db.execute(stmt.order_by(PropertyCompany.name))).scalars())


async def _resident(request: Request, *, notice: str = "", error: str = "", status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    companies = await _companies_for(request)
    quarter = pm.current_quarter()
    done = set(
        (
            await c.db.execute(
                select(PropertyReview.company_id).where(
                    PropertyReview.user_id == c.user.id, PropertyReview.quarter == quarter
                )
            )
        ).scalars()
    )
    return await render(
        request,
        "co_governance/property.html",
        {
            "companies": companies,
            "done": done,
            "quarter": quarter,
            "notice": notice,
            "error": error,
            "modes": {k: _(v) for k, v in pm.PARTY_MODES.items()},
            "can_manage": c.can(PROPERTY_MANAGE),
        },
        status_code=status,
    )


@get("/co-governance/property/", guards=REVIEW)
async def resident_page(request: Request) -> Any:
    return await _resident(request)


@post("/co-governance/property/companies/{company_id:int}/review", guards=REVIEW)
async def review(request: Request, company_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    company = next((p for p in await _companies_for(request) if p.id == company_id), None)
    if company is None:
        raise NotFoundException()
    try:
        await pm.review(db, company, rc.user.id, text(data, "score"), text(data, "comment"))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _resident(request, error=message(err), status=err.status)
    return await _resident(
        request, notice=_("Thank you: your review for %(quarter)s is recorded.", quarter=pm.current_quarter())
    )


handlers = [manage, add_company, company_page, resident_page, review]
