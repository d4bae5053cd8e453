"""Indicator rollups: whatever happened to the events — reports across local midnight, reopening,
reassigning to another grid, unit or worker, deadlines moved, merges, a new time zone — and whenever
the rollup pass last ran, the dashboard's figures equal those counted from the events themselves."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from plugins.smart_service import indicators as ind
from plugins.smart_service import rollups, sla
from plugins.smart_service.models import Category, Event, HandlingUnit
from plugins.smart_service.rollup_models import IndicatorMark, IndicatorRollup, IndicatorState

D0 = date(2026, 11, 10)
ZONES = ("Asia/Shanghai", "UTC", "Asia/Kathmandu", "America/Caracas")  # +8, 0, +5:45, −4 (no DST)
STATES = ("reported", "registered", "dispatched", "handling", "feedback", "closed", "rejected", "merged", "parked")
CATEGORIES = ("C1", "C1a", "C1b", "C2")
RANGE = (D0 - timedelta(days=4), D0 + timedelta(days=3))


@pytest.fixture
async def world(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    """District R → communities A, B → grids A1, A2, B1; two units, two workers, classes C1 (C1a, C1b) and C2."""
    db = app.state.db
    async with db.transaction(fresh_tenant.id) as s:
        nodes: dict[str, GridNode] = {}
        for code, parent in (("R", None), ("A", "R"), ("B", "R"), ("A1", "A"), ("A2", "A"), ("B1", "B")):
            up = nodes.get(parent) if parent else None
            node = GridNode(id=new_id(), code=code, kind="grid", name=f"区域{code}", parent_id=up.id if up else None)
            node.depth = up.depth + 1 if up else 0
            node.path = f"{up.path if up else '/'}{node.id}/"
            s.add(node)
            await s.flush()
            nodes[code] = node
        units = [HandlingUnit(id=new_id(), code=f"u{i}", name=f"单位{i}", level=3) for i in (1, 2)]
        workers = [User(id=new_id(), username=f"w{i}", display_name=f"网格员{i}", password_hash="-") for i in (1, 2)]
        s.add_all([*units, *workers])
        s.add_all([Category(code="C1", name_zh="市容"), Category(code="C2", name_zh="设施")])
        await s.flush()
        s.add_all(
            [
                Category(code="C1a", name_zh="垃圾", parent_code="C1"),
                Category(code="C1b", name_zh="占道", parent_code="C1"),
            ]
        )
    return {
        "db": db,
        "tenant": fresh_tenant.id,
        "nodes": {k: (n.id, n.path) for k, n in nodes.items()},
        "units": [u.id for u in units],
        "workers": [w.id for w in workers],
    }


minutes = st.one_of(st.sampled_from([-1, 0, 1, 24 * 60 - 1]), st.integers(-3 * 24 * 60, 3 * 24 * 60))
event_spec = st.fixed_dictionaries(
    {
        "day": st.integers(-4, 3),
        "minute": minutes,  # from that local midnight: the day boundaries are where it goes wrong
        "node": st.sampled_from(["R", "A", "A1", "A2", "B1"]),
        "category": st.sampled_from(CATEGORIES),
        "state": st.sampled_from(STATES),
        "unit": st.sampled_from([None, 0, 1]),
        "worker": st.sampled_from([None, 0, 1]),
        "handle_due": st.one_of(st.none(), minutes),
        "close_due": st.one_of(st.none(), minutes),
        "handled": st.one_of(st.none(), minutes),
        "closed": st.one_of(st.none(), minutes),
        "rating": st.sampled_from([None, 1, 3, 4, 5]),
        "rework": st.integers(0, 2),
        "extension": st.integers(0, 1),
    }
)
change = st.fixed_dictionaries(
    {"which": st.integers(0, 50)},
    optional={
        "state": st.sampled_from(STATES),
        "node": st.sampled_from(["A", "A1", "A2", "B1"]),  # reassigned to another grid
        "unit": st.sampled_from([None, 0, 1]),
        "worker": st.sampled_from([None, 0, 1]),
        "handle_due": minutes,  # re-dispatched: a new handling deadline
        "close_due": minutes,  # extended
        "handled": st.one_of(st.none(), minutes),
        "closed": st.one_of(st.none(), minutes),  # closed, or reopened (None)
        "rating": st.sampled_from([None, 2, 5]),
        "rework": st.integers(0, 3),
        "category": st.sampled_from(CATEGORIES),
    },
)
step = st.one_of(
    st.tuples(st.just("report"), event_spec),
    st.tuples(st.just("change"), change),
    st.tuples(st.just("pass"), st.integers(-3, 5)),  # a rollup pass, "today" D0 + n
    st.tuples(st.just("zone"), st.sampled_from(ZONES)),
)


def _when(zone: ZoneInfo, base: datetime, offset: int | None) -> datetime | None:
    return None if offset is None else base + timedelta(minutes=offset)


def _apply(e: Event, spec: dict[str, Any], w: dict[str, Any], zone: ZoneInfo) -> None:
    base = e.created_at
    for key, value in spec.items():
        if key == "state":
            e.state = value
        elif key == "node":
            e.node_id, e.node_path = w["nodes"][value]
        elif key == "category":
            e.category_code = value
        elif key == "unit":
            e.handling_unit_id = None if value is None else w["units"][value]
        elif key == "worker":
            e.assignee_user_id = None if value is None else w["workers"][value]
        elif key in ("handle_due", "close_due", "handled", "closed"):
            setattr(
                e,
                {"handle_due": "handle_due_at", "close_due": "close_due_at"}.get(key, key + "_at"),
                _when(zone, base, value),
            )
        elif key == "rating":
            e.rating = value
        elif key == "rework":
            e.rework_count = value
        elif key == "extension":
            e.extension_count = value
    if e.state == "parked":
        e.parked_from = "handling"


async def _figures(s: Any, prefixes: list[str], calendar: sla.Calendar, use_rollups: bool) -> list[Any]:
    out = []
    for by, grain in [*((b, "day") for b in ind.DIMENSIONS), ("period", "week"), ("period", "month")]:
        report = await ind.compute(
            s,
            prefixes=prefixes,
            start=RANGE[0],
            end=RANGE[1],
            by=by,
            grain=grain,
            calendar=calendar,
            rollups=use_rollups,
        )
        out.append((by, grain, report.total.counts, [(f.key, f.label, f.counts) for f in report.rows]))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=18))
async def test_rollups_equal_the_indicators_counted_from_events(world: dict[str, Any], steps: list[Any]) -> None:
    db, tenant = world["db"], world["tenant"]
    async with db.transaction(tenant) as s:
        for model in (IndicatorRollup, IndicatorMark, IndicatorState, Event):
            await s.execute(delete(model).where(model.tenant_id == tenant))
    zone = ZoneInfo("Asia/Shanghai")
    ids: list[int] = []
    passes = 0
    for kind, arg in steps:
        calendar = sla.Calendar(tz=zone)
        async with db.transaction(tenant) as s:
            if kind == "report":
                midnight = datetime.combine(D0 + timedelta(days=arg["day"]), time.min, zone)
                e = Event(id=new_id(), number=f"R-{len(ids)}", title="t", source="resident", created_at=midnight)
                e.created_at = midnight + timedelta(minutes=arg["minute"])
                _apply(e, {k: v for k, v in arg.items() if k not in ("day", "minute")}, world, zone)
                s.add(e)
                ids.append(e.id)
            elif kind == "change" and ids:
                e = (await s.execute(select(Event).where(Event.id == ids[arg["which"] % len(ids)]))).scalar_one()
                _apply(e, {k: v for k, v in arg.items() if k != "which"}, world, zone)
            elif kind == "pass":
                await rollups.refresh(s, calendar=calendar, today=D0 + timedelta(days=arg))
                passes += 1
            elif kind == "zone":
                zone = ZoneInfo(arg)
    calendar = sla.Calendar(tz=zone)
    nodes = world["nodes"]
    # With the changes since the last pass read from events (less their marks), then after a pass
    # that takes them into the rollups (nothing left to read from events when the zone is the same).
    for final_pass in (False, True):
        if final_pass:
            async with db.transaction(tenant) as s:
                await rollups.refresh(s, calendar=calendar, today=D0)
        async with db.session(tenant) as s:
            for prefixes in (
                [nodes["R"][1]],
                [nodes["A"][1]],
                [nodes["A1"][1], nodes["B1"][1]],
                [nodes["A"][1], nodes["A1"][1]],  # nested scopes: nothing counted twice
            ):
                assert await _figures(s, prefixes, calendar, True) == await _figures(s, prefixes, calendar, False)


async def _event(db: Any, tenant: int, path_of: tuple[int, str], created: datetime) -> int:
    node_id, path = path_of
    async with db.transaction(tenant) as s:
        e = Event(
            id=new_id(),
            number=f"P-{new_id()}",
            title="t",
            source="resident",
            category_code="C1a",
            node_id=node_id,
            node_path=path,
            state="handling",
            created_at=created,
        )
        s.add(e)
    return e.id


async def test_after_a_pass_every_day_is_read_from_rollups_and_only_changed_events_from_events(
    world: dict[str, Any],
) -> None:
    """Today included: the dashboard reads the rollups and the few events changed since the pass."""
    db, tenant = world["db"], world["tenant"]
    zone = ZoneInfo("Asia/Shanghai")
    calendar = sla.Calendar(tz=zone)
    path = world["nodes"]["A1"][1]
    first = await _event(db, tenant, world["nodes"]["A1"], datetime.combine(D0 - timedelta(days=2), time(9), zone))
    async with db.transaction(tenant) as s:
        done = await rollups.refresh(s, calendar=calendar, today=D0)
    assert done["full"] is True
    second = await _event(db, tenant, world["nodes"]["A1"], datetime.combine(D0, time(9), zone))
    async with db.session(tenant) as s:
        plan = await rollups.plan(s, calendar, RANGE[0], RANGE[1])
        assert plan.rollup_days == tuple((RANGE[0] + timedelta(days=i)).isoformat() for i in range(8))
        assert plan.event_ranges == ()
        assert plan.changed == (second,)  # reported after the pass
        report = await ind.compute(s, prefixes=[path], start=RANGE[0], end=RANGE[1], calendar=calendar)
        assert report.total.counts["received"] == 2
    async with db.transaction(tenant) as s:
        event = (await s.execute(select(Event).where(Event.id == first))).scalar_one()
        event.state = "merged"  # counted on the one it was merged into: gone from its day at once
    async with db.session(tenant) as s:
        plan = await rollups.plan(s, calendar, RANGE[0], RANGE[1])
        assert set(plan.changed) == {first, second}
        report = await ind.compute(s, prefixes=[path], start=RANGE[0], end=RANGE[1], calendar=calendar)
        assert report.total.counts["received"] == 1
    async with db.transaction(tenant) as s:
        done = await rollups.refresh(s, calendar=calendar, today=D0)
    assert (done["full"], done["changed"]) == (False, 2)
    async with db.session(tenant) as s:
        plan = await rollups.plan(s, calendar, RANGE[0], RANGE[1])
        assert plan.changed == ()
        report = await ind.compute(s, prefixes=[path], start=RANGE[0], end=RANGE[1], calendar=calendar)
        assert report.total.counts["received"] == 1


async def test_a_bulk_load_with_old_stamps_is_counted_after_forget(world: dict[str, Any]) -> None:
    """Rows written with an updated_at before the last pass (an import) are found once the rollups are
    forgotten: the dashboard counts from events until the next pass rebuilds everything."""
    db, tenant = world["db"], world["tenant"]
    zone = ZoneInfo("Asia/Shanghai")
    calendar = sla.Calendar(tz=zone)
    path = world["nodes"]["A2"][1]
    async with db.transaction(tenant) as s:
        await rollups.refresh(s, calendar=calendar, today=D0)
    loaded = await _event(db, tenant, world["nodes"]["A2"], datetime.combine(D0 - timedelta(days=1), time(9), zone))
    async with db.transaction(tenant) as s:
        event = (await s.execute(select(Event).where(Event.id == loaded))).scalar_one()
        event.updated_at = event.created_at  # as a COPY of old rows writes it
    async with db.transaction(tenant) as s:
        await rollups.forget(s)
    async with db.session(tenant) as s:
        assert (await rollups.plan(s, calendar, RANGE[0], RANGE[1])).rollup_days == ()
        report = await ind.compute(s, prefixes=[path], start=RANGE[0], end=RANGE[1], calendar=calendar)
        assert report.total.counts["received"] == 1
    async with db.transaction(tenant) as s:
        assert (await rollups.refresh(s, calendar=calendar, today=D0))["full"] is True
    async with db.session(tenant) as s:
        plan = await rollups.plan(s, calendar, RANGE[0], RANGE[1])
        assert (plan.event_ranges, plan.changed) == ((), ())
        report = await ind.compute(s, prefixes=[path], start=RANGE[0], end=RANGE[1], calendar=calendar)
        assert report.total.counts["received"] == 1
