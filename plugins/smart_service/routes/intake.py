"""All intake channels beyond 随手拍 and patrol: staff enter a 12345 work order or a superior's task
(上级交办) — form and JSON — optionally dispatching it at once; replies go back to the source
(workorders.py, through the tenant's adapter) and 12345's callback records the caller's answer
(不满意 reopens the case for 重办). Anonymous resident reports, where the district allows them.

    GET|POST /smart-service/intake                                   the staff form
    POST     /smart-service/events/{id}/reply                        a staff reply to the source
    GET|POST /smart-service/report/anonymous                         a resident without an account
    POST /api/v1/smart-service/work-orders                           JSON order in
    GET  /api/v1/smart-service/work-orders/{channel}/{number}        its state and what went back
    POST /api/v1/smart-service/work-orders/{channel}/{number}/evaluation   12345's callback
    POST /api/v1/smart-service/anonymous-reports                     JSON, no token
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import public, requires
from core.web.render import render
from core.web.routes.api import api_router
from plugins.smart_service import services, sla, workorders
from plugins.smart_service.lifecycle import DISPATCH, REOPEN, TransitionError
from plugins.smart_service.models import Category, Event, HandlingUnit
from plugins.smart_service.routes.resident import rollback, state_label
from plugins.smart_service.work_models import EVALUATIONS, ORDER_CHANNELS, WorkOrder

INTAKE = "smart_service.intake"
VIEW = "smart_service.view"
SETTINGS_KEY = "smart_service"
ORDER_FIELDS = (
    "channel",
    "external_number",
    "external_category",
    "issuer",
    "due_at",
    "title",
    "description",
    "category",
    "node_id",
    "urgency",
    "address",
    "caller_name",
    "caller_phone",
    "unit_id",
)


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


class BadOrder(ValueError):
    """A form or body that cannot become an order; ``str(exc)`` is the translated message."""


def _id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def _deadline(raw: Any, tz: Any) -> datetime | None:
    """``2026-12-08T17:00`` (the district's local time) or ISO 8601 with an offset; empty: none."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadOrder(_("Give the deadline as a date and time, e.g. 2026-12-08 17:00.")) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


async def _order_input(request: Request, fields: dict[str, Any]) -> workorders.OrderInput:
    c = ctx(request)
    assert c.db is not None and c.tenant is not None
    calendar = await sla.load_calendar(c.db)
    node_id = _id(fields.get("node_id"))
    node = await c.db.get(GridNode, (c.tenant.id, node_id)) if node_id else None
    if node is None:
        raise BadOrder(_("Choose where the event happened."))
    urgency = _id(fields.get("urgency"))
    unit_id = _id(fields.get("unit_id"))
    if str(fields.get("unit_id") or "").strip() and unit_id is None:
        raise BadOrder(_("Choose a handling unit."))
    title = str(fields.get("title") or "").strip()
    category = str(fields.get("category") or "").strip()
    if not title:
        label = await c.db.scalar(select(Category.name_zh).where(Category.code == category))
        title = f"{fields.get('external_category') or label or ''}：{str(fields.get('description') or '')[:40]}"
    return workorders.OrderInput(
        channel=str(fields.get("channel") or "").strip(),
        external_number=str(fields.get("external_number") or ""),
        title=title.strip("：")[:200],
        category_code=category,
        node_id=node.id,
        description=str(fields.get("description") or ""),
        external_category=str(fields.get("external_category") or ""),
        issuer=str(fields.get("issuer") or ""),
        due_at=_deadline(fields.get("due_at"), calendar.tz),
        urgency=urgency,
        address=str(fields.get("address") or ""),
        caller_name=str(fields.get("caller_name") or ""),
        caller_phone=str(fields.get("caller_phone") or ""),
        unit_id=unit_id,
    )


async def _enter(request: Request, fields: dict[str, Any]) -> Event:
    c = ctx(request)
    assert c.db is not None and c.actor is not None
    data = await _order_input(request, fields)
    return await workorders.enter(c.db, data, c.actor, vault=request.app.state.vault, app_state=request.app.state)


# ---- the staff form ----------------------------------------------------------------------------


async def _form(request: Request, values: dict[str, str], *, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    nodes = (
        await c.db.execute(
            select(GridNode).where(in_scope(GridNode.path, c.scope_prefixes(INTAKE))).order_by(GridNode.path).limit(400)
        )
    ).scalars()
    cats = (
        await c.db.execute(select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.code))
    ).scalars()
    unit_rows = (
        await c.db.execute(
            select(HandlingUnit).where(HandlingUnit.active.is_(True)).order_by(HandlingUnit.level, HandlingUnit.name)
        )
    ).scalars()
    return await render(
        request,
        "smart_service/intake.html",
        {
            "v": values,
            "nodes": list(nodes),
            "categories": list(cats),
            "units": list(unit_rows),
            "error": error,
            "c": c,
        },
        status_code=status,
    )


@get("/smart-service/intake", guards=[requires(INTAKE)])
async def intake_form(request: Request) -> Any:
    return await _form(request, {"channel": "hotline_12345"})


@post("/smart-service/intake", guards=[requires(INTAKE)], status_code=200)
async def intake_submit(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ORDER_FIELDS}
    try:
        event = await _enter(request, values)
        await db.commit()
    except BadOrder as exc:
        await rollback(request)
        return await _form(request, values, error=str(exc), status=400)
    except TransitionError as exc:
        await rollback(request)
        return await _form(request, values, error=exc.translated(_), status=422)
    return Redirect(rc.url(f"/smart-service/events/{event.id}"), status_code=303)


@post("/smart-service/events/{event_id:int}/reply", guards=[requires(VIEW)], status_code=200)
async def reply(request: Request, event_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    try:
        event = await services.get_event(db, event_id)
    except services.EventNotFound:
        raise NotFoundException() from None
    if not rc.can(VIEW, event.node_path):
        raise NotFoundException()
    if not (rc.can(INTAKE) or rc.can(DISPATCH, event.node_path)):
        return Response(_("You may not reply to the source of this event."), status_code=403, media_type="text/plain")
    form = await request.form()
    try:
        await workorders.reply(db, event, str(form.get("text") or ""))
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        return Response(exc.translated(_), status_code=422, media_type="text/plain")
    return Redirect(rc.url(f"/smart-service/events/{event.id}"), status_code=303)


# ---- JSON --------------------------------------------------------------------------------------


async def _body(request: Request) -> dict[str, Any] | Response[Any]:
    try:
        body = await request.json()
    except Exception:
        return refuse(400, _("The body is not valid JSON."))
    if not isinstance(body, dict):
        return refuse(400, _("Send a JSON object."))
    return {k: ("" if v is None else v) for k, v in body.items()}


async def _order_json(request: Request, order: WorkOrder) -> dict[str, Any]:
    c = ctx(request)
    assert c.db is not None
    event = await services.get_event(c.db, order.event_id)
    return {
        "channel": order.channel,
        "external_number": order.external_number,
        "external_category": order.external_category,
        "issuer": order.issuer,
        "due_at": order.due_at.isoformat() if order.due_at else None,
        "evaluation": order.evaluation,
        "event": {
            "number": event.number,
            "state": event.state,
            "state_label": state_label(event.state),
            "handling_unit_id": event.handling_unit_id,
            "rework_count": event.rework_count,
            "closed_at": event.closed_at.isoformat() if event.closed_at else None,
        },
        "messages": [
            {
                "kind": m.kind,
                "body": m.body,
                "status": m.status,
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in await workorders.messages(c.db, event.id)
        ],
    }


@post(
    "/smart-service/work-orders", guards=[requires(INTAKE)], status_code=201, summary="Enter a 12345 order or 上级交办"
)
async def api_enter(request: Request, db: DbSession) -> Any:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        event = await _enter(request, {k: body.get(k) for k in ORDER_FIELDS})
        await db.commit()
    except BadOrder as exc:
        await rollback(request)
        return refuse(400, str(exc))
    except TransitionError as exc:
        await rollback(request)
        return refuse(422, exc.translated(_))
    order = await workorders.order_of(db, event.id)
    assert order is not None
    return Response(await _order_json(request, order), status_code=201)


async def _order(request: Request, channel: str, number: str) -> WorkOrder | None:
    c = ctx(request)
    assert c.db is not None
    if channel not in ORDER_CHANNELS:
        return None
    return (
        await c.db.execute(select(WorkOrder).where(WorkOrder.channel == channel, WorkOrder.external_number == number))
    ).scalar_one_or_none()


@get(
    "/smart-service/work-orders/{channel:str}/{number:str}",
    guards=[requires(INTAKE)],
    summary="A work order's case and what went back to its source",
)
async def api_order(request: Request, channel: FromPath[str], number: FromPath[str]) -> Any:
    order = await _order(request, channel, number)
    if order is None:
        return refuse(404, _("No order %(number)s was entered.", number=number))
    return await _order_json(request, order)


@post(
    "/smart-service/work-orders/{channel:str}/{number:str}/evaluation",
    guards=[requires(REOPEN)],
    status_code=200,
    summary="12345's callback: satisfied | basically | unsatisfied (reopens for 重办)",
)
async def api_evaluation(
    request: Request, channel: FromPath[str], number: FromPath[str], db: DbSession, rc: Ctx
) -> Any:
    assert rc.actor is not None
    body = await _body(request)
    if isinstance(body, Response):
        return body
    order = await _order(request, channel, number)
    if order is None:
        return refuse(404, _("No order %(number)s was entered.", number=number))
    evaluation = str(body.get("evaluation") or "").strip()
    if evaluation not in EVALUATIONS:
        return refuse(400, _("evaluation is one of: %(values)s", values=", ".join(EVALUATIONS)))
    try:
        await workorders.evaluate(
            db,
            channel,
            number,
            evaluation,
            str(body.get("note") or ""),
            rc.actor,
            app_state=request.app.state,
        )
        await db.commit()
    except TransitionError as exc:
        await rollback(request)
        return refuse(409, exc.translated(_))
    order = await _order(request, channel, number)
    assert order is not None
    return await _order_json(request, order)


# ---- anonymous reports -------------------------------------------------------------------------


def _anonymous_allowed(request: Request) -> bool:
    return bool(ctx(request).plugin_settings.get(SETTINGS_KEY, {}).get("allow_anonymous_reports", False))


async def _anonymous_nodes(request: Request) -> list[GridNode]:
    c = ctx(request)
    assert c.db is not None
    rows = await c.db.execute(select(GridNode).where(GridNode.depth >= 1).order_by(GridNode.path).limit(400))
    return list(rows.scalars())


async def _anonymous_report(request: Request, fields: dict[str, Any]) -> Event:
    from plugins.smart_service.routes.open311 import locate_node
    from plugins.smart_service.routes.resident import ReportProblem, categories, point

    c = ctx(request)
    assert c.db is not None and c.tenant is not None
    code = str(fields.get("category") or "").strip()
    category = next((cat for cat in await categories(request) if cat.code == code), None)
    if category is None:
        raise ReportProblem(_("Choose a category."))
    description = str(fields.get("description") or "").strip()
    if not description:
        raise ReportProblem(_("Say what the problem is."))
    where = point(str(fields.get("lon") or "").strip(), str(fields.get("lat") or "").strip())
    node_id = _id(fields.get("node_id"))
    node = await c.db.get(GridNode, (c.tenant.id, node_id)) if node_id else None
    if node is None and where is not None:
        node = await locate_node(c.db, where[0], where[1])
    if node is None:
        raise ReportProblem(_("Choose where the problem is."))
    return await services.report_event(
        c.db,
        title=f"{category.label(c.locale)}：{description[:40]}"[:200],
        category_code=category.code,
        node_id=node.id,
        source="resident",
        actor=None,
        description=description,
        lon=where[0] if where else None,
        lat=where[1] if where else None,
        address=str(fields.get("address") or ""),
        reporter_name="",
        app_state=request.app.state,
    )


ANON_FIELDS = ("category", "description", "node_id", "lon", "lat", "address")


async def _anon_form(
    request: Request, values: dict[str, str], *, error: str | None = None, done: Event | None = None, status: int = 200
) -> Any:
    from plugins.smart_service.routes.resident import categories

    return await render(
        request,
        "smart_service/anonymous.html",
        {
            "v": values,
            "categories": await categories(request),
            "nodes": await _anonymous_nodes(request),
            "error": error,
            "done": done,
            "c": ctx(request),
        },
        status_code=status,
    )


@get("/smart-service/report/anonymous", guards=[public])
async def anonymous_form(request: Request) -> Any:
    if not _anonymous_allowed(request):
        raise NotFoundException()
    return await _anon_form(request, {})


@post("/smart-service/report/anonymous", guards=[public], status_code=200)
async def anonymous_submit(request: Request, db: DbSession) -> Any:
    from plugins.smart_service.routes.resident import ReportProblem

    if not _anonymous_allowed(request):
        raise NotFoundException()
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ANON_FIELDS}
    try:
        event = await _anonymous_report(request, values)
        await db.commit()
    except ReportProblem as exc:
        await rollback(request)
        return await _anon_form(request, values, error=str(exc), status=400)
    except TransitionError as exc:
        await rollback(request)
        return await _anon_form(request, values, error=exc.translated(_), status=400)
    return await _anon_form(request, {}, done=event)


@post(
    "/smart-service/anonymous-reports",
    guards=[public],
    status_code=201,
    summary="An anonymous report (where the district allows them); no token",
)
async def api_anonymous(request: Request, db: DbSession) -> Any:
    from plugins.smart_service.routes.resident import ReportProblem

    if not _anonymous_allowed(request):
        return refuse(404, _("This district does not take anonymous reports."))
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        event = await _anonymous_report(request, {k: body.get(k) for k in ANON_FIELDS})
        await db.commit()
    except ReportProblem as exc:
        await rollback(request)
        return refuse(400, str(exc))
    except TransitionError as exc:
        await rollback(request)
        return refuse(400, exc.translated(_))
    return Response({"number": event.number, "state": event.state}, status_code=201)


handlers = [
    intake_form,
    intake_submit,
    reply,
    anonymous_form,
    anonymous_submit,
    api_router(api_enter, api_order, api_evaluation, api_anonymous),
]
