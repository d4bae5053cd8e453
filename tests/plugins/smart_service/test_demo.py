"""Demo data: 双滦区 has events in every state (with rework, returns, extensions, breaches and
ratings) and bookings, seeded through the services; seeding again adds nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.grids.models import GridNode
from core.tenancy.models import Tenant
from plugins.smart_service import bookings as bk
from plugins.smart_service import demo
from plugins.smart_service.lifecycle import State
from plugins.smart_service.models import (
    Booking,
    Category,
    DispatchRule,
    Event,
    EventTransition,
    HandlingUnit,
)


async def _tenant_id(app: Any, slug: str = "shuangluan") -> int:
    async with app.state.db.session(None) as s:
        return int((await s.execute(select(Tenant.id).where(Tenant.slug == slug))).scalar_one())


async def _counts(s: Any) -> dict[str, int]:
    out = {}
    for model in (Category, HandlingUnit, DispatchRule, Event, EventTransition, Booking):
        out[model.__tablename__] = int(await s.scalar(select(func.count()).select_from(model)) or 0)
    return out


async def test_the_demo_district_has_events_in_every_state_and_bookings(app: Any) -> None:
    async with app.state.db.session(await _tenant_id(app)) as s:
        states = set((await s.execute(select(Event.state).distinct())).scalars())
        assert states >= {st.value for st in State}, f"missing: {sorted({st.value for st in State} - states)}"
        actions = set((await s.execute(select(EventTransition.action).distinct())).scalars())
        assert {"return", "rework", "approve_extension", "approve_park", "merge", "rate", "reject"} <= actions
        assert await s.scalar(select(func.count()).where(Event.sla_breached.is_(True))) > 0
        assert await s.scalar(select(func.count()).where(Event.rating.is_not(None))) > 0
        total = await s.scalar(select(func.count()).select_from(Event))
        assert total >= demo.EVENTS
        areas = await s.scalar(select(func.count(func.distinct(Event.node_id))))
        assert areas > 20  # spread over the district, not piled on one grid
        booking_states = set((await s.execute(select(Booking.state).distinct())).scalars())
        assert booking_states == set(bk.STATES)
        assert await s.scalar(select(func.count()).select_from(Booking)) >= demo.BOOKINGS
        units = dict((await s.execute(select(HandlingUnit.level, func.count()).group_by(HandlingUnit.level))).all())
        assert set(units) == {1, 2, 3}
        # the feedback photos are real files, not rows pointing at nothing
        from core.services.files.models import StoredFile

        photo = (
            (await s.execute(select(StoredFile).where(StoredFile.owner_type == "smart_service.event")))
            .scalars()
            .first()
        )
        assert photo is not None and app.state.storage.read(photo)[:2] == b"\xff\xd8"


async def test_seeding_the_demo_again_adds_nothing(app: Any) -> None:
    tenant_id = await _tenant_id(app)
    async with app.state.db.transaction(tenant_id) as s:
        before = await _counts(s)
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        tenant = await s.get(Tenant, tenant_id)
        added = await demo.seed(s, tenant, nodes)
        assert added == {"categories": 0, "calendar": 0, "units": 0, "rules": 0}
        assert await _counts(s) == before


async def test_another_district_gets_categories_and_units_but_no_invented_events(app: Any) -> None:
    async with app.state.db.session(await _tenant_id(app, "luanping")) as s:
        assert await s.scalar(select(func.count()).select_from(Category)) > 0
        assert await s.scalar(select(func.count()).select_from(HandlingUnit)) > 0
        demo_events = await s.scalar(select(func.count()).where(Event.description == "演示数据"))
        assert demo_events == 0
