"""服务智治's lines of the worklist dashboard: events waiting at each step for whoever may take it
(待受理 … 待结案, 待审批, overdue), my own tasks (待签收, 待处置) and bookings to take. One query
for the events, one for the bookings; each count within the scope of the permission it needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from core.db.base import utcnow
from core.pluginhost.manifest import WorkItem
from core.rbac.scope import in_scope
from core.web.context import ctx
from plugins.smart_service import bookings as bk
from plugins.smart_service.lifecycle import (
    ACCEPT,
    APPROVE,
    CLOSE,
    DISPATCH,
    HANDLE,
    INSPECT,
    OPEN,
    REGISTER,
    SIGN,
    STAGE_OF,
    State,
)
from plugins.smart_service.models import Booking, Event

VIEW = "smart_service.view"
EVENTS = "/smart-service/events"
# (label_zh, label_en, permission, states, link, order): work anyone in scope with the permission may take.
STEPS: tuple[tuple[str, str, str, tuple[State, ...], str, int], ...] = (
    ("待受理", "To accept", ACCEPT, (State.REPORTED,), f"{EVENTS}?state=reported", 10),
    ("待立案", "To register", REGISTER, (State.ACCEPTED,), f"{EVENTS}?state=accepted", 11),
    ("待派遣", "To dispatch", DISPATCH, (State.REGISTERED,), f"{EVENTS}?state=registered", 12),
    ("待核查", "To inspect", INSPECT, (State.FEEDBACK, State.INSPECTING), f"{EVENTS}?state=feedback", 15),
    ("待结案", "To close", CLOSE, (State.INSPECTED,), f"{EVENTS}?state=inspected", 16),
)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def items(request: Any, session: Any) -> list[WorkItem]:
    c = ctx(request)
    if c.user is None:
        return []
    now = utcnow()
    columns: list[tuple[WorkItem, Any]] = []
    for zh, en, permission, states, href, order in STEPS:
        if c.can(permission):
            where = and_(
                Event.state.in_([s.value for s in states]), in_scope(Event.node_path, c.scope_prefixes(permission))
            )
            columns.append((WorkItem(zh, en, 0, href, "todo", order), where))
    mine = Event.assignee_user_id == c.user.id
    if c.can(SIGN):
        columns.append(
            (
                WorkItem("待签收", "To sign for", 0, "/smart-service/tasks?state=dispatched", "todo", 13),
                and_(mine, Event.state == State.DISPATCHED.value),
            )
        )
    if c.can(HANDLE):
        handling = [State.SIGNED.value, State.HANDLING.value]
        columns.append(
            (
                WorkItem("待处置", "To handle", 0, "/smart-service/tasks?state=handling", "todo", 14),
                and_(mine, Event.state.in_(handling)),
            )
        )
    if c.can(APPROVE):
        columns.append(
            (
                WorkItem(
                    "待审批（延期/挂账）", "To approve (extension, parking)", 0, f"{EVENTS}?pending=1", "todo", 17
                ),
                and_(
                    Event.pending.is_not(None),
                    Event.state.in_([s.value for s in OPEN]),
                    in_scope(Event.node_path, c.scope_prefixes(APPROVE)),
                ),
            )
        )
    if c.can(VIEW):
        late = and_(Event.state.in_([s.value for s in STAGE_OF]), Event.due_at < now)
        columns.append(
            (
                WorkItem("超时事件", "Overdue events", 0, f"{EVENTS}?overdue=1", "overdue", 5),
                and_(late, in_scope(Event.node_path, c.scope_prefixes(VIEW))),
            )
        )
    out: list[WorkItem] = []
    if columns:
        row = (await session.execute(select(*[_count(w) for _item, w in columns]).select_from(Event))).one()
        out += [
            WorkItem(i.label_zh, i.label_en, int(n or 0), i.href, i.kind, i.order)
            for (i, _w), n in zip(columns, row, strict=True)
        ]
    if c.can(bk.HANDLE):
        area = in_scope(Booking.node_path, c.scope_prefixes(bk.HANDLE))
        waiting, late = (
            await session.execute(
                select(
                    _count(Booking.state == bk.REQUESTED),
                    _count(and_(Booking.state == bk.TAKEN, Booking.due_at < now)),
                ).where(area)
            )
        ).one()
        out.append(
            WorkItem(
                "待接单预约",
                "Bookings to take",
                int(waiting or 0),
                "/smart-service/bookings/?status=requested",
                "todo",
                20,
            )
        )
        out.append(
            WorkItem(
                "超时预约",
                "Overdue bookings",
                int(late or 0),
                "/smart-service/bookings/?status=taken&overdue=1",
                "overdue",
                6,
            )
        )
    return out
