"""Duplicates: 我也遇到 (one more person affected), open events nearby, and 并单 (merging one event
into another)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.context import Actor
from core.grids import geo
from plugins.smart_service import lifecycle
from plugins.smart_service.lifecycle import (
    OPEN,
    lazy,
)
from plugins.smart_service.models import (
    Category,
    Event,
    EventTransition,
)
from plugins.smart_service.services.common import (
    EventNotFound,
    InvalidInput,
    _actor_name,
    _announce,
    _authorise,
    get_event,
)


async def _merge_target(session: AsyncSession, into: Any) -> Event | None:
    if into is None:
        return None
    if isinstance(into, Event):
        return into
    try:
        return await get_event(session, int(into))
    except (EventNotFound, ValueError):
        raise InvalidInput(lazy("The event to merge into was not found")) from None


async def _merge(session: AsyncSession, event: Event, target: Event) -> None:
    """并单: the duplicate points at the target; its supporters and earlier duplicates move with it."""
    event.merged_into_id = target.id
    await session.execute(
        update(Event)
        .where(Event.merged_into_id == event.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Event)
        .where(Event.id == target.id)
        .values(me_too_count=Event.me_too_count + 1 + (event.me_too_count or 0))
        .execution_options(synchronize_session=False)
    )
    await session.refresh(target, ["me_too_count"])


METRES_PER_DEGREE = 111_320.0
haversine_m = geo.haversine_m  # moved to core/grids/geo.py (issue #8); the old name still works


async def find_nearby_open(
    session: AsyncSession,
    category: str | Category,
    lon: float | Decimal,
    lat: float | Decimal,
    radius_m: float = 100.0,
    *,
    limit: int = 10,
) -> list[tuple[Event, float]]:
    """Open events of the same category within ``radius_m`` metres, nearest first, with distances.

    A bounding box in SQL (indexed on category and latitude) keeps the candidates few; the exact
    great-circle distance is computed on those in Python.
    """
    code = category.code if isinstance(category, Category) else category
    lon_f, lat_f = float(lon), float(lat)
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat_f)), 0.01))

    def d(x: float) -> Decimal:
        return Decimal(f"{x:.6f}")

    rows = await session.execute(
        select(Event).where(
            Event.category_code == code,
            Event.state.in_([s.value for s in OPEN]),
            Event.lat.between(d(lat_f - dlat), d(lat_f + dlat)),
            Event.lon.between(d(lon_f - dlon), d(lon_f + dlon)),
        )
    )
    found = []
    for event in rows.scalars():
        assert event.lon is not None and event.lat is not None
        distance = haversine_m(lon_f, lat_f, float(event.lon), float(event.lat))
        if distance <= radius_m:
            found.append((event, distance))
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found[:limit]


async def me_too(
    session: AsyncSession,
    event: Event | int,
    actor: Actor,
    *,
    note: str | None = None,
    can: Callable[[str, str | None], bool] | None = None,
    app_state: Any = None,
    enabled: Iterable[str] | None = None,
    now: datetime | None = None,
) -> bool:
    """我也遇到: count one more person affected by an open event. Returns False (counting nothing)
    when this user reported it or said so before. The count is an atomic increment that does not
    move the event's version, so it never makes a staff member's form stale."""
    now = now or utcnow()
    if not isinstance(event, Event):
        event = await get_event(session, int(event))
    rule = lifecycle.rule_for(event.state, "me_too")
    _authorise(rule, event, actor, can)
    if actor.kind == "user" and actor.id is not None:
        if event.reporter_user_id == actor.id:
            return False
        before = await session.scalar(
            select(EventTransition.id)
            .where(
                EventTransition.event_id == event.id,
                EventTransition.action == "me_too",
                EventTransition.actor_user_id == actor.id,
            )
            .limit(1)
        )
        if before is not None:
            return False
    await session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(me_too_count=Event.me_too_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.add(
        EventTransition(
            id=new_id(),
            event_id=event.id,
            from_state=event.state,
            to_state=event.state,
            action="me_too",
            actor_user_id=actor.id if actor.kind == "user" else None,
            actor_name=await _actor_name(session, actor),
            note=(note or "").strip()[: lifecycle.MAX_NOTE],
            at=now,
        )
    )
    await session.flush()
    await session.refresh(event, ["me_too_count"])
    await _announce(session, app_state, enabled, "me_too", event, actor, {"from": event.state})
    return True
