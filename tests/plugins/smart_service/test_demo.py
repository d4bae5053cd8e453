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


async def test_the_demo_looks_like_the_case_every_channel_every_level_office_hours(app: Any) -> None:
    """Issue #15: all intake sources; cases handled in the grid, the community, 元宝山街道 and a 区直部门
    (by members of those units); category-specific dispatch rules; staff at work in office hours;
    the on-time share near the case's record."""
    from datetime import time
    from zoneinfo import ZoneInfo

    from core.identity.models import User
    from plugins.smart_service.work_models import UnitMember, WorkOrder

    async with app.state.db.session(await _tenant_id(app)) as s:
        sources = dict((await s.execute(select(Event.source, func.count()).group_by(Event.source))).all())
        assert set(sources) == {"resident", "grid_patrol", "hotline_12345", "superior", "on_the_spot"}, sources
        assert (
            await s.scalar(select(func.count()).select_from(WorkOrder))
            == sources["hotline_12345"] + sources["superior"]
        )
        units = {u.id: u for u in (await s.execute(select(HandlingUnit))).scalars()}
        closed = list((await s.execute(select(Event).where(Event.state == "closed"))).scalars())
        by = {(units[e.handling_unit_id].level, units[e.handling_unit_id].node_id is None) for e in closed}
        assert {(3, False), (2, False), (2, True)} <= by  # community, 街道, 区直部门
        assert any(e.assignee_user_id is not None and e.source == "on_the_spot" for e in closed)  # in the grid
        names = {units[e.handling_unit_id].name for e in closed}
        assert "元宝山街道" in names and "区城市管理综合行政执法局" in names
        members = dict(
            (
                await s.execute(
                    select(User.username, func.count())
                    .join(UnitMember, UnitMember.user_id == User.id)
                    .group_by(User.username)
                )
            ).all()
        )
        assert {"chengguan", "zhujian", "subdistrict_officer", "community_worker"} <= set(members)
        specific = await s.scalar(select(func.count()).where(DispatchRule.category_code.is_not(None)))
        assert specific > 10
        # Staff act in office hours (a 受理 at 3 a.m. would not look like the case).
        tz = ZoneInfo("Asia/Shanghai")
        # The demo's own steps only: tests sharing this district accept events at the real time.
        seeded = await s.scalar(select(Tenant.created_at).where(Tenant.slug == "shuangluan"))
        accepts = (
            await s.execute(
                select(EventTransition.at).where(EventTransition.action == "accept", EventTransition.at < seeded)
            )
        ).scalars()
        for at in accepts:
            local = at.astimezone(tz).time()
            assert time(8, 30) <= local <= time(17, 30), local
        breached = await s.scalar(select(func.count()).where(Event.state == "closed", Event.sla_breached.is_(True)))
        assert 0 < breached / len(closed) < 0.12
