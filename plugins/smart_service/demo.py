"""Demo data for 服务智治 (the plugin's ``demo_data`` hook): categories in the style of GB/T 30428.2
with per-stage time limits, a working calendar, handling units at three levels with the dispatch
catalogue, and — for 双滦区 — a few hundred events over the last 90 days driven through
``services.transition`` (backdated with ``now=``) so that every state occurs, and ~30 bookings.

It also ensures the Open311 demo key ``demo-open311-key``.

Idempotent: configuration rows are added only where their code is missing; events and bookings
are seeded once, marked by the counter ``demo:smart_service``. Deterministic (a fixed random seed)
apart from the dates, which are relative to the day it runs.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.context import Actor
from core.grids.models import GridNode
from core.identity.models import User
from core.services.files.models import StoredFile
from plugins.smart_service import bookings as bk
from plugins.smart_service import services as sv
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import OPEN
from plugins.smart_service.models import (
    Booking,
    CalendarDay,
    Category,
    Counter,
    DispatchRule,
    Event,
    HandlingUnit,
    WorkCalendar,
)

MARKER = "demo:smart_service"
EVENTS = 300
BOOKINGS = 30
DAYS_BACK = 90
DISTRICT_ROOT = "sl"  # events and bookings are seeded for 双滦区 only
DEMO_COMMUNITY = "sl-ybs-sa"  # 双安社区: the demo grid worker's community
DEMO_GRID = "sl-ybs-sa-g01"  # the demo grid worker's own grid: only its events are assigned to them
CENTRE = (117.79, 40.96)  # 双滦区, when a node has no boundary

LIMITS = {"accept": 2, "dispatch": 4, "sign": 2, "handle": 24, "inspect": 8}
FAST = {"accept": 1, "dispatch": 2, "sign": 1, "handle": 8, "inspect": 4}
URGENT = {"accept": 0.5, "dispatch": 1, "sign": 0.5, "handle": 4, "inspect": 2}

# (code, zh, en, kind, limits, [(sub code, zh, en, urgency)])
CATEGORIES: tuple[tuple[str, str, str, str, dict[str, float], list[tuple[str, str, str, int]]], ...] = (
    (
        "SR",
        "市容环境",
        "City appearance",
        "event",
        FAST,
        [
            ("SR-01", "暴露垃圾", "Exposed rubbish", 1),
            ("SR-02", "积存垃圾渣土", "Accumulated waste and muck", 1),
            ("SR-03", "道路不洁", "Dirty road", 1),
            ("SR-04", "乱贴乱画", "Illegal posters and graffiti", 1),
            ("SR-05", "占道经营", "Street vending on the road", 1),
        ],
    ),
    (
        "JT",
        "道路交通",
        "Roads and traffic",
        "event",
        LIMITS,
        [
            ("JT-01", "违章停车", "Illegal parking", 1),
            ("JT-02", "道路破损", "Damaged road", 2),
            ("JT-03", "交通标志损坏", "Damaged traffic sign", 1),
        ],
    ),
    (
        "YL",
        "园林绿化",
        "Parks and greenery",
        "event",
        LIMITS,
        [
            ("YL-01", "绿地脏乱", "Untidy green space", 1),
            ("YL-02", "树木倒伏", "Fallen tree", 2),
            ("YL-03", "绿化带毁坏", "Damaged green belt", 1),
        ],
    ),
    (
        "SS",
        "公共设施",
        "Public facilities",
        "component",
        LIMITS,
        [
            ("SS-01", "井盖缺失破损", "Missing or broken manhole cover", 3),
            ("SS-02", "路灯不亮", "Street light out", 1),
            ("SS-03", "健身器材损坏", "Broken fitness equipment", 1),
            ("SS-04", "垃圾箱损坏", "Broken litter bin", 1),
        ],
    ),
    (
        "ZA",
        "社会治安",
        "Public order",
        "event",
        FAST,
        [
            ("ZA-01", "噪声扰民", "Noise nuisance", 1),
            ("ZA-02", "群租安全隐患", "Overcrowded rental hazard", 2),
            ("ZA-03", "邻里纠纷", "Neighbour dispute", 1),
        ],
    ),
    (
        "MS",
        "民生服务",
        "Livelihood services",
        "event",
        LIMITS,
        [
            ("MS-01", "供暖不热", "Heating not warm", 2),
            ("MS-02", "停水停电", "Water or power cut", 2),
            ("MS-03", "物业服务", "Property management", 1),
        ],
    ),
)

# 2026 public holidays and 调休 working days (demo: check the State Council's notice each year).
CALENDAR_DAYS: tuple[tuple[str, bool, str], ...] = (
    ("2026-01-01", False, "元旦"),
    ("2026-01-02", False, "元旦"),
    ("2026-01-04", True, "元旦调休"),
    ("2026-02-16", False, "春节"),
    ("2026-02-17", False, "春节"),
    ("2026-02-18", False, "春节"),
    ("2026-02-19", False, "春节"),
    ("2026-02-20", False, "春节"),
    ("2026-02-23", False, "春节"),
    ("2026-02-14", True, "春节调休"),
    ("2026-02-28", True, "春节调休"),
    ("2026-05-01", False, "劳动节"),
    ("2026-05-04", False, "劳动节"),
    ("2026-05-05", False, "劳动节"),
    ("2026-05-09", True, "劳动节调休"),
    ("2026-06-19", False, "端午节"),
    ("2026-09-25", False, "中秋节"),
    ("2026-10-01", False, "国庆节"),
    ("2026-10-02", False, "国庆节"),
    ("2026-10-05", False, "国庆节"),
    ("2026-10-06", False, "国庆节"),
    ("2026-10-07", False, "国庆节"),
    ("2026-09-20", True, "国庆节调休"),
    ("2026-10-10", True, "国庆节调休"),
)

TITLES = {
    "SR": ["楼下垃圾没人清", "小区门口垃圾堆积", "路面有建筑渣土", "墙上有小广告", "商贩占道摆摊"],
    "JT": ["车辆堵住消防通道", "路面坑洼", "交通标志倒了"],
    "YL": ["绿地里有垃圾", "大风刮倒树木", "绿化带被踩坏"],
    "SS": ["井盖缺失有危险", "路灯晚上不亮", "健身器材坏了", "垃圾桶破损"],
    "ZA": ["夜间施工噪声大", "出租屋住人太多", "邻居占用楼道"],
    "MS": ["家里暖气不热", "小区停水", "物业不处理报修"],
}

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


async def seed(
    session: AsyncSession, tenant: Any, nodes: Mapping[str, GridNode], *, events: int = EVENTS, storage: Any = None
) -> dict[str, int]:
    """Seed the tenant (the session is bound to it); returns what was added."""
    added = {
        "categories": await _categories(session),
        "calendar": await _calendar(session),
    }
    added["units"], added["rules"] = await _units(session, nodes)
    # The Open311 demo client's key (open311_keys.py; demo only, documented in the README).
    from plugins.smart_service.open311_keys import ensure_api_key

    await ensure_api_key(session, "demo-open311-key", "Open311 demo")
    await session.flush()
    # Events carry real photo files (feedback needs an "after" photo): seeded only with a storage.
    if DISTRICT_ROOT in nodes and storage is not None and not await _seeded(session):
        users = await _users(session)
        if users:
            # Demo stories are not anyone's actions: the timelines say who did what; the audit log
            # would only repeat thousands of invented rows (and take most of the seeding time).
            before, session.info["no_audit"] = session.info.get("no_audit"), True
            try:
                photo = await _demo_photo(session, tenant, storage)
                added["events"] = await _events(session, nodes, users, events, photo)
                added["bookings"] = await _bookings(session, nodes, users)
            finally:
                session.info["no_audit"] = before
        session.add(Counter(key=MARKER, value=1))
        await session.flush()
    return added


async def _seeded(session: AsyncSession) -> bool:
    return (await session.execute(select(Counter.id).where(Counter.key == MARKER))).first() is not None


async def _categories(session: AsyncSession) -> int:
    have = set((await session.execute(select(Category.code))).scalars())
    n = 0
    for pos, (code, zh, en, kind, limits, _subs) in enumerate(CATEGORIES):
        if code not in have:
            session.add(Category(code=code, kind=kind, name_zh=zh, name_en=en, time_limits=limits, position=pos * 100))
            n += 1
    await session.flush()
    for pos, (code, _zh, _en, kind, limits, subs) in enumerate(CATEGORIES):
        for i, (sub, zh, en, urgency) in enumerate(subs):
            if sub not in have:
                session.add(
                    Category(
                        code=sub,
                        parent_code=code,
                        kind=kind,
                        name_zh=zh,
                        name_en=en,
                        urgency=urgency,
                        time_limits=limits,
                        urgent_time_limits=URGENT,
                        position=pos * 100 + i + 1,
                    )
                )
                n += 1
    return n


async def _calendar(session: AsyncSession) -> int:
    n = 0
    if (await session.execute(select(WorkCalendar.id))).first() is None:
        session.add(WorkCalendar())
        n += 1
    have = set((await session.execute(select(CalendarDay.day))).scalars())
    for day, working, note in CALENDAR_DAYS:
        if date.fromisoformat(day) not in have:
            session.add(CalendarDay(day=date.fromisoformat(day), working=working, note=note))
            n += 1
    return n


def _root(nodes: Mapping[str, GridNode]) -> GridNode | None:
    return min(nodes.values(), key=lambda n: (n.depth, n.code), default=None)


async def _units(session: AsyncSession, nodes: Mapping[str, GridNode]) -> tuple[int, int]:
    """区指挥中心 (level 1), each 街道/镇 (level 2), each 社区 of the first 街道 (level 3), and a
    catalogue row per unit for its area and any category (the lowest level that has one wins)."""
    root = _root(nodes)
    if root is None:
        return 0, 0
    children = sorted((n for n in nodes.values() if n.parent_id == root.id), key=lambda n: n.code)
    first = next((n for n in children if n.kind == "subdistrict"), children[0] if children else None)
    communities = sorted(
        (n for n in nodes.values() if first is not None and n.parent_id == first.id and n.kind == "community"),
        key=lambda n: n.code,
    )
    wanted = [(root, 1, "区指挥中心", "District command centre")]
    wanted += [(n, 2, n.name, n.name_en) for n in children]
    wanted += [(n, 3, n.name + "居委会", (n.name_en + " committee") if n.name_en else "") for n in communities]
    units = {u.code: u for u in (await session.execute(select(HandlingUnit))).scalars()}
    rules = {(r.unit_id, r.node_id, r.category_code) for r in (await session.execute(select(DispatchRule))).scalars()}
    added_units = added_rules = 0
    for node, level, name, name_en in wanted:
        code = f"unit-{node.code}"
        unit = units.get(code)
        if unit is None:
            unit = HandlingUnit(
                id=new_id(), code=code, name=name, name_en=name_en, level=level, node_id=node.id, node_path=node.path
            )
            session.add(unit)
            units[code] = unit
            added_units += 1
    await session.flush()  # units before the rules that point at them (no ORM relationship orders them)
    for node, _level, _name, _name_en in wanted:
        unit = units[f"unit-{node.code}"]
        if (unit.id, node.id, None) not in rules:
            session.add(DispatchRule(category_code=None, node_id=node.id, node_path=node.path, unit_id=unit.id))
            added_rules += 1
    return added_units, added_rules


async def _users(session: AsyncSession) -> dict[str, Actor]:
    names = ("admin", "community", "community_worker", "grid_worker", "grid_leader", "resident", "subdistrict_officer")
    rows = await session.execute(select(User.id, User.username).where(User.username.in_(names)))
    found = {username: Actor("user", uid, username) for uid, username in rows.all()}
    return found if {"admin", "resident"} <= set(found) else {}


def _point(node: GridNode, nodes_by_id: Mapping[int, GridNode], rng: random.Random) -> tuple[Decimal, Decimal]:
    """A point inside the node's boundary box (or its nearest ancestor's), else near the district centre."""
    current: GridNode | None = node
    while current is not None:
        ring = _ring(current.boundary)
        if ring:
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            lon = rng.uniform(min(lons), max(lons)) * 0.6 + (sum(lons) / len(lons)) * 0.4
            lat = rng.uniform(min(lats), max(lats)) * 0.6 + (sum(lats) / len(lats)) * 0.4
            return Decimal(f"{lon:.6f}"), Decimal(f"{lat:.6f}")
        current = nodes_by_id.get(current.parent_id) if current.parent_id else None
    return Decimal(f"{CENTRE[0] + rng.uniform(-0.05, 0.05):.6f}"), Decimal(
        f"{CENTRE[1] + rng.uniform(-0.03, 0.03):.6f}"
    )


def _ring(boundary: Any) -> list[list[float]]:
    if not isinstance(boundary, dict):
        return []
    geometry = boundary.get("geometry", boundary)
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    try:
        if kind == "Polygon":
            return [list(map(float, p[:2])) for p in coords[0]]
        if kind == "MultiPolygon":
            return [list(map(float, p[:2])) for p in coords[0][0]]
    except (TypeError, IndexError, ValueError):
        return []
    return []


class _Clock:
    """Moves an event's story forward in time: a few working-ish hours per step, now and then a long
    wait (which breaches the stage's limit), never past the present."""

    def __init__(self, start: datetime, rng: random.Random, late: bool, limit: datetime) -> None:
        self.t, self.rng, self.late, self.limit = start, rng, late, limit

    def step(self, long: bool = False) -> datetime:
        hours = self.rng.uniform(0.2, 3.0)
        if long and self.late:
            hours += self.rng.uniform(60, 140)
        self.t = min(self.t + timedelta(hours=hours), self.limit)
        return self.t


async def _demo_photo(session: AsyncSession, tenant: Any, storage: Any) -> StoredFile:
    """One real JPEG (a plain picture with a caption band) shared by the demo's feedback steps."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (120, 160, 110))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 400, 640, 480), fill=(40, 60, 40))
    draw.text((20, 430), "demo: after handling", fill=(255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    photo = await storage.save(
        session,
        tenant.id,
        data=buf.getvalue(),
        filename="after-1.jpg",
        content_type="image/jpeg",
        owner_type="smart_service.event",
    )
    await session.flush()
    return photo


async def _events(
    session: AsyncSession, nodes: Mapping[str, GridNode], users: dict[str, Actor], count: int, photo: StoredFile
) -> int:
    rng = random.Random(20261127)
    now = utcnow()
    root = nodes[DISTRICT_ROOT]
    by_id = {n.id: n for n in nodes.values()}
    places = [n for n in nodes.values() if n.kind in ("grid", "village") and n.path.startswith(root.path)]
    community = nodes.get(DEMO_COMMUNITY)
    demo_places = [n for n in places if community is not None and n.path.startswith(community.path)]
    subs = [(sub, code) for code, *_rest, subs_ in CATEGORIES for sub, *_x in subs_]
    unit_of = {u.node_id: u for u in (await session.execute(select(HandlingUnit))).scalars()}
    admin = users["admin"]
    staff = users.get("community", admin)
    officer = users.get("subdistrict_officer", admin)
    worker = users.get("grid_worker")
    names = [s for s, _w in SCENARIOS]
    weights = [w for _s, w in SCENARIOS]
    plan = sorted(rng.choices(names, weights, k=count), key=lambda s: s == "merged")  # merges last
    open_events: list[Event] = []
    made = 0
    for scenario in plan:
        in_demo = bool(demo_places) and rng.random() < 0.3
        node = rng.choice(demo_places if in_demo else places)
        sub, cls = rng.choice(subs)
        final = scenario.startswith("closed") or scenario in ("rejected", "merged")
        age = timedelta(days=rng.uniform(1.0, DAYS_BACK)) if final else timedelta(hours=rng.uniform(0.5, 96))
        late = rng.random() < 0.2
        clock = _Clock(now - age, rng, late, now - timedelta(minutes=1))
        reporter = users["resident"] if rng.random() < 0.45 else users.get("grid_worker", admin)
        lon, lat = _point(node, by_id, rng)
        event = await sv.report_event(
            session,
            title=rng.choice(TITLES[cls]),
            category_code=sub,
            node_id=node.id,
            source="resident" if reporter.name == "resident" else "grid_patrol",
            actor=reporter,
            description="演示数据",
            lon=lon,
            lat=lat,
            address=node.name,
            now=clock.t,
        )
        made += 1
        own_grid = nodes.get(DEMO_GRID)
        mine = own_grid is not None and node.path.startswith(own_grid.path)
        assignee = worker if in_demo and mine and worker is not None else None
        handler = assignee or admin
        unit = _unit_for(node, by_id, unit_of)

        if scenario == "merged":
            targets = [e for e in open_events if e.state in {s.value for s in OPEN} and e.merged_into_id is None]
            if targets:
                await _go(session, event, clock, "merge", staff, into=rng.choice(targets), note="重复上报，并单处理")
            continue
        if scenario == "reported":
            open_events.append(event)
            continue
        if scenario == "rejected":
            if rng.random() < 0.5:
                await _go(session, event, clock, "accept", staff)
            await _go(session, event, clock, "reject", staff, note="经核实不属于受理范围")
            continue
        await _go(session, event, clock, "accept", staff, long=True)
        if scenario == "accepted":
            open_events.append(event)
            continue
        await _go(session, event, clock, "register", staff)
        if scenario == "registered":
            open_events.append(event)
            continue
        if scenario == "parked" and rng.random() < 0.5:
            await _go(session, event, clock, "request_park", staff, note="需专项资金，申请挂账")
            await _go(session, event, clock, "approve_park", officer)
            continue
        dispatch: dict[str, Any] = {"unit_id": unit.id} if unit is not None else {}
        if assignee is not None:
            dispatch["assignee_user_id"] = assignee.id
        await _go(session, event, clock, "dispatch", staff, long=True, **dispatch)
        if scenario == "dispatched":
            open_events.append(event)
            continue
        if scenario == "closed_returned":
            await _go(session, event, clock, "return", handler, note="不属于本网格，退回重派")
            await _go(session, event, clock, "dispatch", staff, **dispatch)
        await _go(session, event, clock, "sign", handler)
        if scenario == "signed":
            open_events.append(event)
            continue
        await _go(session, event, clock, "handle", handler)
        if scenario == "parked":
            await _go(session, event, clock, "request_park", handler, note="涉及规划调整，申请挂账")
            await _go(session, event, clock, "approve_park", officer)
            continue
        if scenario == "handling_pending":
            await _go(session, event, clock, "request_extension", handler, note="需协调产权单位，申请延期", hours=16)
            open_events.append(event)
            continue
        if scenario == "closed_extended":
            await _go(session, event, clock, "request_extension", handler, note="材料未到，申请延期", hours=16)
            await _go(session, event, clock, "approve_extension", officer)
        if scenario == "handling":
            if rng.random() < 0.4:
                await _go(session, event, clock, "supervise", officer, note="请加快处置")
            open_events.append(event)
            continue
        await _go(session, event, clock, "feedback", handler, long=True, photos=[photo.id], note="已处置完毕")
        if scenario == "feedback":
            open_events.append(event)
            continue
        await _go(session, event, clock, "inspect", staff)
        if scenario == "closed_rework":
            await _go(session, event, clock, "rework", staff, note="现场仍有遗留，返工")
            await _go(session, event, clock, "feedback", handler, photos=[photo.id], note="返工完成")
            await _go(session, event, clock, "inspect", staff)
        if scenario == "inspecting":
            open_events.append(event)
            continue
        await _go(session, event, clock, "pass", staff)
        if scenario == "inspected":
            open_events.append(event)
            continue
        await _go(session, event, clock, "close", staff)
        if reporter.name == "resident" and rng.random() < 0.8:
            rating = rng.choice((5, 5, 5, 4, 4, 4, 3, 2, 1))
            await _go(
                session, event, clock, "rate", reporter, rating=rating, note="处理及时" if rating >= 4 else "不太满意"
            )
        elif rng.random() < 0.3:
            await _go(session, event, clock, "revisit", staff, note="电话回访，群众认可", rating=rng.choice((4, 5)))
    return made


async def _go(
    session: AsyncSession, event: Event, clock: _Clock, action: str, who: Actor, long: bool = False, **kw: Any
) -> None:
    await sv.transition(session, event, action, who, now=clock.step(long), **kw)


def _unit_for(
    node: GridNode, by_id: Mapping[int, GridNode], unit_of: Mapping[int | None, HandlingUnit]
) -> HandlingUnit | None:
    current: GridNode | None = node
    while current is not None:
        if current.id in unit_of:
            return unit_of[current.id]
        current = by_id.get(current.parent_id) if current.parent_id else None
    return None


APPLICANTS = ("王秀兰", "李建国", "张桂芳", "刘德明", "陈玉珍", "杨淑华", "赵志强", "孙凤英", "周国庆", "吴翠花")


async def _bookings(session: AsyncSession, nodes: Mapping[str, GridNode], users: dict[str, Actor]) -> int:
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
