"""Demo data for 服务智治 (the plugin's ``demo_data`` hook): categories in the style of GB/T 30428.2
with per-stage time limits, a working calendar, handling units at three levels with the dispatch
catalogue, and — for 双滦区 — a few hundred events over the last 90 days driven through
``services.transition`` (backdated with ``now=``) so that every state occurs, and ~30 bookings.

It also ensures the Open311 demo key ``demo-open311-key``.

Idempotent: configuration rows are added only where their code is missing; events and bookings
are seeded once, marked by the counter ``demo:smart_service``. Deterministic (a fixed random seed)
apart from the dates, which are relative to the day it runs.

Modules by what they seed: ``catalogue`` (categories, calendar, units, the dispatch catalogue and
their members), ``stories`` (the events), ``bookings``; ``scene`` (places, points, working-time
clock, people, the photo) and ``texts`` (what people write) are what the stories draw on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from plugins.smart_service.demo.bookings import BOOKINGS, add_bookings
from plugins.smart_service.demo.catalogue import add_calendar, add_categories, add_units
from plugins.smart_service.demo.scene import DISTRICT_ROOT, demo_photo, demo_users
from plugins.smart_service.demo.stories import EVENTS, add_events
from plugins.smart_service.models import Counter

__all__ = ["BOOKINGS", "EVENTS", "MARKER", "seed"]

MARKER = "demo:smart_service"


async def seed(
    session: AsyncSession, tenant: Any, nodes: Mapping[str, GridNode], *, events: int = EVENTS, storage: Any = None
) -> dict[str, int]:
    """Seed the tenant (the session is bound to it); returns what was added."""
    added = {
        "categories": await add_categories(session),
        "calendar": await add_calendar(session),
    }
    added["units"], added["rules"] = await add_units(session, nodes)
    # The Open311 demo client's key (open311_keys.py; demo only, documented in the README).
    from plugins.smart_service.open311_keys import ensure_api_key

    await ensure_api_key(session, "demo-open311-key", "Open311 demo")
    await session.flush()
    # Events carry real photo files (feedback needs an "after" photo): seeded only with a storage.
    if DISTRICT_ROOT in nodes and storage is not None and not await _seeded(session):
        users = await demo_users(session)
        if users:
            # Demo stories are not anyone's actions: the timelines say who did what; the audit log
            # would only repeat thousands of invented rows (and take most of the seeding time).
            before, session.info["no_audit"] = session.info.get("no_audit"), True
            try:
                photo = await demo_photo(session, tenant, storage)
                added["events"] = await add_events(session, nodes, users, events, photo)
                added["bookings"] = await add_bookings(session, nodes, users)
            finally:
                session.info["no_audit"] = before
        session.add(Counter(key=MARKER, value=1))
        await session.flush()
    return added


async def _seeded(session: AsyncSession) -> bool:
    return (await session.execute(select(Counter.id).where(Counter.key == MARKER))).first() is not None
