"""Demo data for 党建领治 (the plugin's ``demo_data`` hook), for 双滦区 at the seed's sizes: 52 units
and 1,580 in-service members reported to the 28 communities, 75 projects of which 42 done (every
state occurs), 25 sub-district + 53 community 共建协议 (some expiring, expired, terminated), the
3 街道大工委 with 21 兼职委员 and each community's 大党委, 联席会议 with decisions open and done,
五事联办 matters of each kind, posts in the eight categories, party activities with check-ins,
服务记录卡 lines, quarterly feedback, last year's 评议, and 1,188 网络楼长 over the communities'
buildings (the demo adds the buildings the grid file does not have; some keep no captain).

Bulk inserts (``add_all`` + one flush per table) keep ``liuzhi demo`` and the test session fast.
Idempotent: nothing is added when the district has units already. Deterministic (a fixed random
seed) apart from the dates, which are relative to the day it runs. The demo member who can sign
in is ``party_member`` (password: the demo password), reported to 双安社区.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.models import RoleAssignment
from core.services.activities.models import Activity, ActivitySignup
from plugins.party_leadership import review, rules
from plugins.party_leadership.members import ACTIVITY_RULE, MEMBER_ROLE, ensure_member_role
from plugins.party_leadership.models import (
    Agreement,
    AgreementAction,
    Captain,
    Committee,
    CommitteeMember,
    Decision,
    Feedback,
    Matter,
    Meeting,
    Member,
    Need,
    Post,
    PostClaim,
    Project,
    ProjectUpdate,
    Resource,
    ServiceRecord,
    Unit,
)
from plugins.party_leadership.settings import DEFAULT_POST_CATEGORIES, NAME, Settings

SH = ZoneInfo("Asia/Shanghai")
DISTRICT_ROOT = "sl"
DEMO_COMMUNITY = "sl-ybs-sa"
UNITS, MEMBERS, PROJECTS, DONE = 52, 1580, 75, 42
SUBDISTRICT_AGREEMENTS, COMMUNITY_AGREEMENTS = 25, 53
CAPTAINS, BUILDINGS = 1188, 1320
PART_TIME = 21  # 兼职委员 of the 街道大工委
ACCOUNTS = 40  # members of 双安社区 with an account (the rest reported on paper)

UNIT_NAMES = (
    "国网承德市双滦区供电分公司",
    "承德钢铁集团有限公司",
    "双滦区人民医院",
    "双滦区实验小学",
    "中国银行承德双滦支行",
    "国家税务总局承德市双滦区税务局",
    "双滦区市场监督管理局",
    "中国移动承德双滦分公司",
    "双滦区消防救援大队",
    "承德市第三中学",
    "双滦区人力资源和社会保障局",
    "中国工商银行承德双滦支行",
    "双滦区卫生健康局",
    "双滦区司法局",
    "承德建龙特殊钢有限公司",
    "双滦区城市管理综合行政执法局",
    "双滦区住房和城乡建设局",
    "中国联通承德双滦分公司",
    "双滦区公安分局元宝山派出所",
    "双滦区公安分局钢城派出所",
    "双滦区中医院",
    "双滦区第一幼儿园",
    "承德银行双滦支行",
    "双滦区教育和体育局",
    "双滦区自然资源和规划局",
    "双滦区民政局",
    "双滦区退役军人事务局",
    "中国邮政承德双滦分公司",
    "双滦区文化广电和旅游局",
    "双滦区应急管理局",
    "承德热力集团双滦分公司",
    "双滦区水务局",
    "双滦区农业农村局",
    "中国建设银行承德双滦支行",
    "承德市双滦区人民法院",
    "承德市双滦区人民检察院",
    "双滦区妇幼保健院",
    "双滦区第二小学",
    "双滦区财政局",
    "双滦区总工会",
    "共青团双滦区委",
    "双滦区妇联",
    "双滦区交通运输局",
    "承德钒钛新材料有限公司",
    "双滦区疾病预防控制中心",
    "双滦区图书馆",
    "承德石油高等专科学校双滦校区",
    "双滦区生态环境分局",
    "中国农业银行承德双滦支行",
    "双滦区审计局",
    "双滦区统计局",
    "双滦区医疗保障局",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = (
    "建华",
    "海燕",
    "志刚",
    "丽娟",
    "文博",
    "晓峰",
    "秀梅",
    "国庆",
    "红霞",
    "宏伟",
    "雪莲",
    "春生",
    "立新",
    "桂芝",
    "振东",
    "玉兰",
    "子涵",
    "思远",
    "明轩",
    "佳怡",
    "永强",
    "淑华",
    "晓红",
    "德胜",
    "凤英",
    "浩然",
    "静怡",
    "俊杰",
)
NEEDS = (
    ("老旧小区楼道照明改造", "楼道感应灯损坏多年，老人夜间上下楼不便"),
    ("独居老人助餐服务", "辖区独居老人希望有人送餐上门"),
    ("小区健身器材维修", "广场健身器材老化松动，存在安全隐患"),
    ("青少年暑期托管", "双职工家庭暑期孩子无人照看"),
    ("居民法律咨询", "邻里纠纷、继承等法律问题需要专业解答"),
    ("电动车充电桩建设", "楼道飞线充电隐患大，居民呼声高"),
    ("社区义诊", "慢性病老人希望定期测量血压血糖"),
    ("背街小巷环境整治", "卫生死角垃圾堆放，需集中清理"),
    ("雨污管道疏通", "雨季前需要疏通小区排水管道"),
    ("防诈骗宣传", "老年人频繁接到诈骗电话"),
    ("残疾人就业帮扶", "辖区残疾人希望获得技能培训和就业岗位"),
    ("小区车棚修缮", "车棚顶棚破损漏雨"),
    ("文化活动场地", "广场舞队缺少活动场地和音响"),
    ("心理疏导服务", "困难家庭需要心理关怀"),
    ("冬季供暖问题排查", "部分楼栋暖气不热"),
    ("消防安全检查", "高层住宅消防通道堵塞、灭火器过期"),
)
RESOURCES = (
    ("venue", "单位会议室（可容纳 60 人）"),
    ("funds", "共建资金 2 万元"),
    ("staff", "志愿服务队 20 人"),
    ("skills", "电工技术骨干 5 名"),
    ("skills", "执业律师 2 名"),
    ("skills", "医护人员义诊团队"),
    ("venue", "职工活动中心篮球场"),
    ("funds", "党建共建经费 1 万元"),
    ("staff", "青年突击队 15 人"),
    ("skills", "心理咨询师 1 名"),
    ("other", "旧衣物、图书捐赠"),
    ("skills", "消防宣讲员 3 名"),
)
POSTS = {
    "组织建设": ("党员先锋岗", "协助社区党组织开展主题党日活动"),
    "法律咨询与援助": ("法律咨询岗", "每月两次在社区法律服务室坐班"),
    "助困扶残与就业援助": ("助困帮扶岗", "结对帮扶困难家庭、残疾人"),
    "社区治理": ("楼院议事岗", "参与楼院议事会，收集居民诉求"),
    "健康医疗": ("健康服务岗", "义诊、健康讲座、慢病随访"),
    "文化体育": ("文体活动岗", "组织文艺演出、全民健身活动"),
    "安全宣传与治安巡逻": ("平安巡逻岗", "夜间治安巡逻、防诈骗宣传"),
    "其他": ("综合服务岗", "社区临时性、突击性任务"),
}
ACTIVITY_TITLES = (
    "文明创城志愿服务",
    "楼道清理",
    "普法宣传进社区",
    "义诊进社区",
    "防汛值守",
    "关爱空巢老人走访",
    "垃圾分类宣传",
    "消防安全检查",
)
AGREEMENT_ACTIONS = (
    ("unit", "开展用电安全进社区宣传"),
    ("community", "为单位党员安排服务岗位"),
    ("unit", "捐赠社区图书角图书 200 册"),
)
DECISION_TEXTS = (
    "由驻区单位认领楼道照明改造项目",
    "开展夏季防汛联合值守",
    "建立在职党员服务积分台账",
    "联合开展反诈宣传月活动",
)
MATTER_SAMPLES = {
    "discuss": "老旧小区加装电梯方案",
    "do": "背街小巷环境整治",
    "decide": "小区停车位收费标准",
    "urgent": "暴雨后地下室积水",
    "solve": "历史遗留房屋产权证办理",
}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A working-hours moment in 承德, stored in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).astimezone(UTC)


def _workday(rng: random.Random, start: date, end: date) -> date:
    span = max((end - start).days, 1)
    for _ in range(20):
        day = start + timedelta(days=rng.randrange(span))
        if day.weekday() < 5:
            return day
    return start


@dataclass
class _Demo:
    """What the seed's sections share: one random draw (in a fixed order, so the data stays the
    same), the day, the district's nodes and the rows the earlier sections made."""

    rng: random.Random
    today: date
    root: GridNode
    communities: list[GridNode]
    subdistricts: list[GridNode]
    by_path: dict[str, GridNode]
    demo: GridNode  # 双安社区: the members with an account and the activities
    units: list[Unit] = field(default_factory=list)
    units_at: dict[str, list[Unit]] = field(default_factory=dict)
    account_users: list[User] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    by_community: dict[str, list[Member]] = field(default_factory=dict)
    projects: list[Project] = field(default_factory=list)
    committees: list[Committee] = field(default_factory=list)
    seats: list[CommitteeMember] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)

    @classmethod
    def of(cls, nodes: Mapping[str, GridNode]) -> _Demo:
        communities = sorted((n for n in nodes.values() if n.kind == "community"), key=lambda n: n.code)
        return cls(
            rng=random.Random(20261207),
            today=datetime.now(SH).date(),
            root=nodes[DISTRICT_ROOT],
            communities=communities,
            subdistricts=sorted((n for n in nodes.values() if n.kind in ("subdistrict", "town")), key=lambda n: n.code),
            by_path={n.path: n for n in nodes.values()},
            demo=nodes.get(DEMO_COMMUNITY, communities[0]),
        )

    @property
    def year(self) -> int:
        return self.today.year


async def seed(session: AsyncSession, tenant: Any, nodes: Mapping[str, GridNode]) -> None:
    if DISTRICT_ROOT not in nodes:
        return
    if (await session.execute(select(Unit.id).limit(1))).first() is not None:
        return
    await ensure_member_role(session)
    # The sections run in this order: each draws from the same random sequence.
    d = _Demo.of(nodes)
    await _add_units(session, d)
    await _add_members(session, d)
    await _add_posts(session, d)
    _add_service_records(session, d)
    await _add_activities(session, d)
    await _add_lists(session, d)
    await _add_agreements(session, d)
    await _add_committees(session, d)
    await _add_meetings(session, d)
    _add_matters(session, d)
    _add_feedback(session, d)
    await _add_captains(session, d, nodes)
    # last year's 评议
    await review.run(session, [d.root.path], d.year - 1, rules.Scoring.of(Settings()))


async def _add_units(session: AsyncSession, d: _Demo) -> None:
    rng, year = d.rng, d.year
    for i, name in enumerate(UNIT_NAMES[:UNITS]):
        node = d.communities[i % len(d.communities)]
        d.units.append(
            Unit(
                id=new_id(),
                name=name,
                party_org=f"{name}党支部" if "局" not in name else f"{name}机关党支部",
                node_id=node.id,
                node_path=node.path,
                contact_name=rng.choice(SURNAMES) + "主任",
                reported_on=_workday(rng, date(year - 2, 3, 1), date(year, 3, 31)),
            )
        )
    session.add_all(d.units)
    await session.flush()
    for u in d.units:
        d.units_at.setdefault(u.node_path, []).append(u)


async def _add_members(session: AsyncSession, d: _Demo) -> None:
    """A few members with an account in 双安社区, the rest reported on paper."""
    from core.identity.passwords import hash_password
    from core.tenancy.demo import DEMO_PASSWORD

    rng, today, year, demo = d.rng, d.today, d.year, d.demo
    login = (await session.execute(select(User).where(User.username == "party_member"))).scalar_one_or_none()
    if login is None:
        login = User(
            id=new_id(),
            username="party_member",
            display_name="在职党员（演示）",
            password_hash=hash_password(DEMO_PASSWORD),
        )
        session.add(login)
    d.account_users = [
        User(
            id=new_id(),
            username=f"pl-member-{i:03d}",
            display_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            password_hash="!",
            is_active=True,
        )
        for i in range(ACCOUNTS)
    ]
    session.add_all(d.account_users)
    await session.flush()
    for i in range(MEMBERS):
        if i < ACCOUNTS:
            user, node = d.account_users[i], demo
            name = user.display_name
        else:
            user, node = None, d.communities[i % len(d.communities)]
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        here = d.units_at.get(node.path) or d.units
        d.members.append(
            Member(
                id=new_id(),
                name=name,
                user_id=user.id if user else None,
                unit_id=rng.choice(here).id,
                branch="",
                node_id=node.id,
                node_path=node.path,
                reported_on=_workday(rng, date(year - 2, 3, 1), min(today, date(year, 6, 30))),
            )
        )
    session.add_all(d.members)
    session.add_all(
        RoleAssignment(user_id=u.id, role_code=MEMBER_ROLE, node_id=demo.id, node_path=demo.path)
        for u in d.account_users
    )
    await session.flush()
    for m in d.members:
        d.by_community.setdefault(m.node_path, []).append(m)


async def _add_posts(session: AsyncSession, d: _Demo) -> None:
    """The eight categories' posts in every community, four members in five holding one."""
    posts: list[Post] = []
    for node in d.communities:
        for category in DEFAULT_POST_CATEGORIES:
            title, duty = POSTS[category]
            posts.append(
                Post(
                    id=new_id(),
                    node_id=node.id,
                    node_path=node.path,
                    category=category,
                    title=title,
                    description=duty,
                    capacity=12,
                    claimed=0,
                )
            )
    session.add_all(posts)
    posts_at: dict[str, list[Post]] = {}
    for p in posts:
        posts_at.setdefault(p.node_path, []).append(p)
    claims = []
    for path, people in d.by_community.items():
        for m in people:
            if d.rng.random() < 0.8:
                free = [p for p in posts_at[path] if p.claimed < p.capacity]
                if free:
                    p = d.rng.choice(free)
                    p.claimed += 1
                    claims.append(PostClaim(post_id=p.id, member_id=m.id, claimed_at=_at(m.reported_on, 10)))
    session.add_all(claims)
    await session.flush()


def _add_service_records(session: AsyncSession, d: _Demo) -> None:
    """服务记录卡: staff lines for everyone, over last year and this year so far."""
    rng, today, year = d.rng, d.today, d.year
    records = []
    for m in d.members:
        target = rng.choice((10, 20, 30, 40, 46, 52, 56, 60, 70))  # hours over the last year and this one
        for span_start, span_end, share in (
            (date(year - 1, 1, 1), date(year - 1, 12, 31), 1.0),
            (date(year, 1, 1), today, today.timetuple().tm_yday / 365),
        ):
            left = int(target * 60 * share)
            while left > 0:
                minutes = min(left, rng.choice((90, 120, 180, 240)))
                day = _workday(rng, span_start, span_end)
                records.append(
                    ServiceRecord(
                        member_id=m.id,
                        served_on=day,
                        minutes=minutes,
                        description=rng.choice(ACTIVITY_TITLES),
                        created_at=_at(day, 17),
                    )
                )
                left -= minutes
    session.add_all(records)


async def _add_activities(session: AsyncSession, d: _Demo) -> None:
    """Ten party activities in 双安社区, eight past with check-ins by the members with accounts."""
    rng, today, demo = d.rng, d.today, d.demo
    acts, signups = [], []
    for k in range(10):
        day = (
            _workday(rng, today - timedelta(days=120), today - timedelta(days=1))
            if k < 8
            else today + timedelta(days=3 + k)
        )
        start = _at(day, 9)
        act = Activity(
            id=new_id(),
            source=NAME,
            category=DEFAULT_POST_CATEGORIES[k % 8],
            title=f"{ACTIVITY_TITLES[k % len(ACTIVITY_TITLES)]}（{demo.name}）",
            node_id=demo.id,
            node_path=demo.path,
            place=f"{demo.name}党群服务中心",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            capacity=40,
            eligibility=ACTIVITY_RULE,
            status="published",
            created_at=start - timedelta(days=7),
        )
        people = rng.sample(d.account_users, 12)
        act.signed_up = len(people)
        acts.append(act)
        signups += [_signup(rng, act, u, start, past=k < 8) for u in people]
    session.add_all(acts)
    await session.flush()
    session.add_all(signups)
    await session.flush()


def _signup(rng: random.Random, act: Activity, user: User, start: datetime, *, past: bool) -> ActivitySignup:
    minutes = rng.choice((150, 165, 180)) if past else None
    return ActivitySignup(
        activity_id=act.id,
        user_id=user.id,
        signed_up_at=start - timedelta(days=3),
        checked_in_at=start if past else None,
        checked_out_at=start + timedelta(minutes=minutes) if past and minutes else None,
        check_method="qr" if past else None,
        minutes=minutes,
        minutes_source="clock" if past else None,
    )


async def _add_lists(session: AsyncSession, d: _Demo) -> None:
    """三项清单: matched needs and resources with a project in every state, then open needs."""
    rng, today = d.rng, d.today
    needs, resources, updates = [], [], []
    states = (["done"] * DONE + ["in_progress"] * 13 + ["claimed"] * 9 + ["listed"] * 9 + ["cancelled"] * 2)[:PROJECTS]
    for i, state in enumerate(states):
        node = d.communities[i % len(d.communities)]
        title, text = NEEDS[i % len(NEEDS)]
        created = _at(_workday(rng, today - timedelta(days=300), today - timedelta(days=20)), 10, 30)
        need = Need(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            title=title,
            description=text,
            source=rng.choice(("staff", "resident", "resident")),
            status="matched",
            created_at=created,
        )
        kind, offer = RESOURCES[i % len(RESOURCES)]
        here = d.units_at.get(node.path) or d.units
        unit = rng.choice(here)
        resource = Resource(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            unit_id=unit.id,
            kind=kind,
            title=f"{unit.name}：{offer}",
            created_at=created,
        )
        project = Project(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            title=title,
            description=text,
            need_id=need.id,
            resource_id=resource.id,
            state=state,
            created_at=created,
        )
        steps = _walk_project(d, project, unit, title)
        for n, action in enumerate(steps):
            updates.append(
                ProjectUpdate(
                    project_id=project.id,
                    action=action,
                    created_at=created + timedelta(days=3 * n),
                    progress=project.progress if action == "progress" else None,
                    note=project.summary if action == "complete" else "",
                )
            )
        needs.append(need)
        resources.append(resource)
        d.projects.append(project)
    for i in range(20):  # open needs and spare resources still waiting to be matched
        node = d.communities[(i * 3) % len(d.communities)]
        title, text = NEEDS[(i + 5) % len(NEEDS)]
        needs.append(
            Need(
                id=new_id(),
                node_id=node.id,
                node_path=node.path,
                title=title,
                description=text,
                source="resident",
                status="open",
                created_at=_at(_workday(rng, today - timedelta(days=40), today), 15),
            )
        )
    session.add_all(needs)
    session.add_all(resources)
    await session.flush()
    session.add_all(d.projects)
    await session.flush()
    session.add_all(updates)


def _walk_project(d: _Demo, project: Project, unit: Unit, title: str) -> list[str]:
    """Fill in what reaching its state leaves on the project; returns the actions, in order."""
    rng, state, created = d.rng, project.state, project.created_at
    steps = ["create"]
    if state in ("claimed", "in_progress", "done"):
        people = d.by_community.get(project.node_path) or []
        if people and rng.random() < 0.3:
            project.member_id = rng.choice(people).id
        else:
            project.unit_id = unit.id
        project.claimed_at = created + timedelta(days=3)
        steps.append("claim")
    if state in ("in_progress", "done"):
        steps += ["start", "progress"]
        project.progress = 100 if state == "done" else rng.choice((20, 40, 60, 80))
    if state == "done":
        project.done_at = created + timedelta(days=rng.randint(20, 60))
        project.summary = f"{title}已完成，居民满意度调查满意率 9{rng.randint(0, 9)}%。"
        steps.append("complete")
    if state == "cancelled":
        steps.append("cancel")
    return steps


async def _add_agreements(session: AsyncSession, d: _Demo) -> None:
    """共建协议 of communities and sub-districts, some expiring, expired or terminated."""
    rng, today, year = d.rng, d.today, d.year
    agreements = []
    for i in range(COMMUNITY_AGREEMENTS + SUBDISTRICT_AGREEMENTS):
        unit = d.units[i % len(d.units)]
        node = d.by_path[unit.node_path] if i < COMMUNITY_AGREEMENTS else _subdistrict_of(d, unit)
        start = date(year - rng.choice((0, 1, 2)), rng.choice((1, 3, 4, 7)), 1)
        end = date(start.year + 2, start.month, 1) - timedelta(days=1)
        if i % 13 == 0:
            end = today + timedelta(days=rng.randint(5, 25))  # expiring: the reminder job has work
        elif i % 17 == 0:
            end = today - timedelta(days=rng.randint(10, 90))  # expired
        agreement = Agreement(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            unit_id=unit.id,
            title=f"{node.name}—{unit.name}结对共建协议",
            terms="一、单位每季度到社区开展不少于一次志愿服务；\n二、单位向社区开放活动场地；\n"
            "三、社区为单位在职党员提供服务岗位并反馈服务情况；\n四、双方每半年召开一次共建联席会议。",
            starts_on=start,
            ends_on=end,
            terminated_on=today - timedelta(days=30) if i % 29 == 5 else None,
            created_at=_at(start, 10),
        )
        agreements.append(agreement)
    session.add_all(agreements)
    await session.flush()
    session.add_all(
        AgreementAction(
            agreement_id=a.id,
            side=side,
            done_on=min(today, a.starts_on + timedelta(days=30 * (k + 1))),
            description=text,
        )
        for a in agreements
        for k, (side, text) in enumerate(AGREEMENT_ACTIONS)
        if a.starts_on + timedelta(days=30 * (k + 1)) <= today
    )


def _subdistrict_of(d: _Demo, unit: Unit) -> GridNode:
    """The unit's sub-district (or town), or the district where it sits under none."""
    return (
        next(s for s in d.subdistricts if unit.node_path.startswith(s.path))
        if any(unit.node_path.startswith(s.path) for s in d.subdistricts)
        else d.root
    )


async def _add_committees(session: AsyncSession, d: _Demo) -> None:
    """The 街道大工委 and each community's 大党委: a secretary and part-time seats from units."""
    rng, year = d.rng, d.year
    seats = d.seats
    street_level = [s for s in d.subdistricts if s.kind == "subdistrict"]
    for s in street_level + d.communities:
        kind = "working" if s in street_level else "party"
        d.committees.append(
            Committee(
                id=new_id(),
                kind=kind,
                name=f"{s.name}{'大工委' if kind == 'working' else '大党委'}",
                node_id=s.id,
                node_path=s.path,
            )
        )
    session.add_all(d.committees)
    await session.flush()
    term_start = date(year - 2, 1, 1)
    for idx, k in enumerate(d.committees):
        seats.append(
            CommitteeMember(
                committee_id=k.id,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                position="secretary",
                term_start=term_start,
                term_end=date(year + 3, 1, 1),
            )
        )
        part_time = PART_TIME // len(street_level) if k.kind == "working" else 2
        candidates = [u for u in d.units if u.node_path.startswith(k.node_path)] or d.units
        for j in range(part_time):
            u = candidates[(idx + j) % len(candidates)]
            seats.append(
                CommitteeMember(
                    committee_id=k.id,
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    position="part_time",
                    unit_id=u.id,
                    term_start=term_start,
                    term_end=date(year + 3, 1, 1),
                )
            )
    session.add_all(seats)
    await session.flush()


async def _add_meetings(session: AsyncSession, d: _Demo) -> None:
    """联席会议: quarterly for the 大工委, twice for each 大党委; those held took two decisions."""
    rng, today, year = d.rng, d.today, d.year
    seats_of: dict[int, list[CommitteeMember]] = {}
    for s in d.seats:
        seats_of.setdefault(s.committee_id, []).append(s)
    decisions = []
    for k in d.committees:
        count = 4 if k.kind == "working" else 2
        for q in range(count):
            day = (
                date(year, 3 * q + 1, 1) + timedelta(days=rng.randint(5, 25))
                if k.kind == "working"
                else _workday(rng, today - timedelta(days=200), today + timedelta(days=20))
            )
            held = day < today
            people = seats_of[k.id]
            present = [s.id for s in people if rng.random() < 0.85] if held else []
            m = Meeting(
                id=new_id(),
                committee_id=k.id,
                node_path=k.node_path,
                title=f"{k.name}第{q + 1}次联席会议",
                agenda="1. 通报三项清单进展\n2. 研究共建项目认领\n3. 在职党员双报到情况",
                starts_at=_at(day, 14, 30),
                place="党群服务中心会议室",
                status="held" if held else "called",
                expected=len(people),
                present=len(present),
                attendance=present,
                minutes="会议听取了项目进展汇报，研究确定了下一阶段共建事项。" if held else "",
                held_at=_at(day, 16, 30) if held else None,
            )
            d.meetings.append(m)
            if held:
                decisions += [_decision(d, k, m, day, n, len(present)) for n in range(2)]
    session.add_all(d.meetings)
    await session.flush()
    session.add_all(decisions)


def _decision(d: _Demo, k: Committee, m: Meeting, day: date, n: int, present: int) -> Decision:
    """The meeting's n-th decision; the second was put to a vote."""
    done = d.rng.random() < 0.6
    return Decision(
        meeting_id=m.id,
        node_path=k.node_path,
        text=d.rng.choice(DECISION_TEXTS),
        owner=d.rng.choice(d.units).name,
        due_on=day + timedelta(days=30 + 15 * n),
        status="done" if done else "open",
        done_at=_at(day + timedelta(days=25), 11) if done else None,
        done_note="已按期完成" if done else "",
        votes_for=present if n == 1 else None,
        votes_against=0 if n == 1 else None,
        votes_abstain=0 if n == 1 else None,
    )


def _add_matters(session: AsyncSession, d: _Demo) -> None:
    """五事联办: five of each kind, routed to the community's 大党委 meeting or a project."""
    today = d.today
    matters = []
    party_committees = {k.node_path: k for k in d.committees if k.kind == "party"}
    meetings_of: dict[int, list[Meeting]] = {}
    for m in d.meetings:
        meetings_of.setdefault(m.committee_id, []).append(m)
    for i in range(25):
        kind = list(MATTER_SAMPLES)[i % 5]
        node = d.communities[i % len(d.communities)]
        route = rules.route_for(kind)
        k = party_committees.get(node.path)
        meeting = meetings_of.get(k.id, [None])[0] if k else None
        project = next((p for p in d.projects if p.node_path == node.path), None)
        resolved = i % 3 == 0
        matters.append(
            Matter(
                node_id=node.id,
                node_path=node.path,
                kind=kind,
                title=MATTER_SAMPLES[kind],
                route=route,
                description="居民反映强烈，需多方联动解决。",
                status="resolved" if resolved else "routed",
                meeting_id=meeting.id if route != "project" and meeting else None,
                project_id=project.id if route == "project" and project else None,
                resolution="经联席会议协商，已落实解决方案。" if resolved else "",
                resolved_at=_at(today - timedelta(days=i + 1), 11) if resolved else None,
                created_at=_at(today - timedelta(days=30 + i), 9, 30),
            )
        )
    session.add_all(matters)


def _add_feedback(session: AsyncSession, d: _Demo) -> None:
    """Quarterly feedback to every unit for the quarters past."""
    year = d.year
    quarter = rules.quarter_of(d.today)
    feedback = []
    for u in d.units:
        for q in range(1, quarter):
            feedback.append(
                Feedback(
                    unit_id=u.id,
                    year=year,
                    quarter=q,
                    sent_at=_at(rules.quarter_bounds(year, q)[1], 10),
                    summary={"members": 0, "minutes": 0, "rows": []},
                    note="感谢贵单位党员积极参与社区服务。",
                )
            )
    session.add_all(feedback)


async def _add_captains(session: AsyncSession, d: _Demo, nodes: Mapping[str, GridNode]) -> None:
    """网络楼长 over the communities' buildings; a building in a community without members keeps none."""
    buildings = await _add_buildings(session, d, nodes)
    captains = []
    for n, building in enumerate(buildings[:CAPTAINS]):
        community = next((c for c in d.communities if building.path.startswith(c.path)), None)
        people = d.by_community.get(community.path, []) if community else []
        if not people:
            continue
        member = people[n % len(people)]
        captains.append(
            Captain(
                node_id=building.id,
                node_path=building.path,
                member_id=member.id,
                group_link=f"https://work.weixin.qq.com/gm/{building.id:x}",
                contact=f"{member.name} 微信同号",
                claimed_at=_at(member.reported_on, 11),
            )
        )
    session.add_all(captains)
    await session.flush()


async def _add_buildings(session: AsyncSession, d: _Demo, nodes: Mapping[str, GridNode]) -> list[GridNode]:
    """The grid file's buildings, and as many more over the communities' grids as the demo needs."""
    grids = sorted((n for n in nodes.values() if n.kind == "grid"), key=lambda n: n.code)
    community_grids = [g for g in grids if any(g.path.startswith(c.path) for c in d.communities)]
    existing = [n for n in nodes.values() if n.kind == "building"]
    buildings: list[GridNode] = list(existing)
    per_grid: dict[int, int] = {}
    i = 0
    while len(buildings) < BUILDINGS:
        grid = community_grids[i % len(community_grids)]
        per_grid[grid.id] = per_grid.get(grid.id, 0) + 1
        n = per_grid[grid.id]
        node = GridNode(
            id=new_id(),
            code=f"{grid.code}-pl{n:02d}",
            kind="building",
            name=f"{grid.name.split('第')[0]}{n}号楼",
            name_en=f"Building {n}",
            parent_id=grid.id,
            depth=grid.depth + 1,
        )
        node.path = f"{grid.path}{node.id}/"
        buildings.append(node)
        i += 1
    session.add_all(b for b in buildings if b not in existing)
    await session.flush()
    return buildings
