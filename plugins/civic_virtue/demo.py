"""双滦区's demo data for 文化德治, at the seed's sizes (shared/seed: 62 邻里节 with 20,000+
participants, 500+ co-building activities, 19 themed stairwells, 2 themed parks):

- "2025年度双滦区道德模范评选", finished: five categories, nominees from 双安社区's register who
  consented in person, panel scores, the shortlist's 公示, the public vote (paper ballots entered by
  staff) closed with its stored tally, winners with certificates in the role-model gallery;
- "2026年双安社区“身边的榜样”评选", in its public vote: candidates on notice, votes coming in;
- the 邻里节 and co-building activities of the year across the communities, with headcounts and
  co-building units (bulk inserted: ``liuzhi demo`` stays quick);
- the 19 themed stairwells and 2 themed parks on the tree.

Idempotent: campaigns by title, places by node and name, activities only when there are none.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.basedata import Resident
from core.grids.models import GridNode
from core.identity.models import User
from core.services import consent
from core.services._schema import random_id
from core.services.activities.models import Activity
from core.services.ballots.models import BallotCast, BallotChoice, BallotElector, BallotOption
from plugins.civic_virtue import campaigns as cs
from plugins.civic_virtue import nominations, review, voting
from plugins.civic_virtue.models import (
    CO_BUILDING,
    FESTIVAL,
    NOT_SHORTLISTED,
    PARK,
    SHORTLISTED,
    STAIRWELL,
    Campaign,
    CommunityEvent,
    Nomination,
    ReviewScore,
    ThemedPlace,
)
from plugins.civic_virtue.stages import Periods

LOCAL = ZoneInfo("Asia/Shanghai")
FINISHED = "2025年度双滦区道德模范评选"
VOTING = "2026年双安社区“身边的榜样”评选"
UNITS = (
    "双滦区税务局",
    "国网承德市双滦区供电公司",
    "承德银行双滦支行",
    "双滦区人民医院",
    "双滦区实验小学",
    "河钢承钢公司",
    "双滦区消防救援大队",
    "元宝山派出所",
    "双滦区融媒体中心",
    "中国移动双滦分公司",
    "双滦区市场监督管理局",
    "承德医学院附属医院双滦分院",
)
FESTIVAL_ACTS = ("包饺子比赛", "文艺汇演", "邻里美食分享", "趣味运动会", "书画展", "便民义诊", "亲子游园", "旧物交换")
CO_ACTS = (
    ("环境整治", "清理楼道堆物、绿地垃圾"),
    ("便民服务", "理发、磨刀、家电维修"),
    ("政策宣讲", "医保、养老政策进社区"),
    ("关爱老人", "走访慰问独居和高龄老人"),
    ("文明创建", "文明交通劝导"),
    ("安全宣传", "消防安全知识讲解与演练"),
    ("义诊", "测血压、血糖，健康咨询"),
    ("四点半课堂", "辅导学生作业"),
)
STAIRWELL_THEMES = (
    "孝老爱亲",
    "邻里守望",
    "家风家训",
    "红色记忆",
    "书香楼道",
    "文明礼仪",
    "垃圾分类",
    "平安和谐",
    "诚信友善",
    "志愿服务",
)
PARKS = (
    ("sl-ybs", "元宝山睦邻文化主题公园", "邻里和睦", 117.705, 40.957),
    ("sl-sts", "双塔山孝德文化主题公园", "孝德文化", 117.61, 40.86),
)
STORIES = {
    "助人为乐": (
        "十年如一日照顾楼里的独居老人",
        "每天上门送饭、陪老人聊天，帮助孤寡老人代缴水电费、代买药品，风雨无阻。",
    ),
    "见义勇为": ("冰面救起落水儿童", "冬日路过滦河时发现儿童落入冰窟，不顾危险趴在冰面上将孩子救起，随后悄然离开。"),
    "诚实守信": (
        "拾到巨款分文不取",
        "在公交站拾到装有三万余元现金的手提包，在寒风中等候两个多小时，将钱包原封不动交还失主。",
    ),
    "敬业奉献": (
        "扎根社区服务二十年",
        "担任楼栋长二十年，熟悉每一户的情况，组织居民参与环境整治和邻里互助，被居民称为“主心骨”。",
    ),
    "孝老爱亲": (
        "悉心照料瘫痪婆婆十五年",
        "婆婆因病瘫痪在床，她每天为婆婆擦身、按摩、喂饭，十五年从未让老人生过褥疮。",
    ),
}
VOTING_CATEGORIES = ("最美家庭", "最美志愿者", "最美楼栋长")


def _working_time(day: datetime, rng: random.Random, start_hour: int = 9) -> datetime:
    """A time in working hours on ``day`` (local), returned in UTC."""
    local = day.astimezone(LOCAL).replace(hour=start_hour + rng.randrange(0, 6), minute=rng.choice((0, 30)), second=0)
    return local.astimezone(UTC)


async def seed(session: AsyncSession, tenant: Any, nodes: dict[str, GridNode], storage: Any = None) -> None:
    if "sl" not in nodes:
        return
    rng = random.Random(20261207)
    await _places(session, nodes, rng)
    await _activities(session, tenant.id, nodes, rng)
    await _campaigns(session, tenant, nodes, rng, storage)


async def _places(session: AsyncSession, nodes: dict[str, GridNode], rng: random.Random) -> None:
    if await session.scalar(select(func.count()).select_from(ThemedPlace)):
        return  # seeded before (or the district keeps its own): the demo adds nothing
    have: set[tuple[int, str]] = set()
    communities = [n for code, n in sorted(nodes.items()) if n.kind == "community"]
    # 安顺乐居's buildings from grid.csv (not those other demo seeds add), so every run picks the same hosts.
    buildings = [
        n for code, n in sorted(nodes.items()) if n.kind == "building" and code.startswith("sl-ybs-sa-g01-asly-")
    ]
    # The 19 stairwells: 双安社区's buildings first (a point each), then one per community.
    hosts = buildings + communities
    for i, host in enumerate(hosts[:19]):
        theme = STAIRWELL_THEMES[i % len(STAIRWELL_THEMES)]
        name = f"{host.name}{theme}主题楼道" if host.kind != "building" else f"安顺乐居{host.name}1单元{theme}主题楼道"
        if (host.id, name) in have:
            continue
        session.add(
            ThemedPlace(
                kind=STAIRWELL,
                name=name,
                theme=theme,
                description=f"楼道墙面布置{theme}主题的宣传画、居民家训和好人好事，由楼栋长和居民共同维护。",
                node_id=host.id,
                node_path=host.path,
                opened_on=datetime(2025, rng.randrange(3, 12), rng.randrange(1, 28), tzinfo=UTC),
            )
        )
    for code, name, theme, lon, lat in PARKS:
        node = nodes.get(code)
        if node is None or (node.id, name) in have:
            continue
        session.add(
            ThemedPlace(
                kind=PARK,
                name=name,
                theme=theme,
                description=f"以“{theme}”为主题的街心公园，设有文化长廊、榜样展示墙和居民活动广场。",
                node_id=node.id,
                node_path=node.path,
                lon=lon,
                lat=lat,
                opened_on=datetime(2024, 9, 28, tzinfo=UTC),
            )
        )
    await session.flush()


async def _activities(session: AsyncSession, tenant_id: int, nodes: dict[str, GridNode], rng: random.Random) -> None:
    if await session.scalar(select(func.count()).select_from(CommunityEvent)):
        return
    communities = [n for _c, n in sorted(nodes.items()) if n.kind == "community"]
    villages = [n for _c, n in sorted(nodes.items()) if n.kind == "village"]
    hosts = communities + villages
    now = datetime.now(UTC)
    year = datetime(now.year, 1, 1, tzinfo=UTC)
    span = max(1, (now - year).days - 1)
    activity_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []

    def add(kind: str, node: GridNode, title: str, description: str, day: datetime, hours: int, headcount: int) -> None:
        starts = _working_time(day, rng, 9 if kind == FESTIVAL else 8)
        activity_id = new_id()
        units = rng.sample(UNITS, rng.randrange(1, 4))
        activity_rows.append(
            {
                "tenant_id": tenant_id,
                "id": activity_id,
                "source": "civic_virtue",
                "category": kind,
                "title": title,
                "description": description,
                "node_id": node.id,
                "node_path": node.path,
                "place": f"{node.name}{'文化广场' if kind == FESTIVAL else '党群服务中心'}",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=hours),
                "signup_opens_at": None,
                "signup_closes_at": None,
                "capacity": None,
                "signed_up": 0,
                "eligibility": "everyone",
                "status": "published",
                "created_by": None,
                "created_at": starts - timedelta(days=7),
            }
        )
        event_rows.append(
            {
                "tenant_id": tenant_id,
                "id": new_id(),
                "activity_id": activity_id,
                "kind": kind,
                "node_path": node.path,
                "starts_at": starts,
                "headcount": headcount if starts < now else 0,
                "units": units,
                "summary": (f"{'、'.join(units)}与居民一起参加，现场气氛热烈。" if starts < now else ""),
            }
        )

    # 62 邻里节: two per community over the year (a spring and an autumn one), the rest in villages.
    for i in range(62):
        node = communities[i % len(communities)] if i < 2 * len(communities) else villages[i % len(villages)]
        day = year + timedelta(days=(i * 173 + 40) % span)
        acts = "、".join(rng.sample(FESTIVAL_ACTS, 3))
        add(
            FESTIVAL,
            node,
            f"{node.name}第{i // len(communities) + 3}届邻里节",
            f"{acts}等活动，邻里欢聚一堂。",
            day,
            4,
            rng.randrange(220, 560),
        )
    # 520 co-building activities, a few a week across the district.
    for i in range(520):
        node = hosts[rng.randrange(len(hosts))]
        what, detail = CO_ACTS[i % len(CO_ACTS)]
        day = year + timedelta(days=rng.randrange(span))
        if day.astimezone(LOCAL).weekday() == 6:
            day += timedelta(days=1)
        add(CO_BUILDING, node, f"{node.name}{what}", detail, day, 2, rng.randrange(12, 60))
    # Two upcoming 邻里节 for residents to sign up to.
    for code, days in (("sl-ybs-sa", 9), ("sl-ybs-yxy", 16)):
        if code in nodes:
            add(
                FESTIVAL,
                nodes[code],
                f"{nodes[code].name}冬至邻里节",
                "包饺子、写春联、送温暖。",
                now + timedelta(days=days),
                3,
                0,
            )
    for chunk in range(0, len(activity_rows), 500):
        await session.execute(insert(Activity), activity_rows[chunk : chunk + 500])
    for chunk in range(0, len(event_rows), 500):
        await session.execute(insert(CommunityEvent), event_rows[chunk : chunk + 500])


async def _residents(session: AsyncSession, nodes: dict[str, GridNode]) -> list[Resident]:
    sa = nodes.get("sl-ybs-sa")
    if sa is None:
        return []
    stmt = select(Resident).where(Resident.node_path.startswith(sa.path)).order_by(Resident.name).limit(40)
    return list((await session.execute(stmt)).scalars())


async def _campaigns(
    session: AsyncSession, tenant: Any, nodes: dict[str, GridNode], rng: random.Random, storage: Any
) -> None:
    titles = set((await session.scalars(select(Campaign.title))).all())
    people = await _residents(session, nodes)
    if len(people) < 16:
        return
    panel = (await session.execute(select(User).where(User.username.in_(("admin", "community"))))).scalars().all()
    if FINISHED not in titles and storage is not None:
        await _finished(session, tenant, nodes, rng, people[:10], panel, storage)
    if VOTING not in titles:
        await _voting(session, nodes, rng, people[10:19], panel)


def _nomination(
    campaign: Campaign,
    cat_id: int,
    person: Resident,
    node: GridNode,
    headline: str,
    story: str,
    at: datetime,
    by_unit: bool = False,
) -> Nomination:
    return Nomination(
        campaign_id=campaign.id,
        category_id=cat_id,
        nominee_name=person.name,
        nominee_resident_id=person.id,
        node_id=node.id,
        node_path=person.node_path or node.path,
        headline=headline,
        story=story,
        evidence="社区党委、邻居联名证明；所在单位推荐意见。",
        nominator_kind="unit" if by_unit else "resident",
        nominator_unit="双安社区居委会" if by_unit else "",
        created_at=at,
    )


async def _consented(session: AsyncSession, person: Resident) -> None:
    await consent.give(session, ("resident", person.id), nominations.PURPOSE, nominations.SCOPE_ZH, channel="in_person")


async def _paper_votes(
    session: AsyncSession, tenant_id: int, ballot_id: int, shares: list[tuple[int, int]], at: datetime
) -> None:
    """Paper ballots entered by staff: one elector and cast per ballot paper, in bulk."""
    electors, casts, choices = [], [], []
    serial = 0
    for option_id, count in shares:
        for _ in range(count):
            serial += 1
            eid, cid = random_id(), random_id()
            electors.append(
                {
                    "tenant_id": tenant_id,
                    "id": eid,
                    "ballot_id": ballot_id,
                    "key": f"paper:{serial:05d}",
                    "label": f"纸质选票 {serial:05d}",
                    "weight": 100,
                    "heads": 1,
                }
            )
            casts.append(
                {
                    "tenant_id": tenant_id,
                    "id": cid,
                    "ballot_id": ballot_id,
                    "elector_id": eid,
                    "channel": "paper",
                    "cast_by": None,
                    "proxy_name": None,
                    "proxy_document_id": None,
                    "weight": 100,
                    "heads": 1,
                    "cast_at": at + timedelta(minutes=serial % 600),
                    "changed_at": None,
                }
            )
            choices.append(
                {
                    "tenant_id": tenant_id,
                    "id": random_id(),
                    "ballot_id": ballot_id,
                    "option_id": option_id,
                    "cast_id": cid,
                    "seal": None,
                    "weight": 100,
                    "heads": 1,
                }
            )
    for rows, model in ((electors, BallotElector), (casts, BallotCast), (choices, BallotChoice)):
        for chunk in range(0, len(rows), 1000):
            await session.execute(insert(model), rows[chunk : chunk + 1000])


async def _ballot_options(session: AsyncSession, ballot_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(BallotOption.subject_id, BallotOption.id).where(BallotOption.ballot_id == ballot_id)
    )
    return {int(s): o for s, o in rows if s}


async def _finished(
    session: AsyncSession,
    tenant: Any,
    nodes: dict[str, GridNode],
    rng: random.Random,
    people: list[Resident],
    panel: Any,
    storage: Any,
) -> None:
    start = datetime(2025, 9, 1, 1, 0, tzinfo=UTC)
    periods = Periods(
        start,
        start + timedelta(days=30),
        start + timedelta(days=45),
        start + timedelta(days=52),
        start + timedelta(days=62),
    )
    campaign = await cs.create(
        session,
        cs.CampaignInput(
            title=FINISHED,
            kind="moral_model",
            node=nodes["sl"],
            periods=periods,
            voter_rule="residents",
            description="弘扬社会主义核心价值观，评选表彰身边的道德模范。",
        ),
    )
    cats = await cs.categories(session, campaign.id)
    sa = nodes["sl-ybs-sa"]
    rows = []
    for i, person in enumerate(people):
        cat = cats[i % len(cats)]
        headline, story = STORIES[cat.name]
        n = _nomination(
            campaign,
            cat.id,
            person,
            sa,
            headline,
            f"{person.name}{story}",
            _working_time(start + timedelta(days=3 + i), rng),
            by_unit=i % 3 == 0,  # every third by the 居委会: the same rows on every run
        )
        session.add(n)
        rows.append(n)
        await _consented(session, person)
    await session.flush()
    for n in rows:
        for reviewer in panel:
            session.add(
                ReviewScore(
                    nomination_id=n.id,
                    reviewer_id=reviewer.id,
                    score=rng.randrange(78, 97),
                    comment="事迹真实感人，群众认可度高。",
                    scored_at=periods.nomination_closes_at + timedelta(days=3),
                )
            )
        n.status = SHORTLISTED
    await session.flush()
    await review.publish_shortlist(session, campaign, at=periods.nomination_closes_at + timedelta(days=5))
    for cat in cats:
        options = await _ballot_options(session, cat.ballot_id)
        shares = [(option, rng.randrange(380, 1400)) for _nid, option in sorted(options.items())]
        await _paper_votes(
            session, campaign.tenant_id, cat.ballot_id, shares, periods.publicity_closes_at + timedelta(hours=2)
        )
    await session.flush()
    await voting.award(
        session,
        campaign,
        storage=storage,
        tenant=tenant,
        base_url="https://liuzhi.example.cn",
        at=periods.vote_closes_at + timedelta(days=3),
    )


async def _voting(
    session: AsyncSession, nodes: dict[str, GridNode], rng: random.Random, people: list[Resident], panel: Any
) -> None:
    now = datetime.now(UTC)
    opens = now - timedelta(days=3)
    periods = Periods(
        opens - timedelta(days=30),
        opens - timedelta(days=18),
        opens - timedelta(days=7),
        opens,
        now + timedelta(days=11),
    )
    sa = nodes["sl-ybs-sa"]
    campaign = await cs.create(
        session,
        cs.CampaignInput(
            title=VOTING,
            kind="custom",
            node=sa,
            periods=periods,
            categories=VOTING_CATEGORIES,
            voter_rule="role:resident",
            description="寻找双安社区身边的榜样，由居民投票选出。",
        ),
    )
    cats = await cs.categories(session, campaign.id)
    headlines = {
        "最美家庭": ("三代同堂和睦相处", "一家三代同住，夫妻互敬、孝敬老人，热心帮助邻里，常年义务打扫楼道。"),
        "最美志愿者": (
            "社区志愿服务六百小时",
            "退休后加入社区志愿服务队，参与疫情防控、文明劝导、关爱老人，累计服务六百余小时。",
        ),
        "最美楼栋长": (
            "楼里大事小情的热心人",
            "担任楼栋长以来，调解邻里纠纷、组织楼道清理、为老人代办事务，楼里居民都叫她“好管家”。",
        ),
    }
    rows = []
    for i, person in enumerate(people):
        cat = cats[i % len(cats)]
        headline, story = headlines[cat.name]
        n = _nomination(
            campaign,
            cat.id,
            person,
            sa,
            headline,
            f"{person.name}{story}",
            _working_time(periods.nomination_opens_at + timedelta(days=2 + i), rng),
            by_unit=i % 3 == 0,  # every third by the 居委会: the same rows on every run
        )
        session.add(n)
        rows.append(n)
        if i < 8:
            await _consented(session, person)
    await session.flush()
    for i, n in enumerate(rows):
        for reviewer in panel:
            session.add(
                ReviewScore(
                    nomination_id=n.id,
                    reviewer_id=reviewer.id,
                    score=rng.randrange(70, 95),
                    comment="群众基础好。",
                    scored_at=periods.nomination_closes_at + timedelta(days=2),
                )
            )
        n.status = SHORTLISTED if i < 8 else NOT_SHORTLISTED  # the last one did not consent
    await session.flush()
    await review.publish_shortlist(session, campaign, at=periods.nomination_closes_at + timedelta(days=6))
    for cat in cats:
        options = await _ballot_options(session, cat.ballot_id)
        shares = [(option, rng.randrange(40, 160)) for _nid, option in sorted(options.items())]
        await _paper_votes(session, campaign.tenant_id, cat.ballot_id, shares, opens + timedelta(hours=1))
    await session.flush()
