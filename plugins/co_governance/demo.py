"""Demo data for 双滦区 at the seed's sizes, loaded in bulk: volunteers with teams, past activities
and their service records (points through one ledger posting), the 雷锋超市 with redemptions in
every state, 家政 providers with offers, bookings and ratings, purchased-service contracts, the
天牧培训学校 courses (684 trained, 473 employed) and 26 property companies (7 with a party
organisation, 19 with an assigned 党建指导员) with quarterly reviews. Idempotent: a section that
has rows is skipped. Phones are stored masked only (the demo hook has no vault)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from core.services import ledger
from plugins.co_governance import rules, volunteers
from plugins.co_governance.models import (
    Booking,
    Contract,
    Counter,
    Course,
    Enrolment,
    Offer,
    PropertyCompany,
    PropertyReview,
    Provider,
    ServiceRecord,
    StoreItem,
    Team,
    TeamMember,
    Volunteer,
)
from plugins.co_governance.numbers import LOCAL

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = (
    "秀英桂芳玉兰志强建国海燕丽娟国华淑珍红梅明德春生永红晓东小燕"
    "文杰俊峰志刚凤英秀兰建华德胜立新淑华艳玲振东雪梅长青宝山金凤玉梅"
)
SKILLS = volunteers.SKILLS
ACTIVITY_TITLES = {
    "助老助残": ["空巢老人上门探访", "助老送餐", "独居老人理发义剪", "残疾人家庭走访"],
    "环境保护": ["楼道杂物清理", "滦河岸边捡拾垃圾", "垃圾分类入户宣传", "小区绿地补种"],
    "文明劝导": ["路口文明交通劝导", "文明养犬宣传", "电动车进楼劝导"],
    "应急救援": ["防汛巡查值守", "消防安全隐患排查", "应急救护培训"],
    "文化服务": ["邻里节文艺演出服务", "社区书屋值守", "青少年暑期课堂"],
    "社区治理": ["人口信息核查协助", "社区议事会会务", "疫苗接种点秩序维护"],
}
STORE_ITEMS = [
    ("洗衣液 2kg", 20, "立白"),
    ("食用油 1.8L", 40, "鲁花"),
    ("挂面 1kg", 8, ""),
    ("毛巾", 6, "纯棉"),
    ("抽纸 10包", 15, ""),
    ("大米 5kg", 35, "承德本地"),
]
PROVIDERS = [
    ("承德家家乐家政服务有限公司", "company", "家政服务企业备案；月嫂、育婴员持证上岗"),
    ("双滦区巧手阿姨家政服务部", "company", "家政服务企业备案"),
    ("承德安馨居家养老服务有限公司", "company", "养老机构备案；养老护理员证"),
    ("双滦区邻里帮维修服务部", "company", "电工证、燃气具安装维修资质"),
    ("承德市天牧职业技能培训学校", "company", "民办学校办学许可证"),
    ("双滦区暖阳社会工作服务中心", "social_org", "民办非企业单位登记证书"),
    ("双滦区夕阳红为老服务协会", "social_org", "社会团体登记证书"),
    ("承德市心语心理咨询服务中心", "social_org", "民办非企业单位登记证书；心理咨询师证"),
]
OFFERS = [
    ("日常保洁 2 小时", "保洁", "80", "次"),
    ("厨房深度清洁", "保洁", "198", "次"),
    ("月嫂 26 天", "月嫂", "6800", "单"),
    ("育婴师 白班", "育儿", "180", "天"),
    ("助浴服务", "助老", "60", "次"),
    ("上门助餐（午餐）", "助餐", "12", "份"),
    ("水电维修上门", "维修", "50", "次"),
    ("燃气灶维修", "维修", "40", "次"),
    ("心理疏导 1 小时", "心理服务", "0", "次"),
]
COURSES = [("中式面点师（初级）", "面点"), ("快餐制作", "快餐"), ("母婴护理员（月嫂）", "月嫂"), ("保育员", "保育")]


def _name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.sample(GIVEN, rnd.choice((1, 2))))


def _phone(rnd: random.Random) -> str:
    return f"1{rnd.choice('3578')}{rnd.randint(0, 9)}****{rnd.randint(0, 9999):04d}"


def _working(day: date, rnd: random.Random) -> datetime:
    """A moment in working hours on ``day`` (承德 time), as UTC."""
    local = datetime(day.year, day.month, day.day, rnd.randint(8, 16), rnd.choice((0, 15, 30, 45)), tzinfo=LOCAL)
    return local.astimezone(UTC)


def _credit_code(seq: int) -> str:
    from core.grids import validation

    body = f"5213082{seq:04d}MA{seq % 10}X0"[:17].ljust(17, "0")
    for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        try:
            return validation.check_credit_code(body + ch)
        except validation.InvalidValue:
            continue
    raise ValueError(body)


async def _count(session: Any, model: Any) -> int:
    return int(await session.scalar(select(func.count(model.id))) or 0)


async def seed(session: Any, tenant: Any, nodes: dict[str, GridNode]) -> None:
    if "sl" not in nodes:
        return  # only 双滦区 has the case's figures
    rnd = random.Random(20261207)
    communities = [n for n in nodes.values() if n.kind == "community"]
    communities.sort(key=lambda n: n.path)
    today = datetime.now(LOCAL).date()
    if not await _count(session, Volunteer):
        await _volunteers(session, tenant, nodes, communities, rnd, today)
    if not await _count(session, StoreItem):
        await _store(session, tenant, communities, rnd, today)
    if not await _count(session, Provider):
        await _services(session, tenant, nodes, communities, rnd, today)
    if not await _count(session, Course):
        await _training(session, tenant, nodes, rnd, today)
    if not await _count(session, PropertyCompany):
        await _property(session, tenant, nodes, communities, rnd, today)


async def _volunteers(
    session: Any, tenant: Any, nodes: dict[str, GridNode], communities: list[GridNode], rnd: random.Random, today: date
) -> None:
    tid = tenant.id
    demo_user = await session.scalar(select(User).where(User.username == "volunteer"))
    year = today.year
    rows: list[dict[str, Any]] = []
    for i in range(1200):
        node = communities[i % len(communities)]
        registered = _working(today - timedelta(days=rnd.randint(30, 2200)), rnd)
        rows.append(
            {
                "tenant_id": tid,
                "id": new_id(),
                "number": f"SLZY{registered.year}{i + 1:06d}",
                "user_id": None,
                "name": _name(rnd),
                "phone_enc": None,
                "phone_masked": _phone(rnd),
                "skills": ",".join(rnd.sample(SKILLS, rnd.choice((0, 1, 2)))),
                "availability": rnd.choice(["周末", "工作日晚上", "周末上午", "随时", "每周二、四下午"]),
                "node_id": node.id,
                "node_path": node.path,
                "status": "active" if i % 97 else "suspended",
                "minutes_total": 0,
                "registered_at": registered,
            }
        )
    if demo_user is not None:
        node = nodes["sl-ybs-sa"]
        rows[0].update(
            user_id=demo_user.id,
            name="志愿者（演示）",
            node_id=node.id,
            node_path=node.path,
            status="active",
            skills="维修,摄影",
            availability="周末",
        )
    await session.execute(insert(Volunteer), rows)
    await session.execute(
        insert(Counter), [{"tenant_id": tid, "id": new_id(), "key": f"volunteer:{year}", "value": 1200}]
    )
    # teams: two per community, every active volunteer in one
    teams: dict[int, list[int]] = {}
    team_rows = []
    for node in communities:
        for label in ("志愿服务队", "助老志愿服务队"):
            team_id = new_id()
            team_rows.append(
                {
                    "tenant_id": tid,
                    "id": team_id,
                    "name": f"{node.name}{label}",
                    "description": "",
                    "node_id": node.id,
                    "node_path": node.path,
                    "created_at": _working(today - timedelta(days=900), rnd),
                }
            )
            teams.setdefault(node.id, []).append(team_id)
    await session.execute(insert(Team), team_rows)
    await session.execute(
        insert(TeamMember),
        [
            {
                "tenant_id": tid,
                "id": new_id(),
                "team_id": rnd.choice(teams[r["node_id"]]),
                "volunteer_id": r["id"],
                "joined_at": r["registered_at"],
            }
            for r in rows
            if r["status"] == "active"
        ],
    )
    # past activities per community, through the activities service (they are core's rows)
    by_node: dict[int, list[tuple[Any, str]]] = {}
    for n, node in enumerate(communities):
        for k in range(4):
            category = rnd.choice(list(ACTIVITY_TITLES))
            day = today - timedelta(days=rnd.randint(3, 330))
            start = datetime(day.year, day.month, day.day, rnd.choice((8, 9, 14, 15)), 0, tzinfo=LOCAL)
            act = await volunteers.publish_activity(
                session,
                title=rnd.choice(ACTIVITY_TITLES[category]),
                node=node,
                starts_at=start,
                ends_at=start + timedelta(hours=rnd.choice((2, 3, 4))),
                category=category,
                capacity=30,
                organiser=f"{node.name}居委会",
                team_id=teams[node.id][k % 2],
                place=f"{node.name}党群服务中心",
            )
            by_node.setdefault(node.id, []).append((act, category))
        # and one coming up, open for sign-up
        start = datetime.combine(today + timedelta(days=3 + n % 5), datetime.min.time(), LOCAL).replace(hour=9)
        await volunteers.publish_activity(
            session,
            title=f"{node.name}冬季楼道清扫",
            node=node,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            category="环境保护",
            capacity=30,
            organiser=f"{node.name}居委会",
            team_id=teams[node.id][0],
            place=f"{node.name}各楼栋",
        )
    # service records: most volunteers a few hours; some long-serving ones carry years of hours
    # from before the platform in one 补录 record (no points: the points scheme starts with it)
    carried_day = date(today.year - 1, 12, 31)
    carried_start = datetime(carried_day.year, 12, 31, 9, 0, tzinfo=LOCAL)
    carried_act = await volunteers.publish_activity(
        session,
        title="历年志愿服务时长补录",
        node=nodes["sl"],
        starts_at=carried_start,
        ends_at=carried_start + timedelta(hours=8),
        category="其他",
        organiser="双滦区志愿服务联合会",
    )
    rule = rules.PointsRule.of({"category_coefficients": "助老助残:1.5,应急救援:2"})
    names = {n.id: n.name for n in communities}
    records: list[dict[str, Any]] = []
    minutes_by_volunteer: dict[int, int] = {}
    points_by_volunteer: dict[int, Decimal] = {}

    def add(
        r: dict[str, Any], act: Any, category: str, minutes: int, points: Decimal, organiser: str, recorder: str
    ) -> None:
        records.append(
            {
                "tenant_id": tid,
                "id": new_id(),
                "volunteer_id": r["id"],
                "activity_id": act.id,
                "title": act.title,
                "category": category,
                "served_on": act.starts_at.astimezone(LOCAL).date(),
                "minutes": minutes,
                "organiser": organiser,
                "recorded_by": None,
                "recorder_name": recorder,
                "points": ledger.to_units(points),
                "posting_id": None,
                "version": 1,
                "updated_at": act.ends_at,
            }
        )
        minutes_by_volunteer[r["id"]] = minutes_by_volunteer.get(r["id"], 0) + minutes
        points_by_volunteer[r["id"]] = points_by_volunteer.get(r["id"], Decimal(0)) + points

    for r in rows:
        if r["status"] != "active":
            continue
        acts = by_node[r["node_id"]]
        for act, category in rnd.sample(acts, rnd.choice((0, 1, 1, 2, 2, 3, 4))):
            minutes = int((act.ends_at - act.starts_at).total_seconds() // 60) - rnd.choice((0, 0, 0, 30))
            add(
                r,
                act,
                category,
                minutes,
                rule.raw(minutes, category),
                f"{names[r['node_id']]}居委会",
                rnd.choice(["李春燕", "王建华", "张丽娟", "刘海涛"]),
            )
        if r is rows[0] and demo_user is not None:  # the demo volunteer: 96 hours, close to 一星
            add(
                r,
                carried_act,
                "其他",
                96 * 60 - minutes_by_volunteer.get(r["id"], 0),
                Decimal(0),
                "双滦区志愿服务联合会",
                "系统补录",
            )
        elif rnd.random() < 0.08:
            add(
                r,
                carried_act,
                "其他",
                rnd.choice((95, 120, 310, 650, 1020, 1600)) * 60,
                Decimal(0),
                "双滦区志愿服务联合会",
                "系统补录",
            )
    await session.execute(insert(ServiceRecord), records)
    for vid, minutes in minutes_by_volunteer.items():
        await session.execute(
            update(Volunteer)
            .where(Volunteer.id == vid)
            .values(minutes_total=minutes)
            .execution_options(synchronize_session=False)
        )
    # the points of those records: one opening posting, issued → each volunteer's account. The
    # records keep their points without a posting id: a later correction posts the difference.
    issued = await ledger.open_account(session, volunteers.ISSUED, allow_negative=True, label="志愿积分发放")
    owners = {r["id"]: r["user_id"] for r in rows}
    accounts = [
        {
            "tenant_id": tid,
            "id": new_id(),
            "key": volunteers.points_account_key(vid),
            "label": "志愿服务积分",
            "owner_user_id": owners[vid],
            "allow_negative": False,
            "balance": 0,
            "created_at": datetime.now(UTC),
        }
        for vid, p in points_by_volunteer.items()
        if p > 0
    ]
    await session.execute(insert(ledger.LedgerAccount), accounts)
    lines = [(a["id"], points_by_volunteer[int(a["key"].rsplit(":", 1)[1])]) for a in accounts]
    await ledger.post(
        session,
        "cg:demo:opening",
        [(issued.id, -sum(p for _a, p in lines)), *lines],
        kind="earn",
        memo="志愿服务积分（演示数据）",
        source=volunteers.SOURCE,
    )


async def _store(session: Any, tenant: Any, communities: list[GridNode], rnd: random.Random, today: date) -> None:
    from plugins.co_governance import store

    items = []
    for node in communities:
        for name, price, desc in STORE_ITEMS:
            items.append(
                StoreItem(
                    name=name,
                    price=price,
                    stock=rnd.randint(3, 30),
                    description=desc,
                    node_id=node.id,
                    node_path=node.path,
                )
            )
    items.append(
        StoreItem(name="保温杯（已兑完）", price=30, stock=0, node_id=communities[0].id, node_path=communities[0].path)
    )
    session.add_all(items)
    await session.flush()
    by_node: dict[str, list[StoreItem]] = {}
    for item in items:
        by_node.setdefault(item.node_path, []).append(item)
    # redemptions through the store (stock and ledger move as in real use), in every state
    prefix = "co_governance:points:volunteer:"
    funded = (
        (
            await session.execute(
                select(ledger.LedgerAccount.key)
                .where(ledger.LedgerAccount.key.startswith(prefix), ledger.LedgerAccount.balance >= 2000)
                .limit(160)
            )
        )
        .scalars()
        .all()
    )
    ids = [int(k[len(prefix) :]) for k in funded]
    rich = (
        (
            await session.execute(
                select(Volunteer)
                .where(Volunteer.id.in_(ids), Volunteer.status == "active", Volunteer.user_id.is_(None))
                .order_by(Volunteer.number)
            )
        )
        .scalars()
        .all()
    )
    for n, v in enumerate(rich):
        choices = [i for i in by_node.get(v.node_path, []) if i.stock > 0 and i.price <= 20]
        if not choices:
            continue
        at = _working(today - timedelta(days=rnd.randint(0, 200)), rnd)
        try:
            red = await store.redeem(session, rnd.choice(choices).id, v, at=at)
        except Exception:
            continue
        if n % 16 == 0:
            red.state = store.RESERVED
        elif n % 23 == 0:
            await store.cancel(session, red, "志愿者改期领取")
        else:
            red.state, red.handed_over_at, red.note = (
                store.HANDED_OVER,
                at + timedelta(hours=rnd.randint(1, 48)),
                "本人领取",
            )
    await session.flush()


async def _services(
    session: Any, tenant: Any, nodes: dict[str, GridNode], communities: list[GridNode], rnd: random.Random, today: date
) -> None:
    tid = tenant.id
    district = nodes["sl"]
    providers = []
    for i, (name, kind, licence) in enumerate(PROVIDERS):
        providers.append(
            {
                "tenant_id": tid,
                "id": new_id(),
                "name": name,
                "kind": kind,
                "credit_code": _credit_code(i + 1),
                "licence": licence,
                "contact_name": _name(rnd),
                "phone": f"0314-{rnd.randint(2000000, 2999999)}",
                "node_id": district.id,
                "node_path": district.path,
                "active": True,
                "created_at": _working(today - timedelta(days=700), rnd),
            }
        )
    await session.execute(insert(Provider), providers)
    offers = []
    for j, (title, category, price, unit) in enumerate(OFFERS):
        provider = providers[[0, 0, 0, 1, 2, 2, 3, 3, 7][j]]
        offers.append(
            {
                "tenant_id": tid,
                "id": new_id(),
                "provider_id": provider["id"],
                "title": title,
                "category": category,
                "price_cents": int(Decimal(price) * 100),
                "unit": unit,
                "description": "",
                "active": True,
            }
        )
    await session.execute(insert(Offer), offers)
    users = [u for u in (await session.execute(select(User.id))).scalars()]
    grids = [n for n in nodes.values() if n.kind == "grid"]
    bookings = []
    comments = ["阿姨很细心，准时到", "师傅手艺好", "价格实惠", "来晚了半小时", "服务一般", "下次还约"]
    for k in range(420):
        offer = rnd.choice(offers)
        created = _working(today - timedelta(days=rnd.randint(0, 300)), rnd)
        wanted = created.astimezone(LOCAL).date() + timedelta(days=rnd.randint(1, 7))
        state = "done" if wanted < today else rnd.choice(["requested", "confirmed"])
        if k % 17 == 0:
            state = "cancelled"
        rating = rnd.choice((5, 5, 5, 4, 4, 3, 2)) if state == "done" and rnd.random() < 0.7 else None
        node = rnd.choice(grids)
        bookings.append(
            {
                "tenant_id": tid,
                "id": new_id(),
                "number": f"JZ-{created.astimezone(LOCAL):%Y%m%d}-{k + 1:04d}",
                "offer_id": offer["id"],
                "provider_id": offer["provider_id"],
                "user_id": rnd.choice(users),
                "node_id": node.id,
                "node_path": node.path,
                "wanted_on": wanted,
                "note": "",
                "price_cents": offer["price_cents"],
                "state": state,
                "rating": rating,
                "rating_comment": rnd.choice(comments) if rating else "",
                "rated_at": created + timedelta(days=8) if rating else None,
                "done_at": _working(wanted, rnd) if state == "done" else None,
                "created_at": created,
            }
        )
    await session.execute(insert(Booking), bookings)
    contracts = [
        (
            "2026 年居家养老上门服务项目",
            2,
            "360000",
            ["助浴、助洁上门 3000 人次", "失能老人探访 1200 次", "季度服务台账"],
        ),
        ("2026 年社区社会工作服务项目", 5, "180000", ["个案服务 40 个", "小组活动 24 场", "社区志愿者培训 6 场"]),
        ("2026 年下岗失业人员技能培训", 4, "240000", ["培训 160 人次", "结业率不低于 85%", "就业回访台账"]),
        ("2026 年心理健康服务进社区", 7, "96000", ["心理讲座 12 场", "个体咨询 200 人次"]),
    ]
    await session.execute(
        insert(Contract),
        [
            {
                "tenant_id": tid,
                "id": new_id(),
                "provider_id": providers[p]["id"],
                "title": title,
                "node_path": district.path,
                "amount_cents": int(Decimal(amount) * 100),
                "starts_on": date(today.year, 1, 1),
                "ends_on": date(today.year, 12, 31),
                "deliverables": [{"name": d, "done": i < len(items) - 1} for i, d in enumerate(items)],
                "created_at": _working(date(today.year, 1, 5), rnd),
            }
            for title, p, amount, items in contracts
        ],
    )


async def _training(session: Any, tenant: Any, nodes: dict[str, GridNode], rnd: random.Random, today: date) -> None:
    """天牧培训学校 at 御祥园社区: 23 finished courses with 684 trained (completed) of whom 473 are
    employed, two drop-outs each, and one course under way."""
    tid = tenant.id
    node = nodes.get("sl-ybs-yxy") or nodes["sl"]
    employers = [
        "承德御祥园酒店",
        "双滦区月嫂之家",
        "承德市第一中学食堂",
        "钢城幼儿园",
        "滦河餐饮有限公司",
        "承德家家乐家政",
        "双滦区妇幼保健院",
        "元宝山早点铺",
    ]
    courses, enrolments = [], []
    for k in range(24):
        title, trade = COURSES[k % 4]
        end = today - timedelta(days=45 * (23 - k) + 10) if k < 23 else today + timedelta(days=20)
        start = end - timedelta(days=30)
        course_id = new_id()
        courses.append(
            {
                "tenant_id": tid,
                "id": course_id,
                "title": f"{title}第{k + 1}期",
                "trade": trade,
                "provider_name": "承德市天牧职业技能培训学校",
                "node_id": node.id,
                "node_path": node.path,
                "starts_on": start,
                "ends_on": end,
                "sessions": 20,
                "required_sessions": 16,
                "created_at": _working(start - timedelta(days=14), rnd),
            }
        )
        plan = [("enrolled", 18)] if k == 23 else [("completed", 30 if k < 17 else 29), ("dropped", 2)]
        for state, count in plan:
            for _j in range(count):
                enrolments.append(
                    {
                        "tenant_id": tid,
                        "id": new_id(),
                        "course_id": course_id,
                        "name": _name(rnd),
                        "phone_enc": None,
                        "phone_masked": _phone(rnd),
                        "attended": 20 if state == "completed" else rnd.randint(3, 14 if state == "dropped" else 10),
                        "state": state,
                        "completed_on": end if state == "completed" else None,
                        "employed": False,
                        "employer": "",
                        "employed_on": None,
                        "followed_up_on": end + timedelta(days=90)
                        if state == "completed" and end + timedelta(days=90) < today
                        else None,
                        "created_at": _working(start - timedelta(days=7), rnd),
                    }
                )
    completed = [e for e in enrolments if e["state"] == "completed"]
    for e in rnd.sample(completed, 473):
        e.update(
            employed=True,
            employer=rnd.choice(employers),
            employed_on=e["completed_on"] + timedelta(days=rnd.randint(10, 60)),
            followed_up_on=e["followed_up_on"] or e["completed_on"] + timedelta(days=60),
        )
    await session.execute(insert(Course), courses)
    await session.execute(insert(Enrolment), enrolments)


async def _property(
    session: Any, tenant: Any, nodes: dict[str, GridNode], communities: list[GridNode], rnd: random.Random, today: date
) -> None:
    """26 property companies: 7 with a party organisation (单独/联合/挂靠组建), 19 with an assigned
    党建指导员. The tree has one estate (安顺乐居); the others sit at their community."""
    tid = tenant.id
    estates = [n for n in nodes.values() if n.kind == "estate"]
    places = estates + [c for c in communities if c.path not in {e.path[: len(c.path)] for e in estates}]
    names = [
        "华宇",
        "安居",
        "祥和",
        "恒信",
        "鑫源",
        "瑞丰",
        "宏达",
        "金诚",
        "和美",
        "嘉禾",
        "润泽",
        "康城",
        "滦河",
        "钢城",
        "福泰",
        "君安",
        "锦程",
        "怡景",
        "新城",
        "泰和",
        "盛世",
        "永安",
        "百合",
        "阳光",
        "盛泰",
        "乐居",
    ]
    modes = ["own"] * 3 + ["joint"] * 2 + ["affiliated"] * 2 + ["instructor"] * 19
    companies = []
    for i in range(26):
        place = places[i % len(places)]
        mode = modes[i]
        name = f"承德{names[i]}物业服务有限公司"
        companies.append(
            {
                "tenant_id": tid,
                "id": new_id(),
                "name": name,
                "credit_code": _credit_code(100 + i),
                "node_id": place.id,
                "node_path": place.path,
                "party_mode": mode,
                "party_org": f"{name}党支部"
                if mode == "own"
                else (
                    f"{place.name}物业联合党支部"
                    if mode == "joint"
                    else (f"挂靠{place.name}党委" if mode == "affiliated" else "")
                ),
                "instructor": _name(rnd) if mode == "instructor" else "",
                "created_at": _working(today - timedelta(days=800), rnd),
            }
        )
    await session.execute(insert(PropertyCompany), companies)
    users = list((await session.execute(select(User.id))).scalars())
    quarters = []
    for back in range(8):
        month = today.month - 3 * back
        year = today.year + (month - 1) // 12 if month > 0 else today.year - 1 - (-month) // 12
        month = (month - 1) % 12 + 1
        quarters.append(f"{year}Q{(month - 1) // 3 + 1}")
    reviews = []
    comments = ["保洁及时", "门卫认真负责", "电梯维修慢", "绿化不错", "停车管理混乱", "党员亮牌上岗，服务热情", ""]
    for c in companies:
        base = rnd.choice((3, 4, 4, 5))
        for q in quarters:
            for uid in rnd.sample(users, min(len(users), rnd.randint(3, 8))):
                score = max(1, min(5, base + rnd.choice((-1, 0, 0, 1))))
                reviews.append(
                    {
                        "tenant_id": tid,
                        "id": new_id(),
                        "company_id": c["id"],
                        "quarter": q,
                        "user_id": uid,
                        "score": score,
                        "comment": rnd.choice(comments),
                        "created_at": datetime.now(UTC),
                    }
                )
    await session.execute(insert(PropertyReview), reviews)
