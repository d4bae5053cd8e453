"""Demo data for 双滦区 (and a little for 滦平县): 69 全科网格 teams "1+1+X+Y" (a few incomplete), a few
hundred screened disputes, mediation cases in every state with their case-file entries, a handful of
petitions with a lawyer, counselling appointments and special-population registers.

Everything is invented and clearly fictional: names are drawn from common surnames and given names,
times fall in working hours of the last five months. Idempotent: a tenant that has teams is left alone.
Rows are added in bulk (one flush per table) so ``liuzhi demo`` stays quick.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from core.db.base import new_id
from core.tenancy.demo import DEMO_PASSWORD
from core.tenancy.service import ensure_user
from plugins.rule_of_law import rules
from plugins.rule_of_law.common import ZONE
from plugins.rule_of_law.documents import issue_agreement
from plugins.rule_of_law.mediation import OPEN
from plugins.rule_of_law.models import (
    Appointment,
    Case,
    CaseEntry,
    CaseMediator,
    Counter,
    Dispute,
    Petition,
    Screening,
    SpecialPerson,
    SpecialVisit,
    Team,
    TeamMember,
)

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢"
    "蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
)
GIVEN = [
    "建国",
    "秀兰",
    "志强",
    "桂英",
    "海燕",
    "立新",
    "玉兰",
    "春华",
    "文斌",
    "桂芳",
    "国华",
    "淑珍",
    "永刚",
    "丽娟",
    "红梅",
    "德胜",
    "晓东",
    "凤霞",
    "金山",
    "秋菊",
    "振华",
    "慧敏",
    "宝林",
    "雪梅",
    "长青",
    "玉珍",
    "树林",
    "美华",
    "建军",
    "翠兰",
]
PART_TIME_DUTIES = ("网格党支部书记", "楼栋长", "单元长", "物业员工", "党员", "在职党员")
OTHER_DUTIES = ("社区民警", "律师", "志愿者", "司法所干部", "人民调解员")
DISPUTES = {
    "neighbour": (
        "楼上卫生间漏水，楼下顶棚受损，双方多次争吵",
        "楼道堆放杂物堵塞通道，邻里互不相让",
        "空调外机冷凝水滴落邻居窗台",
        "夜间装修噪音扰民引发口角",
    ),
    "family": ("兄弟姐妹之间因老人赡养费分担发生争执", "夫妻因家务和子女教育长期不和", "老人房产由谁继承家属意见不一"),
    "property": (
        "业主认为物业服务不到位拒交物业费",
        "车位被占用，业主与物业公司发生纠纷",
        "电梯故障频繁，业主要求物业公司维修",
    ),
    "labour": ("装修工人被拖欠工资三个月", "小区保洁员与物业公司就加班费发生争议"),
    "land": ("村民之间因宅基地边界发生争议", "院墙翻建占用公共通道"),
    "contract": ("个人借款到期未还，双方对利息认识不一", "家电维修后再次损坏，双方就赔偿发生争执"),
    "other": ("宠物犬未拴绳惊吓老人", "小区广场舞音量过大影响休息"),
}
KIND_WEIGHTS = {"neighbour": 40, "family": 18, "property": 20, "labour": 6, "land": 6, "contract": 6, "other": 4}
# How many cases end in each state (every state represented).
CASE_STATES = {
    "pending": 8,
    "accepted": 8,
    "investigating": 8,
    "mediating": 12,
    "refused": 6,
    "terminated": 12,
    "agreed": 20,
    "followed_up": 40,
}
TEAMS = 69
INCOMPLETE = 7


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _working_time(rng: random.Random, day: date) -> datetime:
    """A moment in working hours on ``day`` (moved to the Friday before when it falls on a weekend)."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    minutes = rng.choice([rng.randint(8 * 60 + 40, 11 * 60 + 40), rng.randint(14 * 60, 17 * 60 + 10)])
    local = datetime.combine(day, time(minutes // 60, minutes % 60), ZONE)
    return local.astimezone(UTC)


PETITIONS = (
    ("小区供暖不达标多次反映未解决", "concluded"),
    ("征地补偿款分配有异议", "accepted"),
    ("老旧小区改造施工影响出行", "accepted"),
    ("企业拖欠农民工工资", "concluded"),
    ("对物业收费标准有异议", "received"),
    ("宅基地确权争议", "received"),
)
AGREED_TERMS = (
    "过错方负责修复并赔偿对方损失人民币800元",
    "双方各让一步，共同承担维修费用",
    "按月支付赡养费每人500元",
    "物业公司十日内维修，业主补交物业费",
)


async def seed(session: Any, tenant: Any, nodes: dict[str, Any], storage: Any = None) -> None:
    if (await session.execute(select(Team.id).limit(1))).first():
        return
    # One draw for the whole seed: the sections below run in this order so the data stays the same.
    rng = random.Random(f"rule_of_law:{tenant.slug}")
    grids = sorted((n for n in nodes.values() if n.kind == "grid"), key=lambda n: n.code)
    if not grids:
        return
    big = tenant.slug == "shuangluan"
    root = min(nodes.values(), key=lambda n: n.depth)
    users = {}
    for username, display, role in (
        ("lawyer", "律师（演示）", "lawyer"),
        ("counsellor", "心理咨询师（演示）", "counsellor"),
        ("register_officer", "特殊人群专管员（演示）", "register_officer"),
    ):
        user, _new = await ensure_user(session, username, display, DEMO_PASSWORD, role, root)
        users[username] = user
    mediators = [u for u in await _mediators(session)] or [None]
    today = datetime.now(ZONE).date()

    await _add_teams(session, rng, grids[:TEAMS] if big else grids)
    disputes = await _add_disputes(session, rng, grids, today, 320 if big else 24)
    cases = await _add_cases(session, rng, disputes, mediators, today, big)
    year = today.year
    session.add_all(
        [
            Counter(key=f"JF{year}", value=len(disputes)),
            Counter(key=f"TJ{year}", value=len(cases)),
            Counter(key=f"XF{year}", value=6),
        ]
    )
    await session.flush()
    if storage is not None and big:  # a few agreements issued as PDFs; the rest on first download
        for case in [c for c in cases if c.state in ("agreed", "followed_up")][:6]:
            await issue_agreement(session, storage, tenant=tenant, case=case, base_url="http://localhost:8000")

    communities = sorted((n for n in nodes.values() if n.kind in ("community", "village")), key=lambda n: n.code)
    _add_petitions(session, rng, communities, users["lawyer"], today, big)
    _add_appointments(session, rng, grids, users["counsellor"], today, big)
    await _add_registers(session, rng, grids, users["register_officer"], today, big)


async def _add_teams(session: Any, rng: random.Random, team_grids: list[Any]) -> None:
    """全科网格 teams "1+1+X+Y", a few still incomplete."""
    teams, members = [], []
    for i, grid in enumerate(team_grids):
        team = Team(id=new_id(), node_id=grid.id, node_path=grid.path, name=f"{grid.name}服务团队")
        teams.append(team)
        lacking = i % (TEAMS // INCOMPLETE) == 3 and i // (TEAMS // INCOMPLETE) < INCOMPLETE
        plan = [("instructor", "街道班子成员"), ("leader", "社区干部")]
        plan += [("part_time", rng.choice(PART_TIME_DUTIES)) for _ in range(rng.randint(2, 5))]
        plan += [("other", rng.choice(OTHER_DUTIES)) for _ in range(rng.randint(1, 3))]
        if lacking:  # a few teams still wait for their other forces or a part-time member
            plan = [p for p in plan if p[0] != ("other" if i % 2 else "part_time")]
        for position, duty in plan:
            members.append(
                TeamMember(
                    team_id=team.id,
                    position=position,
                    name=_name(rng),
                    duty=duty,
                    party_member=duty in ("网格党支部书记", "党员", "在职党员", "街道班子成员") or rng.random() < 0.3,
                )
            )
    session.add_all(teams)
    await session.flush()
    session.add_all(members)


async def _add_disputes(
    session: Any, rng: random.Random, grids: list[Any], today: date, n_disputes: int
) -> list[Dispute]:
    """Screening visits, each finding one dispute, and half as many quiet visits."""
    kinds = list(KIND_WEIGHTS)
    weights = list(KIND_WEIGHTS.values())
    visits, disputes = [], []
    for _ in range(n_disputes):
        grid = rng.choice(grids)
        at = _working_time(rng, today - timedelta(days=rng.randint(1, 150)))
        kind = rng.choices(kinds, weights)[0]
        visit = Screening(
            id=new_id(),
            node_id=grid.id,
            node_path=grid.path,
            visited_at=at,
            place=f"{grid.name}{rng.randint(1, 12)}号楼",
            note="入户走访，了解邻里关系和家庭情况",
            disputes_found=1,
        )
        visits.append(visit)
        disputes.append(
            Dispute(
                id=new_id(),
                number="",
                node_id=grid.id,
                node_path=grid.path,
                screening_id=visit.id,
                kind=kind,
                risk=rng.choices(("low", "medium", "high"), (60, 32, 8))[0],
                summary=rng.choice(DISPUTES[kind]),
                parties=[{"name": _name(rng)}, {"name": _name(rng)}],
                status=rng.choices(("open", "resolved"), (35, 65))[0],
                reported_at=at,
            )
        )
    # Quiet visits with nothing found, too.
    for _ in range(n_disputes // 2):
        grid = rng.choice(grids)
        visits.append(
            Screening(
                node_id=grid.id,
                node_path=grid.path,
                visited_at=_working_time(rng, today - timedelta(days=rng.randint(1, 150))),
                place=f"{grid.name}{rng.randint(1, 12)}号楼",
                note="走访未发现矛盾纠纷",
                disputes_found=0,
            )
        )
    disputes.sort(key=lambda d: d.reported_at)
    for i, d in enumerate(disputes, 1):
        d.number = f"JF{d.reported_at.astimezone(ZONE).year}-{i:05d}"
    session.add_all(visits)
    await session.flush()
    session.add_all(disputes)
    await session.flush()
    return disputes


async def _add_cases(
    session: Any, rng: random.Random, disputes: list[Dispute], mediators: list[Any], today: date, big: bool
) -> list[Case]:
    """Mediation cases in every state, handed over from disputes, with their case-file entries."""
    plan_states = [s for s, n in CASE_STATES.items() for _ in range(n if big else max(1, n // 8))]
    handed = rng.sample(disputes, min(len(plan_states), len(disputes)))
    handed.sort(key=lambda d: d.reported_at)
    rng.shuffle(plan_states)
    cases, entries, links = [], [], []
    for i, (d, state) in enumerate(zip(handed, plan_states, strict=False), 1):
        start = _case_start(rng, d, state, today)
        case = Case(
            id=new_id(),
            number=f"TJ{start.astimezone(ZONE).year}-{i:05d}",
            node_id=d.node_id,
            node_path=d.node_path,
            dispute_id=d.id,
            title=d.summary[:60],
            kind=d.kind,
            state=state,
            created_at=start,
            parties=[
                dict(
                    p, address=f"{rng.randint(1, 12)}号楼{rng.randint(1, 3)}单元{rng.randint(1, 6)}0{rng.randint(1, 2)}"
                )
                for p in d.parties
            ],
        )
        d.status, d.case_id = "mediation", case.id
        mediator = rng.choice(mediators)
        entries += _case_file(rng, case, d, start, mediator, today)
        cases.append(case)
        if mediator is not None and state != "pending":
            links.append(CaseMediator(case_id=case.id, user_id=mediator.id))
    session.add_all(cases)
    await session.flush()
    session.add_all([*entries, *links])
    return cases


def _case_start(rng: random.Random, d: Dispute, state: str, today: date) -> datetime:
    start = d.reported_at + timedelta(hours=rng.randint(2, 30))
    # open cases are recent, except a few that ran past their month (the overdue flag)
    if state in OPEN and state != "pending" and rng.random() < 0.7:
        start = _working_time(rng, today - timedelta(days=rng.randint(15, 28)))
    elif start.astimezone(ZONE).date() > today - timedelta(days=20):  # room for its steps before today
        start = _working_time(rng, today - timedelta(days=rng.randint(20, 40)))
    return start


def _case_file(
    rng: random.Random, case: Case, d: Dispute, start: datetime, mediator: Any, today: date
) -> list[CaseEntry]:
    """Walk the case through its state's steps a few days apart; returns the case file's entries."""
    entries = []
    at = start
    for kind in _steps(case.state):
        at = at + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 3))
        entry = _entry(rng, case, kind, at, mediator, d)
        entries.append(entry)
        entries += _take_step(rng, case, kind, at, start, entry, d)
    if case.state in {s.value for s in OPEN} and case.due_on and case.due_on < today:
        case.overdue_at = datetime.now(UTC)
        entries.append(CaseEntry(case_id=case.id, kind="overdue", at=case.overdue_at, data={}))
    return entries


def _take_step(
    rng: random.Random, case: Case, kind: str, at: datetime, start: datetime, entry: CaseEntry, d: Dispute
) -> list[CaseEntry]:
    """What one step leaves on the case; returns the entries it adds beside its own."""
    extra = []
    if kind == "accept":
        case.origin = rng.choice(("application", "application", "own_initiative"))
        case.accepted_at = at
        case.due_on = rules.mediation_due(at.astimezone(ZONE).date(), 1)
    if kind in ("refuse", "agree", "terminate"):
        case.concluded_at = at
        case.days_to_close = ((at - (case.accepted_at or start)).days) or 1
    if kind == "agree":
        case.facts = f"{d.summary}。"
        case.matters = "双方对事实无异议，过错方承担主要责任"
        case.terms = rng.choice(AGREED_TERMS)
        case.performance = "协议签订之日起十五日内履行完毕"
        case.effective_on = at.astimezone(ZONE).date()
        case.confirmation_due_on = rules.confirmation_deadline(case.effective_on, 30)
        extra.append(
            CaseEntry(
                case_id=case.id,
                kind="reminder",
                at=at,
                data={"confirmation_due_on": case.confirmation_due_on.isoformat()},
            )
        )
    if kind == "terminate":
        case.routes = rng.sample(["arbitration", "administrative", "litigation"], rng.randint(1, 3))
        entry.data = {"routes": case.routes}
    return extra


def _add_petitions(
    session: Any, rng: random.Random, communities: list[Any], lawyer: Any, today: date, big: bool
) -> None:
    """Petitions with a lawyer's advice, in each state."""
    year = today.year
    for i, (subject, state) in enumerate(PETITIONS[: 6 if big else 2], 1):
        node = communities[i % len(communities)]
        received = today - timedelta(days=rng.randint(3, 70))
        p = Petition(
            number=f"XF{year}-{i:05d}",
            node_id=node.id,
            node_path=node.path,
            subject=subject,
            petitioner=_name(rng),
            received_on=received,
            accept_due_on=rules.petition_accept_due(received),
            state=state,
            lawyer_user_id=lawyer.id,
        )
        if state != "received":
            p.conclude_due_on = rules.petition_conclude_due(received + timedelta(days=5))
            p.advice = "经审查相关材料，建议依法依规解释政策，引导信访人通过法定途径解决。"
        if state == "concluded":
            p.outcome = "经律师释法明理，信访人表示理解，事项已办结。"
        session.add(p)


def _add_appointments(
    session: Any, rng: random.Random, grids: list[Any], counsellor: Any, today: date, big: bool
) -> None:
    """Counselling appointments, past and booked."""
    rooms = ("行宫社区心理咨询室", "输送机社区心理咨询室")
    for i in range(8 if big else 2):
        grid = rng.choice(grids)
        when = _working_time(rng, today + timedelta(days=rng.randint(-30, 20)))
        session.add(
            Appointment(
                node_id=grid.id,
                node_path=grid.path,
                room=rooms[i % 2],
                person_name=_name(rng),
                referred_by=None,
                counsellor_user_id=counsellor.id if i % 3 else None,
                starts_at=when,
                state="done" if when.date() < today and i % 3 else "booked",
            )
        )


async def _add_registers(
    session: Any, rng: random.Random, grids: list[Any], officer: Any, today: date, big: bool
) -> None:
    """Special-population registers, each person with their last visit."""
    people = []
    for i, category in enumerate(
        ["corrections", "released", "rehabilitation", "mental_health", "youth"] * (3 if big else 1)
    ):
        grid = rng.choice(grids)
        every = {"corrections": 7, "mental_health": 14}.get(category, 30)
        person = SpecialPerson(
            id=new_id(),
            category=category,
            name=f"演示对象{i + 1:02d}",
            node_id=grid.id,
            node_path=grid.path,
            visit_every_days=every,
            next_visit_on=today + timedelta(days=rng.randint(-3, every)),
        )
        people.append(person)
    session.add_all(people)
    await session.flush()
    session.add_all(
        [
            SpecialVisit(
                person_id=p.id,
                visited_on=p.next_visit_on - timedelta(days=p.visit_every_days),
                user_id=officer.id,
            )
            for p in people
        ]  # type: ignore[operator]
    )
    await session.flush()


async def _mediators(session: Any) -> list[Any]:
    from core.identity.models import User
    from core.rbac.models import RoleAssignment

    rows = await session.execute(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role_code == "mediator")
    )
    return list(dict.fromkeys(rows.scalars()))


def _steps(state: str) -> list[str]:
    return {
        "pending": [],
        "accepted": ["accept"],
        "investigating": ["accept", "investigate"],
        "mediating": ["accept", "investigate", "session"],
        "refused": ["refuse"],
        "terminated": ["accept", "session", "session", "terminate"],
        "agreed": ["accept", "investigate", "session", "agree"],
        "followed_up": ["accept", "investigate", "session", "agree", "follow_up"],
    }[state]


def _entry(rng: random.Random, case: Case, kind: str, at: datetime, mediator: Any, d: Dispute) -> CaseEntry:
    names = "、".join(p["name"] for p in d.parties)
    who = mediator.display_name if mediator is not None else ""
    text = {
        "accept": "经审查符合受理条件，予以受理",
        "refuse": f"{d.parties[-1]['name']}明确表示不同意调解，依法不予调解",
        "investigate": "分别走访双方当事人及周边邻居，查看现场并拍照",
        "session": "双方陈述事实和诉求，调解员释法析理，双方逐步达成共识",
        "agree": "双方自愿达成调解协议并签字",
        "terminate": "双方分歧较大，经多次调解未能达成一致，终止调解",
        "follow_up": rng.choice(("协议已履行完毕，双方关系缓和", "已部分履行，剩余款项约定下月付清")),
    }[kind]
    data = {"performance": "performed"} if kind == "follow_up" else {}
    return CaseEntry(
        case_id=case.id,
        kind=kind,
        at=at,
        user_id=mediator.id if mediator is not None and kind != "refuse" else None,
        actor_name=who,
        attendees=f"{names}、{who}" if kind == "session" else "",
        note=text,
        data=data,
    )
