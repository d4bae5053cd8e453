"""The configuration the demo adds to every district: categories in the style of GB/T 30428.2 with
per-stage time limits, the working calendar, handling units at three levels with the dispatch
catalogue (派单目录) and the demo accounts that work a unit's queue. Each row only where its code
is missing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from plugins.smart_service.demo.scene import DEMO_COMMUNITY
from plugins.smart_service.models import CalendarDay, Category, DispatchRule, HandlingUnit, WorkCalendar

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


async def add_categories(session: AsyncSession) -> int:
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


async def add_calendar(session: AsyncSession) -> int:
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


async def add_units(session: AsyncSession, nodes: Mapping[str, GridNode]) -> tuple[int, int]:
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
