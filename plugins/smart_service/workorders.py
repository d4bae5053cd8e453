"""Outside work orders: a 12345 hotline order or a superior's assignment (上级交办) entered by staff,
and what goes back to the source — the reply (回复) when the result is reported and the closure
(办结) when the case is closed — through the tenant's work-order adapter. 12345's callback answer
(满意 / 基本满意 / 不满意) is recorded; 不满意 reopens the case for 重办.

Adapters are pluggable: ``ADAPTERS`` holds the built-in logging adapter, and a third party adds one
through the ``liuzhi.smart_service.work_order_adapters`` entry-point group (a class or factory whose
instances have ``name`` and ``async send(message: Outbound) -> str``, the receipt). The tenant
setting ``work_order_adapter`` picks one by name.

Outbound messages are written in the transaction of the step that owes them (``after_step``) and
sent by a job (``SEND_JOB``): a rolled-back step sends nothing, a failing source is retried.
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.context import Actor
from core.services.jobs.runner import enqueue
from plugins.smart_service import services
from plugins.smart_service.lifecycle import State, lazy
from plugins.smart_service.models import Event, EventTransition
from plugins.smart_service.services import InvalidInput
from plugins.smart_service.work_models import (
    CLOSE,
    EVALUATIONS,
    ORDER_CHANNELS,
    REPLY,
    SENT,
    UNSATISFIED,
    WorkOrder,
    WorkOrderMessage,
)

log = logging.getLogger("liuzhi.smart_service.work_orders")
SEND_JOB = "smart_service.work_order_send"
ENTRY_POINT_GROUP = "liuzhi.smart_service.work_order_adapters"
DEFAULT_ADAPTER = "log"
MAX_NUMBER = 64


@dataclass(frozen=True)
class Outbound:
    """One message for the source: which order, what kind (reply / close), the text, when."""

    tenant_id: int
    channel: str  # hotline_12345 | superior
    external_number: str
    kind: str  # reply | close
    body: str
    event_number: str
    at: datetime


class WorkOrderAdapter(Protocol):
    name: str

    async def send(self, message: Outbound) -> str:
        """Deliver ``message``; return the source's receipt (raise to have the job retry)."""
        ...


class LoggingAdapter:
    """No outside network here: the message is written to the log (``liuzhi.smart_service.work_orders``)."""

    name = DEFAULT_ADAPTER

    async def send(self, message: Outbound) -> str:
        log.info(
            "[%s] %s %s (event %s): %s",
            message.channel,
            message.kind,
            message.external_number,
            message.event_number,
            message.body,
        )
        return f"logged:{message.kind}:{message.external_number}"


ADAPTERS: dict[str, type] = {DEFAULT_ADAPTER: LoggingAdapter}


@cache
def _installed() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = ep.load()
        except Exception:
            log.exception("work-order adapter %s failed to load", ep.name)
    return found


def adapter_names() -> list[str]:
    return sorted({*ADAPTERS, *_installed()})


def adapter_for(name: str | None) -> WorkOrderAdapter:
    """The adapter called ``name`` (built-in or installed); unknown names fall back to the log."""
    factory = {**_installed(), **ADAPTERS}.get(name or DEFAULT_ADAPTER)
    if factory is None:
        log.warning("no work-order adapter %r: messages are logged", name)
        factory = LoggingAdapter
    return factory()  # type: ignore[no-any-return]


# ---- entering an order -------------------------------------------------------------------------


@dataclass
class OrderInput:
    channel: str
    external_number: str
    title: str
    category_code: str
    node_id: int | None
    description: str = ""
    external_category: str = ""
    issuer: str = ""
    due_at: datetime | None = None
    urgency: int | None = None
    address: str = ""
    caller_name: str = ""
    caller_phone: str = ""
    unit_id: int | None = None  # dispatch at once to this unit (受理, 立案 and 派遣 in one go)


async def order_of(session: AsyncSession, event_id: int) -> WorkOrder | None:
    return (await session.execute(select(WorkOrder).where(WorkOrder.event_id == event_id))).scalar_one_or_none()


async def enter(
    session: AsyncSession,
    data: OrderInput,
    actor: Actor,
    *,
    vault: Any = None,
    app_state: Any = None,
    now: datetime | None = None,
) -> Event:
    """Create the event of a 12345 order or a superior's assignment, with its work order; with a
    ``unit_id`` also accept, register and dispatch it to that unit. The caller commits."""
    now = now or utcnow()
    if data.channel not in ORDER_CHANNELS:
        raise InvalidInput(lazy("Choose where the order comes from"))
    number = (data.external_number or "").strip()
    if not number:
        raise InvalidInput(lazy("Give the order's number"))
    if len(number) > MAX_NUMBER:
        raise InvalidInput(lazy("The order's number is too long (at most %(max)s characters)"), max=MAX_NUMBER)
    if len(data.external_category or "") > 100 or len(data.issuer or "") > 100:
        raise InvalidInput(lazy("The order's category and issuer take at most %(max)s characters"), max=100)
    if data.due_at is not None and data.due_at <= now:
        raise InvalidInput(lazy("The order's deadline must be in the future"))
    taken = await session.scalar(
        select(WorkOrder.id).where(WorkOrder.channel == data.channel, WorkOrder.external_number == number)
    )
    if taken is not None:
        raise InvalidInput(lazy("Order %(number)s has been entered already"), number=number)
    if data.node_id is None:
        raise InvalidInput(lazy("Choose where the event happened"))
    event = await services.report_event(
        session,
        title=data.title,
        category_code=data.category_code,
        node_id=data.node_id,
        source=data.channel,
        actor=actor,
        description=data.description,
        address=data.address,
        urgency=data.urgency,
        reporter_name=data.caller_name,
        reporter_phone=data.caller_phone or None,
        vault=vault,
        now=now,
        app_state=app_state,
    )
    session.add(
        WorkOrder(
            event_id=event.id,
            channel=data.channel,
            external_number=number,
            external_category=(data.external_category or "").strip(),
            issuer=(data.issuer or "").strip(),
            due_at=data.due_at,
            created_at=now,
        )
    )
    await session.flush()
    if data.unit_id is not None:
        # An order comes accepted by its source: entering it (smart_service.intake) is the authority
        # to accept, register and dispatch it in one go.
        for action in ("accept", "register"):
            await services.transition(session, event, action, actor, app_state=app_state, now=now)
        await services.transition(session, event, "dispatch", actor, app_state=app_state, now=now, unit_id=data.unit_id)
    return event


# ---- what goes back ----------------------------------------------------------------------------


async def after_step(session: AsyncSession, event: Event, row: EventTransition) -> None:
    """Called by ``services.transition`` for every step: the result reported (反馈) is replied to the
    source, the closure (结案) is reported to it as 办结."""
    if event.source not in ORDER_CHANNELS or row.action not in ("feedback", "close", "handle_on_spot"):
        return
    order = await order_of(session, event.id)
    if order is None:
        return
    if row.action == "feedback":
        await queue(session, order, event, REPLY, row.note or "已处置。")
    else:
        result = await _last_result(session, event.id) or row.note or "已办结。"
        await queue(session, order, event, CLOSE, result)


async def _last_result(session: AsyncSession, event_id: int) -> str:
    note = await session.scalar(
        select(EventTransition.note)
        .where(EventTransition.event_id == event_id, EventTransition.action == "feedback", EventTransition.note != "")
        .order_by(EventTransition.at.desc(), EventTransition.id.desc())
        .limit(1)
    )
    return str(note or "")


async def queue(session: AsyncSession, order: WorkOrder, event: Event, kind: str, body: str) -> WorkOrderMessage:
    """Write the message and the job that sends it, in the caller's transaction."""
    message = WorkOrderMessage(order_id=order.id, event_id=event.id, kind=kind, body=body.strip()[:2000])
    session.add(message)
    if session.info.get("demo_history"):  # demo stories: what was sent back long ago, not a message to send
        message.adapter, message.status = "demo", SENT
        message.created_at = message.sent_at = event.updated_at
        await session.flush()
        return message
    await session.flush()
    await enqueue(session, session.info["tenant_id"], SEND_JOB, {"message_id": message.id})
    return message


async def reply(session: AsyncSession, event: Event, text: str) -> WorkOrderMessage:
    """A staff member's reply (回复) to the source, e.g. 已受理，正在处置."""
    order = await order_of(session, event.id)
    if order is None:
        raise InvalidInput(lazy("This event did not come from a work order"))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(lazy("Write the reply"))
    if len(text) > 2000:
        raise InvalidInput(lazy("The note is too long (at most %(max)s characters)"), max=2000)
    return await queue(session, order, event, REPLY, text)


async def messages(session: AsyncSession, event_id: int) -> list[WorkOrderMessage]:
    rows = await session.execute(
        select(WorkOrderMessage)
        .where(WorkOrderMessage.event_id == event_id)
        .order_by(WorkOrderMessage.created_at, WorkOrderMessage.id)
    )
    return list(rows.scalars())


async def send_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Send one queued message through the tenant's adapter; a failure is kept and retried."""
    from core.tenancy.models import TenantPlugin

    session: AsyncSession = ctx.session
    message = (
        await session.execute(select(WorkOrderMessage).where(WorkOrderMessage.id == int(payload["message_id"])))
    ).scalar_one_or_none()
    if message is None or message.status == SENT:
        return {"sent": False}
    order = (await session.execute(select(WorkOrder).where(WorkOrder.id == message.order_id))).scalar_one()
    event = await services.get_event(session, message.event_id)
    settings = await session.scalar(select(TenantPlugin.settings).where(TenantPlugin.plugin == "smart_service"))
    name = (settings or {}).get("work_order_adapter") or DEFAULT_ADAPTER
    adapter = adapter_for(name)
    outbound = Outbound(
        tenant_id=ctx.tenant_id,
        channel=order.channel,
        external_number=order.external_number,
        kind=message.kind,
        body=message.body,
        event_number=event.number,
        at=message.created_at,
    )
    message.adapter = adapter.name
    # A failure raises: the job keeps the error and is tried again with backoff; the message stays queued.
    message.receipt = str(await adapter.send(outbound))[:200]
    message.status, message.sent_at, message.error = SENT, utcnow(), ""
    return {"sent": True}


# ---- 12345's callback ----------------------------------------------------------------------------


async def evaluate(
    session: AsyncSession,
    channel: str,
    external_number: str,
    evaluation: str,
    note: str,
    actor: Actor,
    *,
    can: Any = None,
    app_state: Any = None,
    now: datetime | None = None,
) -> Event:
    """Record the source's answer on a closed order; 不满意 reopens the case for 重办."""
    now = now or utcnow()
    if evaluation not in EVALUATIONS:
        raise InvalidInput(lazy("The answer is satisfied, basically or unsatisfied"))
    order = (
        await session.execute(
            select(WorkOrder).where(WorkOrder.channel == channel, WorkOrder.external_number == external_number)
        )
    ).scalar_one_or_none()
    if order is None:
        raise services.EventNotFound(external_number)
    event = await services.get_event(session, order.event_id)
    if event.state != State.CLOSED.value:
        raise InvalidInput(lazy("Order %(number)s is not closed: it cannot be evaluated yet"), number=external_number)
    order.evaluation, order.evaluation_note, order.evaluated_at = evaluation, (note or "").strip()[:2000], now
    if evaluation == UNSATISFIED:
        reason = order.evaluation_note or "12345 回访：不满意"
        await services.transition(
            session,
            event,
            "reopen",
            actor,
            note=f"12345 不满意，重办：{reason}"[:2000],
            can=can,
            app_state=app_state,
            now=now,
        )
    await session.flush()
    return event
