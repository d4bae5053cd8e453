"""The live dispatch board: its columns (state groups), what a change means for them, and the channel
that carries changes to every open board — in memory in one process, over Redis pub/sub across
several (Litestar channels; ``app.state.channels``).

A change is published *after* its transaction commits (``publish``, from the plugin's ``on_event``
for every ``smart_service.event.*`` announcement), on one channel per tenant. A board's stream
turns each message into one server-sent event per column it touches (``board-<group>``); the page
re-fetches just those columns.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.response import ServerSentEventMessage
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.i18n import lazy
from core.rbac.scope import in_scope
from core.web import sse
from plugins.smart_service.lifecycle import STAGE_OF, State
from plugins.smart_service.models import Event

log = logging.getLogger("liuzhi.smart_service.board")

CARDS_PER_COLUMN = 20

S = State


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    states: tuple[State, ...]


# Overdue is a column of its own: an event whose running clock has passed its deadline shows there
# (and not in its state's column), so what needs attention first is in one place.
GROUPS: tuple[Group, ...] = (
    Group("new", lazy("New"), (S.REPORTED, S.ACCEPTED, S.REGISTERED)),
    Group("dispatched", lazy("Dispatched"), (S.DISPATCHED, S.SIGNED)),
    Group("handling", lazy("Being handled"), (S.HANDLING,)),
    Group("inspection", lazy("Awaiting inspection"), (S.FEEDBACK, S.INSPECTING, S.INSPECTED)),
    Group("overdue", lazy("Overdue"), tuple(STAGE_OF)),
)
BY_KEY = {g.key: g for g in GROUPS}
OVERDUE = "overdue"


def channel_name(tenant_id: int) -> str:
    return f"t{tenant_id}:smart_service:board"


def group_of(state: str | None) -> str | None:
    """The (non-overdue) column a state belongs to, or None (final, parked)."""
    if state is None:
        return None
    for g in GROUPS:
        if g.key != OVERDUE and State(state) in g.states:
            return g.key
    return None


def affected_groups(message: dict[str, Any]) -> list[str]:
    """Columns to refresh for a published change: where it was, where it is, and overdue (an event
    may have left or joined it without its state group saying so)."""
    keys = [group_of(message.get("from")), group_of(message.get("state")), OVERDUE]
    return [k for k in dict.fromkeys(keys) if k is not None]


def publish(app_state: Any, tenant_id: int, payload: dict[str, Any]) -> None:
    """Tell every open board of the tenant that an event changed. Call after the commit: the
    plugin's ``on_event`` does, for every change services announce (pages, phones, Open311, the
    SLA job)."""
    channels = getattr(app_state, "channels", None)
    if channels is None:
        return
    keys = ("id", "action", "from", "state")
    try:
        channels.publish(json.dumps({k: payload.get(k) for k in keys}), channel_name(tenant_id))
    except Exception:  # the change is committed; a board that misses it catches up on reload
        log.exception("could not publish a board change for event %s", payload.get("id"))


def _overdue(now: datetime) -> Any:
    return and_(Event.state.in_([s.value for s in STAGE_OF]), Event.due_at < now)


def column_filter(key: str, now: datetime) -> Any:
    group = BY_KEY[key]
    if key == OVERDUE:
        return _overdue(now)
    return and_(
        Event.state.in_([s.value for s in group.states]),
        or_(Event.due_at.is_(None), Event.due_at >= now, not_(Event.state.in_([s.value for s in STAGE_OF]))),
    )


@dataclass
class Column:
    group: Group
    count: int
    cards: list[Event]


async def column(session: AsyncSession, key: str, prefixes: list[str], now: datetime | None = None) -> Column:
    """One column in the user's scope: its count and its first cards, soonest deadline first."""
    now = now or utcnow()
    where = and_(in_scope(Event.node_path, prefixes), column_filter(key, now))
    count = await session.scalar(select(func.count()).select_from(Event).where(where))
    rows = await session.execute(
        select(Event).where(where).order_by(Event.due_at.is_(None), Event.due_at, Event.id).limit(CARDS_PER_COLUMN)
    )
    return Column(BY_KEY[key], int(count or 0), list(rows.scalars()))


async def columns(session: AsyncSession, prefixes: list[str], now: datetime | None = None) -> list[Column]:
    now = now or utcnow()
    return [await column(session, g.key, prefixes, now) for g in GROUPS]


async def stream(channels: Any, tenant_id: int) -> AsyncIterator[Any]:
    """The board's server-sent events: ``ready`` once subscribed, then ``board-<group>`` per change."""
    async with channels.start_subscription([channel_name(tenant_id)]) as subscriber:
        yield ServerSentEventMessage(event="ready", data="1", retry=sse.RETRY_MS)
        async with aclosing(sse.messages(subscriber)) as incoming:
            async for raw in incoming:
                if raw is None:
                    yield sse.keep_alive()
                    continue
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                for key in affected_groups(message):
                    # Only which column: a board may not show the event (another scope).
                    yield ServerSentEventMessage(event=f"board-{key}", data=key)
