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
from dataclasses import dataclass, field
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

# What people report, per sub-category: (title, description) as a grid worker or a resident writes it.
REPORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "SR-01": (
        ("楼下垃圾桶满溢", "3号楼东侧垃圾桶已满，垃圾散落一地，气味很大，请尽快清运。"),
        ("单元门口堆放生活垃圾", "2单元门口有住户堆放的生活垃圾袋，已放两天。"),
    ),
    "SR-02": (
        ("装修垃圾堆在路边", "小区北门外人行道上堆了一堆装修渣土，占用通道，刮风扬尘。"),
        ("渣土未覆盖", "空地上的建筑渣土没有苫盖，附近居民反映扬尘严重。"),
    ),
    "SR-03": (
        ("路面油污", "菜市场门口路面有大片油污，行人容易滑倒。"),
        ("道路遗撒", "运输车辆沿路遗撒泥土约50米，需冲洗。"),
    ),
    "SR-04": (
        ("墙面小广告", "楼道墙面贴满开锁、疏通小广告，影响环境。"),
        ("电线杆乱贴乱画", "路口电线杆上喷涂办证电话，需清理。"),
    ),
    "SR-05": (
        ("商贩占道摆摊", "早市商贩在主路两侧摆摊，占用机动车道，高峰期拥堵。"),
        ("店外经营", "烧烤店把桌椅摆到人行道上经营，行人只能走机动车道。"),
    ),
    "JT-01": (
        ("车辆堵住消防通道", "小区消防通道被私家车长期占用，车牌已拍照。"),
        ("人行道违停", "学校门口人行道停满车辆，学生只能走马路。"),
    ),
    "JT-02": (
        ("路面坑洼", "滦河大街与兴业路交叉口路面塌陷约1平方米，车辆颠簸。"),
        ("路沿石破损", "公交站旁路沿石断裂，边缘锋利。"),
    ),
    "JT-03": (
        ("交通标志倒了", "路口限速标志被撞倒，横在人行道上。"),
        ("标线模糊", "学校门前斑马线磨损看不清。"),
    ),
    "YL-01": (
        ("绿地里有垃圾", "游园绿地内塑料袋、饮料瓶较多。"),
        ("绿化带杂草丛生", "小区中心绿地杂草超过半米，蚊虫多。"),
    ),
    "YL-02": (
        ("大风刮倒树木", "昨夜大风，路边一棵杨树倒伏压在围墙上，存在安全隐患。"),
        ("树枝断裂悬挂", "楼前大树一根粗枝断裂挂在半空，下面是儿童游乐区。"),
    ),
    "YL-03": (
        ("绿化带被踩出小路", "居民抄近道把绿化带踩出一条土路。"),
        ("绿化带被毁种菜", "有住户在公共绿地里开荒种菜，破坏草坪。"),
    ),
    "SS-01": (
        ("井盖缺失有危险", "人行道上一个雨水井盖缺失，已临时放了砖头提示，夜间很危险。"),
        ("井盖破损下沉", "机动车道井盖破裂下沉，车辆经过声响很大。"),
    ),
    "SS-02": (
        ("路灯晚上不亮", "小区主路5盏路灯连续一周不亮，老人晚上出门不方便。"),
        ("路灯白天常亮", "街心公园路灯白天也亮着，浪费电。"),
    ),
    "SS-03": (
        ("健身器材坏了", "广场上的漫步机踏板断裂，有老人差点摔倒。"),
        ("单杠松动", "健身区单杠底座松动，摇晃明显。"),
    ),
    "SS-04": (
        ("垃圾桶破损", "分类垃圾桶桶盖脱落、桶身开裂。"),
        ("果皮箱缺失", "公交站果皮箱被撞坏拆走，一直没补。"),
    ),
    "ZA-01": (
        ("夜间施工噪声大", "晚上10点后工地还在施工，噪声扰民。"),
        ("广场舞音响太响", "晚上广场舞音响音量很大，影响住户休息。"),
    ),
    "ZA-02": (
        ("出租屋住人太多", "4号楼一套两居室隔成多间出租，住了十余人，楼道堆放电动车电池。"),
        ("群租房私拉电线", "出租屋从窗户私拉电线给电动车充电，存在火灾隐患。"),
    ),
    "ZA-03": (
        ("邻居占用楼道", "对门邻居长期在楼道堆放杂物，沟通无果，请社区协调。"),
        ("楼上漏水纠纷", "楼上卫生间漏水到我家，双方协商不成。"),
    ),
    "MS-01": (
        ("家里暖气不热", "室温只有15度，已找供热公司报修未解决。"),
        ("整栋楼暖气不热", "7号楼多户反映暖气不热，怀疑管道堵塞。"),
    ),
    "MS-02": (
        ("小区停水", "小区突然停水，未见停水通知，老人做饭困难。"),
        ("单元停电", "3单元楼道和部分住户停电已半天。"),
    ),
    "MS-03": (
        ("物业不处理报修", "楼道灯坏了一个月，多次找物业未修。"),
        ("电梯频繁故障", "电梯本月已停运三次，物业维修不及时。"),
    ),
}
# 12345 categories (as the hotline files them) for the demo's orders.
HOTLINE_CATEGORIES = {
    "SR": "城乡建设/市容环境",
    "JT": "交通运输/道路设施",
    "YL": "城乡建设/园林绿化",
    "SS": "城乡建设/市政设施",
    "ZA": "公共安全/社会治安",
    "MS": "城乡建设/供水供热",
}
SUPERIORS = ("区委政法委", "区城市管理委员会", "市12345督办", "区政府办公室")

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


# 区直部门 (level 2, district-wide): code, name, English name.
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("dept-cgj", "区城市管理综合行政执法局", "Urban management bureau"),
    ("dept-zjj", "区住房和城乡建设局", "Housing and construction bureau"),
    ("dept-jtj", "区交通运输局", "Transport bureau"),
)
# 派单目录 by category (GB/T 30428.2 style): "小事不出网格、大事不出社区" — the community keeps the
# small things, 街道 what needs the sub-district's powers, departments what only they can do;
# anything else reaches the command centre. (category, "community" | "subdistrict" | department code)
CATALOGUE: tuple[tuple[str, str], ...] = (
    ("SR-01", "community"),
    ("SR-02", "community"),
    ("SR-03", "community"),
    ("YL-01", "community"),
    ("YL-03", "community"),
    ("SS-02", "community"),
    ("SS-03", "community"),
    ("SS-04", "community"),
    ("ZA-01", "community"),
    ("ZA-03", "community"),
    ("MS-03", "community"),
    ("ZA-02", "subdistrict"),
    ("SR-04", "subdistrict"),
    ("JT-03", "subdistrict"),
    ("SR-05", "dept-cgj"),
    ("JT-01", "dept-cgj"),
    ("SS-01", "dept-zjj"),
    ("MS-01", "dept-zjj"),
    ("MS-02", "dept-zjj"),
    ("YL-02", "dept-zjj"),
    ("JT-02", "dept-jtj"),
)
# Demo accounts that work a unit's queue: username → unit code ("unit-<node code>" or a department).
MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("chengguan", "dept-cgj", "执法队员"),
    ("zhujian", "dept-zjj", "科员"),
    ("subdistrict_officer", "unit-sl-ybs", "综治办干部"),
    ("community", "unit-sl-ybs-sa", "社区书记"),
    ("community_worker", "unit-sl-ybs-sa", "社区工作者"),
)


async def _units(session: AsyncSession, nodes: Mapping[str, GridNode]) -> tuple[int, int]:
    """区指挥中心 (level 1), each 街道/镇 and the 区直部门 (level 2), each 社区 of the first 街道
    (level 3); the catalogue: the centre takes anything, each 街道/社区 the categories above for its
    area, each department its categories district-wide. Members of the demo's units."""
    from plugins.smart_service.work_models import UnitMember

    root = _root(nodes)
    if root is None:
        return 0, 0
    children = sorted((n for n in nodes.values() if n.parent_id == root.id), key=lambda n: n.code)
    # Community units where the demo's people work (元宝山街道 in 双滦区), else in the first 街道.
    home = nodes.get(DEMO_COMMUNITY)
    first = next((n for n in children if home is not None and n.id == home.parent_id), None) or next(
        (n for n in children if n.kind == "subdistrict"), children[0] if children else None
    )
    communities = sorted(
        (n for n in nodes.values() if first is not None and n.parent_id == first.id and n.kind == "community"),
        key=lambda n: n.code,
    )
    wanted: list[tuple[str, GridNode | None, int, str, str]] = [
        (f"unit-{root.code}", root, 1, "区指挥中心", "District command centre")
    ]
    wanted += [(f"unit-{n.code}", n, 2, n.name, n.name_en) for n in children]
    wanted += [(code, None, 2, name, en) for code, name, en in DEPARTMENTS]
    wanted += [
        (f"unit-{n.code}", n, 3, n.name + "居委会", (n.name_en + " committee") if n.name_en else "")
        for n in communities
    ]
    units = {u.code: u for u in (await session.execute(select(HandlingUnit))).scalars()}
    rules = {(r.unit_id, r.node_id, r.category_code) for r in (await session.execute(select(DispatchRule))).scalars()}
    added_units = added_rules = 0
    for code, node, level, name, name_en in wanted:
        if code not in units:
            unit = HandlingUnit(
                id=new_id(),
                code=code,
                name=name,
                name_en=name_en,
                level=level,
                node_id=node.id if node else None,
                node_path=node.path if node else None,
            )
            session.add(unit)
            units[code] = unit
            added_units += 1
    await session.flush()  # units before the rules that point at them (no ORM relationship orders them)

    def rule(unit: HandlingUnit, node: GridNode, category: str | None) -> None:
        nonlocal added_rules
        if (unit.id, node.id, category) not in rules:
            session.add(DispatchRule(category_code=category, node_id=node.id, node_path=node.path, unit_id=unit.id))
            rules.add((unit.id, node.id, category))
            added_rules += 1

    rule(units[f"unit-{root.code}"], root, None)
    for category, target in CATALOGUE:
        if target == "community":
            for n in communities:
                rule(units[f"unit-{n.code}"], n, category)
            for n in children:  # elsewhere the 街道/镇 office keeps them (no community units there)
                if n is not first:
                    rule(units[f"unit-{n.code}"], n, category)
        elif target == "subdistrict":
            for n in children:
                rule(units[f"unit-{n.code}"], n, category)
        else:
            rule(units[target], root, category)
    have = {(m.unit_id, m.user_id) for m in (await session.execute(select(UnitMember))).scalars()}
    people = dict((await session.execute(select(User.username, User.id))).all())
    for username, unit_code, duty in MEMBERS:
        unit = units.get(unit_code)
        user_id = people.get(username)
        if unit is not None and user_id is not None and (unit.id, user_id) not in have:
            session.add(UnitMember(unit_id=unit.id, user_id=user_id, duty=duty))
    return added_units, added_rules


async def _users(session: AsyncSession) -> dict[str, Actor]:
    names = (
        "admin",
        "community",
        "community_worker",
        "grid_worker",
        "grid_leader",
        "resident",
        "subdistrict_officer",
        "chengguan",
        "zhujian",
        "hotline",
    )
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
    """Moves an event's story forward in working time (staff act in office hours): minutes per step,
    now and then a long wait (which breaches the stage's limit), never past the last working moment."""

    def __init__(
        self, start: datetime, rng: random.Random, late: bool, limit: datetime, calendar: sla.Calendar
    ) -> None:
        self.t, self.rng, self.late, self.limit, self.calendar = start, rng, late, limit, calendar

    def step(self, long: bool = False) -> datetime:
        hours = self.rng.uniform(0.05, 0.45)  # within the tightest limits (特急 受理: half an hour)
        if long and self.late:
            hours += self.rng.uniform(30, 60)
        self.t = min(sla.add_working_hours(self.t, hours, self.calendar), self.limit)
        return self.t


def _last_working_moment(now: datetime, calendar: sla.Calendar) -> datetime:
    """The latest moment of working time before ``now`` (staff do not act at night in the demo)."""
    t = now - timedelta(minutes=1)
    for _ in range(4 * 24 * 4):  # back over a long holiday, by quarter hours
        if sla.add_working_hours(t, 0, calendar) == t:
            return t
        t -= timedelta(minutes=15)
    return now - timedelta(minutes=1)


def _reported_at(now: datetime, age: timedelta, rng: random.Random, calendar: sla.Calendar, staff: bool) -> datetime:
    """When a report came in: staff (patrols, hotline, superiors) in working hours; residents from
    early morning to late evening, weekends too."""
    day = (now - age).astimezone(calendar.tz)
    if staff:
        start = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return sla.add_working_hours(start, rng.uniform(0.1, 7.5), calendar)
    local = day.replace(
        hour=rng.choice((7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21)), minute=rng.randrange(60)
    )
    return local.astimezone(now.tzinfo)


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
    clock: _Clock
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


async def _events(
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
        latest=_last_working_moment(now, calendar),
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
    reported = _reported_at(cast.now, age, rng, cast.calendar, staff=source != "resident")
    created = min(reported, cast.latest - timedelta(minutes=20))
    clock = _Clock(created, rng, rng.random() < 0.04, cast.latest, cast.calendar)
    lon, lat = _point(node, cast.by_id, rng)
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
    await _step(cast, story, "feedback", handler, long=True, photos=[photo.id], note=_result(story.sub))
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


RESULTS = {
    "SR": "已组织保洁清运，现场整洁",
    "JT": "已协调处置，现场恢复通行",
    "YL": "已清理修剪，绿地恢复",
    "SS": "已维修更换，设施恢复使用",
    "ZA": "已上门劝导，当事人承诺整改",
    "MS": "已协调责任单位处理，居民确认恢复",
}


def _result(sub: str) -> str:
    return RESULTS.get(sub.split("-")[0], "已处置完毕")


async def _go(
    session: AsyncSession, event: Event, clock: _Clock, action: str, who: Actor, long: bool = False, **kw: Any
) -> None:
    await sv.transition(session, event, action, who, now=clock.step(long), **kw)


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
