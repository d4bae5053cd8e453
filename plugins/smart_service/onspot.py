"""自处置: a grid worker who fixes a small thing on patrol records it found-and-handled in one step,
with before and after photos. The event is reported with source ``on_the_spot`` (indicators count
it by that source) and closed at once by ``handle_on_spot``; its timeline says both.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.context import Actor
from plugins.smart_service import services
from plugins.smart_service.models import ON_THE_SPOT, Event


async def record(
    session: AsyncSession,
    actor: Actor,
    *,
    title: str,
    category_code: str,
    node_id: int,
    before: list[int],
    after: list[int],
    note: str = "",
    description: str = "",
    lon: float | Decimal | None = None,
    lat: float | Decimal | None = None,
    address: str = "",
    reporter_name: str = "",
    can: Any = None,
    app_state: Any = None,
    now: datetime | None = None,
) -> Event:
    """Report and close in one transaction; the caller commits. ``before`` photos go on the report,
    ``after`` photos (at least one) on the handling."""
    now = now or utcnow()
    event = await services.report_event(
        session,
        title=title,
        category_code=category_code,
        node_id=node_id,
        source=ON_THE_SPOT,
        actor=actor,
        description=description,
        lon=lon,
        lat=lat,
        address=address,
        photos=before,
        reporter_name=reporter_name,
        level=3,
        now=now,
        app_state=app_state,
    )
    target = await services.dispatch_target(session, event)
    if target is not None:
        event.handling_unit_id = target.unit.id  # the unit it would have gone to: counted as theirs
    await services.transition(
        session,
        event,
        "handle_on_spot",
        actor,
        note=note or description,
        photos=after,
        can=can,
        app_state=app_state,
        now=now,
    )
    return event
