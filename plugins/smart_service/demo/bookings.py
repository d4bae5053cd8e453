"""The demo's 预约代办 bookings in 双安社区, in every state, over the last 30 days."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.context import Actor
from core.grids.models import GridNode
from plugins.smart_service import bookings as bk
from plugins.smart_service import sla
from plugins.smart_service.demo.scene import DEMO_COMMUNITY
from plugins.smart_service.demo.texts import APPLICANTS
from plugins.smart_service.models import Booking

BOOKINGS = 30


async def add_bookings(session: AsyncSession, nodes: Mapping[str, GridNode], users: dict[str, Actor]) -> int:
    rng = random.Random(1127)
    now = utcnow()
    calendar = await sla.load_calendar(session)
    community = nodes.get(DEMO_COMMUNITY)
    places = [
        n for n in nodes.values() if community is not None and n.path.startswith(community.path) and n.kind == "grid"
    ]
    if not places:
        return 0
    worker = users.get("community_worker") or users.get("community") or users["admin"]
    resident = users["resident"]
    resident_node = nodes.get("sl-ybs-sa-g01", places[0])
    made = 0
    for i in range(BOOKINGS):
        created = now - timedelta(days=rng.uniform(0.2, 30))
        day = created.astimezone(calendar.tz).date() + timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        own = i % 3 == 0
        matter = rng.choice(bk.MATTERS)
        booking: Booking = await bk.request_booking(
            session,
            matter=matter.code,
            preferred_day=day,
            node=resident_node if own else rng.choice(places),
            actor=resident if own else worker,
            applicant_user_id=resident.id if own else None,
            applicant_name="居民（演示）" if own else rng.choice(APPLICANTS),
            documents="、".join(matter.documents),
            now=created,
            calendar=calendar,
        )
        made += 1
        fate = rng.random()
        if fate < 0.2:
            continue  # still requested
        if fate < 0.3:
            await bk.cancel(
                session, booking, resident if own else worker, "时间有变，改日再约", now=created + timedelta(hours=3)
            )
            continue
        taken = created + timedelta(hours=rng.uniform(1, 20))
        await bk.take(session, booking, worker, now=taken, calendar=calendar)
        assert booking.due_at is not None
        if fate < 0.55:
            continue  # taken; overdue when taken long ago
        late = fate > 0.9
        done = booking.due_at + timedelta(days=2) if late else taken + timedelta(hours=rng.uniform(4, 40))
        if done >= now:
            continue
        await bk.complete(session, booking, worker, "已代办完成，材料已交回本人", now=done)
    return made
