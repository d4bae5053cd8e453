"""The demo's events: a few hundred stories over the last 90 days from every intake channel, each
driven through ``services.transition`` (backdated with ``now=``) so that every state occurs."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.context import Actor
from core.grids.models import GridNode
from core.services.files.models import StoredFile
from plugins.smart_service import services as sv
from plugins.smart_service import sla
from plugins.smart_service.demo.catalogue import CATALOGUE, CATEGORIES
from plugins.smart_service.demo.scene import (
    DEMO_COMMUNITY,
    DEMO_GRID,
    DISTRICT_ROOT,
    Clock,
    last_working_moment,
    point,
    reported_at,
)
from plugins.smart_service.demo.texts import APPLICANTS, HOTLINE_CATEGORIES, REPORTS, SUPERIORS, result
from plugins.smart_service.lifecycle import OPEN
from plugins.smart_service.models import Event

EVENTS = 300
DAYS_BACK = 90

# Final scenarios of demo events, with weights; open ones are recent, closed ones spread over 90 days.
SCENARIOS: tuple[tuple[str, int], ...] = (
    ("closed", 44),
    ("closed_rework", 7),
    ("closed_extended", 5),
    ("closed_returned", 4),
    ("rejected", 4),
    ("parked", 3),
    ("reported", 3),
    ("accepted", 3),
    ("registered", 3),
    ("dispatched", 4),
    ("signed", 3),
    ("handling", 4),
    ("handling_pending", 2),
    ("feedback", 3),
    ("inspecting", 2),
    ("inspected", 2),
    ("merged", 4),
)


@dataclass
class _Cast:
    """What every story of the demo draws on: the seeded random source, the clock, the places and
    the people who act (each role falls back to the admin when the definition has no such user)."""

    session: AsyncSession
    rng: random.Random
    now: datetime
    latest: datetime
    calendar: sla.Calendar
    nodes: Mapping[str, GridNode]
    by_id: dict[int, GridNode]
    places: list[GridNode]
    demo_places: list[GridNode]
    subs: list[tuple[str, str]]
    small: list[tuple[str, str]]
    users: dict[str, Actor]
    admin: Actor
    staff: Actor
    officer: Actor
    worker: Actor | None
    hotline: Actor
    workers: dict[str, Actor]  # who works each unit's queue in the demo (its members), by unit code
    photo: StoredFile
    open_events: list[Event] = field(default_factory=list)
    orders: int = 0


@dataclass
class _Story:
    """One event's story: where and what, who reported it, and who works it."""

    scenario: str
    node: GridNode
    sub: str
    cls: str
    source: str
    reporter: Actor
    clock: Clock
    lon: float
    lat: float
    title: str
    description: str
    event: Any = None
    order_number: str = ""
    unit: Any = None
    top_down: bool = False
    to_grid: bool = False
    handler: Any = None
    dispatcher: Any = None
    accepter: Any = None


async def add_events(
    session: AsyncSession, nodes: Mapping[str, GridNode], users: dict[str, Actor], count: int, photo: StoredFile
) -> int:
    """Stories over the last 90 days from every intake channel — patrols, 随手拍, 12345 orders,
    superiors' tasks, 自处置 — each sent where the catalogue says and worked by that level's people:
    the grid worker, the community's staff, 元宝山街道's officer, a department's clerk. About 96% of
    stages end within their limits (the case reports every event closed).

    Every random draw happens in a fixed order (seed 20261127), so the demo is the same row for row
    on every run; the steps below keep that order."""
    cast = await _cast(session, nodes, users, photo)
    names = [s for s, _w in SCENARIOS]
    weights = [w for _s, w in SCENARIOS]
    plan = sorted(cast.rng.choices(names, weights, k=count), key=lambda s: s == "merged")  # merges last
    made = 0
    session.info["demo_history"] = True  # replies to 12345 are history here, not messages to send
    try:
        for scenario in plan:
            story = _story(cast, scenario)
            made += 1
            if await _on_the_spot(cast, story):
                continue
            await _intake(cast, story)
            await _route(cast, story)
            done = (
                await _until_dispatch(cast, story)
                and await _until_handled(cast, story)
                and await _until_closed(cast, story)
            )
            if done:
                await _evaluate(cast, story)
    finally:
        session.info.pop("demo_history", None)
    return made


async def _cast(
    session: AsyncSession, nodes: Mapping[str, GridNode], users: dict[str, Actor], photo: StoredFile
) -> _Cast:
    rng = random.Random(20261127)
    now = utcnow()
    calendar = await sla.load_calendar(session)
    root = nodes[DISTRICT_ROOT]
    places = [n for n in nodes.values() if n.kind in ("grid", "village") and n.path.startswith(root.path)]
    community = nodes.get(DEMO_COMMUNITY)
    subs = [(sub, code) for code, *_rest, subs_ in CATEGORIES for sub, *_x in subs_]
    admin = users["admin"]
    staff = users.get("community", admin)
    officer = users.get("subdistrict_officer", admin)
    return _Cast(
        session=session,
        rng=rng,
        now=now,
        latest=last_working_moment(now, calendar),
        calendar=calendar,
        nodes=nodes,
        by_id={n.id: n for n in nodes.values()},
        places=places,
        demo_places=[n for n in places if community is not None and n.path.startswith(community.path)],
        subs=subs,
        small=[(sub, cls) for sub, cls in subs if dict(CATALOGUE).get(sub) == "community"],
        users=users,
        admin=admin,
        staff=staff,
        officer=officer,
        worker=users.get("grid_worker"),
        hotline=users.get("hotline", admin),
        workers={
            "dept-cgj": users.get("chengguan", admin),
            "dept-zjj": users.get("zhujian", admin),
            "unit-sl-ybs": officer,
            "unit-sl-ybs-sa": users.get("community_worker", staff),
        },
        photo=photo,
    )


def _story(cast: _Cast, scenario: str) -> _Story:
    """Where, what, through which channel and when (no database: the draws only)."""
    from plugins.smart_service.models import ON_THE_SPOT

    rng = cast.rng
    in_demo = bool(cast.demo_places) and rng.random() < 0.3
    node = rng.choice(cast.demo_places if in_demo else cast.places)
    sub, cls = rng.choice(cast.subs)
    final = scenario.startswith("closed") or scenario in ("rejected", "merged")
    age = timedelta(days=rng.uniform(1.0, DAYS_BACK)) if final else timedelta(hours=rng.uniform(0.5, 96))
    roll = rng.random()
    spot = roll < 0.26 and in_demo and cast.worker is not None and scenario == "closed"
    source = (
        "hotline_12345"
        if roll < 0.12
        else "superior"
        if roll < 0.16
        else ON_THE_SPOT
        if spot
        else "resident"
        if roll < 0.62
        else "grid_patrol"
    )
    if source == ON_THE_SPOT:
        sub, cls = rng.choice(cast.small)
    reporter = {"resident": cast.users["resident"], "hotline_12345": cast.hotline, "superior": cast.hotline}.get(
        source, cast.worker or cast.admin
    )
    reported = reported_at(cast.now, age, rng, cast.calendar, staff=source != "resident")
    created = min(reported, cast.latest - timedelta(minutes=20))
    clock = Clock(created, rng, rng.random() < 0.04, cast.latest, cast.calendar)
    lon, lat = point(node, cast.by_id, rng)
    title, description = rng.choice(REPORTS[sub])
    return _Story(scenario, node, sub, cls, source, reporter, clock, lon, lat, title, description)


async def _on_the_spot(cast: _Cast, story: _Story) -> bool:
    """自处置: the grid worker found and fixed it on the spot (one record, nothing to route)."""
    from plugins.smart_service import onspot
    from plugins.smart_service.models import ON_THE_SPOT

    if story.source != ON_THE_SPOT:
        return False
    assert cast.worker is not None
    await onspot.record(
        cast.session,
        cast.worker,
        title=story.title,
        category_code=story.sub,
        node_id=story.node.id,
        before=[cast.photo.id],
        after=[cast.photo.id],
        note="巡查发现，已当场处理",
        description=story.description,
        lon=story.lon,
        lat=story.lat,
        address=story.node.name,
        now=story.clock.t,
    )
    return True


async def _intake(cast: _Cast, story: _Story) -> None:
    """The event as its channel brings it in: a 12345 or superior's order, else a report."""
    from plugins.smart_service import workorders

    source, node, clock = story.source, story.node, story.clock
    if source in ("hotline_12345", "superior"):
        rng, calendar = cast.rng, cast.calendar
        cast.orders += 1
        local_day = clock.t.astimezone(calendar.tz).strftime("%Y%m%d")
        story.order_number = (
            f"{local_day}{cast.orders:05d}" if source == "hotline_12345" else f"双政交〔2026〕{cast.orders}号"
        )
        story.event = await workorders.enter(
            cast.session,
            workorders.OrderInput(
                channel=source,
                external_number=story.order_number,
                title=story.title,
                category_code=story.sub,
                node_id=node.id,
                description=("来电人反映：" if source == "hotline_12345" else "") + story.description,
                external_category=HOTLINE_CATEGORIES[story.cls] if source == "hotline_12345" else "",
                issuer="承德市12345政务服务便民热线" if source == "hotline_12345" else rng.choice(SUPERIORS),
                due_at=sla.add_working_hours(clock.t, rng.choice((16, 24, 40)), calendar),
                address=node.name,
                caller_name=rng.choice(APPLICANTS) if source == "hotline_12345" else "",
            ),
            cast.hotline,
            now=clock.t,
        )
        story.event.lon, story.event.lat = story.lon, story.lat
        return
    story.event = await sv.report_event(
        cast.session,
        title=story.title,
        category_code=story.sub,
        node_id=node.id,
        source=source,
        actor=story.reporter,
        description=story.description,
        lon=story.lon,
        lat=story.lat,
        address=node.name,
        now=clock.t,
    )


async def _route(cast: _Cast, story: _Story) -> None:
    """Where the catalogue sends it, and who accepts, dispatches and handles it there."""
    target = await sv.dispatch_target(cast.session, story.event)
    unit = story.unit = target.unit if target is not None else None
    story.top_down = story.source in ("hotline_12345", "superior")
    # 小事不出网格: in 双安社区 most small things go to the grid worker; otherwise the unit's
    # member (community staff, the 街道 officer, a department's clerk) signs for them.
    # (the demo grid worker acts in their own grid only: tasks elsewhere would not be theirs)
    own_grid = cast.nodes.get(DEMO_GRID)
    mine = own_grid is not None and story.node.path.startswith(own_grid.path)
    worker = cast.worker
    story.to_grid = unit is not None and unit.level == 3 and mine and worker is not None and cast.rng.random() < 0.8
    story.handler = (
        worker if story.to_grid and worker is not None else cast.workers.get(unit.code if unit else "", cast.admin)
    )
    story.dispatcher = cast.staff if unit is not None and unit.level == 3 and not story.top_down else cast.admin
    story.accepter = cast.admin if story.top_down else cast.staff


async def _step(cast: _Cast, story: _Story, action: str, who: Actor, long: bool = False, **kw: Any) -> None:
    await _go(cast.session, story.event, story.clock, action, who, long=long, **kw)


def _stays_open(cast: _Cast, story: _Story, *scenarios: str) -> bool:
    """True when the story ends here with the event still open (the worklists show it)."""
    if story.scenario in scenarios:
        cast.open_events.append(story.event)
        return True
    return False


async def _until_dispatch(cast: _Cast, story: _Story) -> bool:
    """Merge, reject, accept, register, or park before dispatch; False when the story ends here."""
    scenario, accepter = story.scenario, story.accepter
    if scenario == "merged":
        targets = [e for e in cast.open_events if e.state in {s.value for s in OPEN} and e.merged_into_id is None]
        if targets:
            await _step(cast, story, "merge", accepter, into=cast.rng.choice(targets), note="重复上报，并单处理")
        return False
    if _stays_open(cast, story, "reported"):
        return False
    if scenario == "rejected":
        if cast.rng.random() < 0.5:
            await _step(cast, story, "accept", accepter)
        await _step(cast, story, "reject", accepter, note="经核实不属于受理范围")
        return False
    await _step(cast, story, "accept", accepter, long=True)
    if _stays_open(cast, story, "accepted"):
        return False
    await _step(cast, story, "register", accepter)
    if _stays_open(cast, story, "registered"):
        return False
    if scenario == "parked" and cast.rng.random() < 0.5:
        await _step(cast, story, "request_park", accepter, note="需专项资金，申请挂账")
        await _step(cast, story, "approve_park", cast.officer)
        return False
    return True


async def _until_handled(cast: _Cast, story: _Story) -> bool:
    """Dispatch, sign and handle (returns, parking, extensions on the way); False when it ends here."""
    scenario, handler, officer = story.scenario, story.handler, cast.officer
    dispatch: dict[str, Any] = {"unit_id": story.unit.id} if story.unit is not None else {}
    if story.to_grid and cast.worker is not None:
        dispatch["assignee_user_id"] = cast.worker.id
    await _step(cast, story, "dispatch", story.dispatcher, long=True, **dispatch)
    if _stays_open(cast, story, "dispatched"):
        return False
    if scenario == "closed_returned":
        await _step(cast, story, "return", handler, note="不属于本单位职责，退回重派")
        await _step(cast, story, "dispatch", story.dispatcher, **dispatch)
    await _step(cast, story, "sign", handler)
    if _stays_open(cast, story, "signed"):
        return False
    await _step(cast, story, "handle", handler)
    if scenario == "parked":
        await _step(cast, story, "request_park", handler, note="涉及规划调整，申请挂账")
        await _step(cast, story, "approve_park", officer)
        return False
    if scenario == "handling_pending":
        await _step(cast, story, "request_extension", handler, note="需协调产权单位，申请延期", hours=16)
        cast.open_events.append(story.event)
        return False
    if scenario == "closed_extended":
        await _step(cast, story, "request_extension", handler, note="材料未到，申请延期", hours=16)
        await _step(cast, story, "approve_extension", officer)
    if scenario == "handling":
        if cast.rng.random() < 0.4:
            await _step(cast, story, "supervise", officer, note="请加快处置")
        cast.open_events.append(story.event)
        return False
    return True


async def _until_closed(cast: _Cast, story: _Story) -> bool:
    """Feedback, inspection (a rework on the way), pass and close; False when it ends open."""
    handler, photo = story.handler, cast.photo
    await _step(cast, story, "feedback", handler, long=True, photos=[photo.id], note=result(story.sub))
    if _stays_open(cast, story, "feedback"):
        return False
    unit = story.unit
    inspector = cast.admin if unit is None or unit.level < 3 or story.top_down else cast.staff
    await _step(cast, story, "inspect", inspector)
    if story.scenario == "closed_rework":
        await _step(cast, story, "rework", inspector, note="现场仍有遗留，返工")
        await _step(cast, story, "feedback", handler, photos=[photo.id], note="返工完成，已清理到位")
        await _step(cast, story, "inspect", inspector)
    if _stays_open(cast, story, "inspecting"):
        return False
    await _step(cast, story, "pass", inspector)
    if _stays_open(cast, story, "inspected"):
        return False
    await _step(cast, story, "close", inspector)
    return True


async def _evaluate(cast: _Cast, story: _Story) -> None:
    """After closing: 12345's caller answers the hotline's call, a resident rates, or staff revisit."""
    from plugins.smart_service import workorders

    rng = cast.rng
    if story.source == "hotline_12345":
        answer = rng.choice(("satisfied",) * 8 + ("basically",))
        await workorders.evaluate(
            cast.session, story.source, story.order_number, answer, "", cast.hotline, now=story.clock.step()
        )
    elif story.reporter.name == "resident" and rng.random() < 0.8:
        rating = rng.choice((5, 5, 5, 4, 4, 4, 3, 2, 1))
        await _step(cast, story, "rate", story.reporter, rating=rating, note="处理及时" if rating >= 4 else "不太满意")
    elif rng.random() < 0.3:
        await _step(cast, story, "revisit", cast.staff, note="电话回访，群众认可", rating=rng.choice((4, 5)))


async def _go(
    session: AsyncSession, event: Event, clock: Clock, action: str, who: Actor, long: bool = False, **kw: Any
) -> None:
    await sv.transition(session, event, action, who, now=clock.step(long), **kw)
