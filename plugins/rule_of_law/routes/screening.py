"""Grid workers on a phone: log a screening visit and the dispute found, hand it on."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from sqlalchemy import select

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import check_in_scope, requires
from core.web.pagination import paginate
from core.web.render import render
from plugins.rule_of_law import screening
from plugins.rule_of_law.common import ServiceError
from plugins.rule_of_law.models import Dispute
from plugins.rule_of_law.plugin import SCREEN, VIEW
from plugins.rule_of_law.routes.web import context, node_in_scope, nodes_in_scope, rollback, see_other, text


async def _form(
    request: Request,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    field: str | None = None,
    status_code: int = 200,
) -> Any:
    c = context(request)
    return await render(
        request,
        "rule_of_law/screening_form.html",
        {
            "nodes": await nodes_in_scope(c, SCREEN),
            "form": form or {},
            "error": error,
            "field": field,
            "kinds": screening.KIND_LABELS,
            "risks": screening.RISK_LABELS,
            "smart_service": "smart_service" in c.enabled,
        },
        status_code=status_code,
    )


@get("/rule-of-law/screening/new", guards=[requires(SCREEN)])
async def screening_form(request: Request) -> Any:
    return await _form(request)


@post("/rule-of-law/screening/new", guards=[requires(SCREEN)])
async def screening_submit(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    node = await node_in_scope(rc, SCREEN, text(data, "node"))
    if node is None:
        return await _form(request, data, _("Choose a grid in your area."), "node", 400)
    found = text(data, "found") == "yes"
    handoff = text(data, "handoff")
    try:
        disputes = []
        if found:
            disputes.append(
                screening.DisputeInput(
                    text(data, "kind"),
                    text(data, "risk"),
                    text(data, "summary"),
                    screening.parse_parties(text(data, "parties")),
                )
            )
        _visit, made = await screening.record_visit(
            db,
            node,
            rc.user.id if rc.user else None,
            place=text(data, "place"),
            note=text(data, "note"),
            disputes=disputes,
        )
        target = "/rule-of-law/disputes/"
        if made:
            target = f"/rule-of-law/disputes/{made[0].id}"
            if handoff == "mediation":
                await screening.hand_to_mediation(db, made[0])
            elif handoff == "event" and "smart_service" in rc.enabled:
                await screening.hand_to_event(db, made[0], rc.actor)
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _form(request, data, exc.translate(_), getattr(exc, "field", None), 400)
    return see_other(rc, target)


@get("/rule-of-law/disputes/", guards=[requires(VIEW, SCREEN)])
async def dispute_list(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    prefixes = sorted(set(rc.scope_prefixes(VIEW)) | set(rc.scope_prefixes(SCREEN)))
    stmt = (
        select(Dispute)
        .where(in_scope(Dispute.node_path, prefixes))
        .order_by(Dispute.reported_at.desc(), Dispute.id.desc())
    )
    found = await paginate(db, stmt, page)
    return await render(
        request,
        "rule_of_law/disputes.html",
        {
            "page": found,
            "kinds": screening.KIND_LABELS,
            "risks": screening.RISK_LABELS,
            "statuses": screening.STATUS_LABELS,
        },
    )


async def _dispute(request: Request, dispute_id: int) -> Dispute:
    c = context(request)
    try:
        d = await screening.get_dispute(c.db, dispute_id)  # type: ignore[arg-type]
    except ServiceError:
        raise NotFoundException() from None
    if not (c.can(VIEW, d.node_path) or c.can(SCREEN, d.node_path)):
        raise NotFoundException()
    return d


async def _dispute_page(request: Request, d: Dispute, error: str | None = None, status_code: int = 200) -> Any:
    c = context(request)
    return await render(
        request,
        "rule_of_law/dispute.html",
        {
            "d": d,
            "error": error,
            "kinds": screening.KIND_LABELS,
            "risks": screening.RISK_LABELS,
            "statuses": screening.STATUS_LABELS,
            "may_hand": c.can(SCREEN, d.node_path) and d.status == "open",
            "smart_service": "smart_service" in c.enabled,
        },
        status_code=status_code,
    )


@get("/rule-of-law/disputes/{dispute_id:int}", guards=[requires(VIEW, SCREEN)])
async def dispute_page(request: Request, dispute_id: FromPath[int]) -> Any:
    return await _dispute_page(request, await _dispute(request, dispute_id))


@post("/rule-of-law/disputes/{dispute_id:int}/hand", guards=[requires(SCREEN)])
async def dispute_hand(request: Request, dispute_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    d = await _dispute(request, dispute_id)
    check_in_scope(request, SCREEN, d.node_path)
    to = text(data, "to")
    try:
        if to == "mediation":
            await screening.hand_to_mediation(db, d)
        elif to == "event" and "smart_service" in rc.enabled:
            await screening.hand_to_event(db, d, rc.actor)
        elif to == "resolved":
            await screening.mark_resolved(db, d)
        else:
            return await _dispute_page(request, d, _("Choose where the dispute goes."), 400)
        await db.commit()
    except ServiceError as exc:
        await rollback(rc)
        return await _dispute_page(request, await _dispute(request, dispute_id), exc.translate(_), 409)
    return see_other(rc, f"/rule-of-law/disputes/{dispute_id}")


handlers = [screening_form, screening_submit, dispute_list, dispute_page, dispute_hand]
