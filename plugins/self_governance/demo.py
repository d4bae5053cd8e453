"""Demo data for 双安社区 (双滦区): the 安顺乐居 story from the seed — an old government housing
estate with no property company, where the community party committee led the owners to manage
themselves through a 红色业委会 (DOMAIN.md "居民自治").

On top of core's base data (households with areas and owners; 1-1-101's owner also owns 1-2-102)
this adds: 2号楼2单元 still unsold by the developer, a unit co-owned by a couple, resident
accounts for the owners (``yezhu01`` … with the demo password), the committee and another
estate's newly elected one (filing overdue), one counted owners' vote per rule outcome and one
running, a held residents' meeting and one ahead, 三方联动 matters at every stage, a 四议两公开
one, covenants and a request for an extraordinary assembly. Idempotent: the first matter's title
marks a tenant as seeded.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids import people
from core.grids.basedata import Household, Owner, Ownership, Residence, Resident
from core.grids.models import GridNode
from core.services._common import now
from core.services.accounts.models import ResidentAccount
from core.services.errors import Conflict
from core.tenancy.demo import DEMO_PASSWORD
from core.tenancy.service import ensure_user
from plugins.self_governance import assemblies, committees, covenants, matters, meetings, petitions
from plugins.self_governance import procedures as p
from plugins.self_governance.models import Matter, MatterRecord
from plugins.self_governance.settings import Settings

COMMUNITY = "sl-ybs-sa"
ESTATE_UNITS = "sl-ybs-sa-g01-asly"  # 安顺乐居 (tenants/shuangluan/demo/ has its households)
DEVELOPER = "承德双安房地产开发有限公司"  # the developer owner in tenants/shuangluan/demo/households.csv
OTHER_ESTATE = "sl-ybs-sa-g02-sajy"
LOCAL = ZoneInfo("Asia/Shanghai")
UNSOLD = ("101", "102", "201", "202")
UNSOLD_AREAS = ("86.40", "86.40", "112.70", "112.70")
MARKER = "拆除小区私搭乱建"


def at(days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
    """A working-hours moment ``days_ago`` days back (China time), as UTC."""
    day = (now().astimezone(LOCAL) - timedelta(days=days_ago)).date()
    while day.weekday() >= 5:  # weekends: the Friday before
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL).astimezone(UTC)


async def seed(session: AsyncSession, tenant: Any, nodes: dict[str, GridNode]) -> None:
    if ESTATE_UNITS not in nodes or COMMUNITY not in nodes:
        return
    if (await session.execute(select(Matter.id).where(Matter.title == MARKER))).first():
        return
    estate, community = nodes[ESTATE_UNITS], nodes[COMMUNITY]
    await _register(session, nodes)
    owners = await _owner_accounts(session, estate)
    await _committees(session, nodes)
    await _matters(session, community, estate)
    if len(owners) < 8:  # base data without residents (no vault to seed them): no votes or meetings
        await session.flush()
        return
    await _votes(session, estate, owners)
    await _meetings(session, community, estate)
    pet = await petitions.start(
        session, kind="owners_assembly", node=estate, title="提议召开临时业主大会：增设电动自行车充电棚"
    )
    for user in list(owners.values())[:2]:
        await petitions.sign(session, pet, estate, user.id)
    await session.flush()


async def _register(session: AsyncSession, nodes: dict[str, GridNode]) -> None:
    """2号楼2单元: four units the developer has not sold; 1-1-202 co-owned by husband and wife."""
    unit = nodes.get(f"{ESTATE_UNITS}-b2-u2")
    if unit is None:
        return
    developer = await people.owner_for(session, "developer", DEVELOPER)
    for room, area in zip(UNSOLD, UNSOLD_AREAS, strict=True):
        code = f"{ESTATE_UNITS}-b2-u2-{room}"
        node = nodes.get(code)
        if node is None:
            node = GridNode(
                code=code, kind="household", name=room, name_en=room, parent_id=unit.id, depth=unit.depth + 1
            )
            node.id = new_id()
            node.path = f"{unit.path}{node.id}/"
            session.add(node)
            nodes[code] = node
            await session.flush()
        household = await people.ensure_household(session, node)
        household.floor_area = Decimal(area)
        session.add(Ownership(household_id=household.id, owner_id=developer.id))
    home = nodes[f"{ESTATE_UNITS}-b1-u1-202"]
    spouse = (
        await session.execute(
            select(Resident)
            .join(Residence, Residence.resident_id == Resident.id)
            .where(Residence.node_id == home.id, Residence.relation == "配偶")
        )
    ).scalar_one_or_none()
    if spouse is not None:
        household = await people.ensure_household(session, home)
        owner = await people.owner_for(session, "person", spouse.name, resident=spouse)
        session.add(Ownership(household_id=household.id, owner_id=owner.id))
    await session.flush()


async def _owner_accounts(session: AsyncSession, estate: GridNode) -> dict[int, Any]:
    """A resident account for each owner who lives in the estate: {resident id: user}."""
    rows = await session.execute(
        select(Resident)
        .join(Owner, Owner.resident_id == Resident.id)
        .join(Ownership, Ownership.owner_id == Owner.id)
        .join(Household, Household.id == Ownership.household_id)
        .where(Household.node_path.startswith(estate.path))
        .distinct()
        .order_by(Resident.node_path, Resident.name)
    )
    out: dict[int, Any] = {}
    home_nodes = {
        n.id: n for n in (await session.execute(select(GridNode).where(GridNode.kind == "household"))).scalars()
    }
    for n, resident in enumerate(rows.scalars(), 1):
        node = home_nodes.get(resident.node_id or 0)
        user, _new = await ensure_user(
            session, f"yezhu{n:02d}", f"{resident.name}（业主）", DEMO_PASSWORD, "resident", node or estate
        )
        have = (await session.execute(select(ResidentAccount.id).where(ResidentAccount.user_id == user.id))).first()
        if have is None and resident.phone_enc is not None:
            session.add(
                ResidentAccount(
                    user_id=user.id,
                    phone_enc=resident.phone_enc,
                    phone_hash=resident.phone_hash,
                    phone_masked=resident.phone_masked,
                    resident_id=resident.id,
                )
            )
            out[resident.id] = user
    await session.flush()
    return out


async def _committees(session: AsyncSession, nodes: dict[str, GridNode]) -> None:
    estate = nodes[ESTATE_UNITS]
    red = await committees.form(
        session,
        node=estate,
        name="安顺乐居第二届业主委员会",
        elected_on=date(2022, 5, 21),
        term_start=date(2022, 6, 1),
        term_end=date(2027, 5, 31),
    )
    await committees.file(session, red, date(2022, 6, 10), "元宝山街道办事处")
    for name, post, party in (
        ("刘建国", "chair", True),  # the old party member the residents trust
        ("王桂兰", "vice_chair", True),
        ("张海涛", "member", True),
        ("陈秀英", "member", False),
        ("赵文军", "member", True),
    ):
        member = await committees.add_member(session, red, name=name, post=post, party_member=party)
        await committees.vet(session, member, True, "社区党委审核：政治合格、热心公益")
    if OTHER_ESTATE in nodes:
        fresh = await committees.form(
            session,
            node=nodes[OTHER_ESTATE],
            name="双安家园第一届业主委员会",
            elected_on=(now() - timedelta(days=40)).date(),
            term_start=(now() - timedelta(days=35)).date(),
            term_end=committees.add_months((now() - timedelta(days=35)).date(), 60) - timedelta(days=1),
        )
        for name, post, party in (("周志强", "chair", True), ("吴丽娜", "member", False), ("郭宏伟", "member", False)):
            await committees.add_member(session, fresh, name=name, post=post, party_member=party)


async def _votes(session: AsyncSession, estate: GridNode, owners: dict[int, Any]) -> None:
    rules = Settings()
    users = list(owners.values())
    counted = (
        # (days ago noticed, title, items, how many owners vote, how each votes on each item)
        (
            120,
            "2026年第一次业主大会",
            [("修订《安顺乐居管理规约》", 2), ("业主自行管理，不再选聘物业服务企业", 4)],
            10,
            "yy",
        ),
        (70, "关于筹集维修资金的业主大会", [("按每平方米2元筹集专项维修资金", 6)], 10, "mixed"),
        (40, "关于利用共有部分设置广告位的业主大会", [("利用1号楼外墙设置广告位，收益归全体业主", 8)], 4, "y"),
    )
    for days, title, items, voters, pattern in counted:
        noticed = at(days, 9)
        a = await assemblies.create(
            session,
            rules,
            node=estate,
            title=title,
            items=items,
            noticed_at=noticed,
            opens_at=noticed + timedelta(days=16),
            closes_at=noticed + timedelta(days=23),
        )
        item_rows = await assemblies.items_of(session, a.id)
        moment = noticed + timedelta(days=18, hours=10)
        for n, user in enumerate(users[:voters]):
            if pattern == "mixed":
                choice = "yes" if n < 6 else ("no" if n < 9 else "abstain")
            else:
                choice = "yes" if n != 3 else "no"
            await _vote(session, a, user.id, {i.id: choice for i in item_rows}, moment)
        if pattern == "yy":  # the developer's unsold units vote on paper
            await assemblies.enter_paper(session, a, "developer", {i.id: "abstain" for i in item_rows}, at=moment)
        tallies = await assemblies.close(session, a)
        if pattern == "yy" and tallies[0].outcome.passed:
            await covenants.file(
                session,
                node=estate,
                kind="management",
                title="安顺乐居管理规约",
                body=MANAGEMENT_COVENANT,
                adopted_on=a.closes_at.astimezone(LOCAL).date(),
                ballot_id=item_rows[0].ballot_id,
            )
    noticed = at(18, 9)
    running = await assemblies.create(
        session,
        rules,
        node=estate,
        title="关于使用维修资金更换二次供水设备的业主大会",
        items=[("使用维修资金更换二次供水设备（约18万元）", 5), ("续聘小区保洁、保安人员", 4)],
        noticed_at=noticed,
        opens_at=noticed + timedelta(days=16),
        closes_at=now() + timedelta(days=5),
    )
    rows = await assemblies.items_of(session, running.id)
    for user in users[5:8]:
        await _vote(session, running, user.id, {rows[0].id: "yes", rows[1].id: "yes"}, None)


async def _vote(session: AsyncSession, a: Any, user_id: int, choices: dict[int, str], moment: datetime | None) -> None:
    with contextlib.suppress(Conflict):  # a co-owner already cast the unit's ballot
        await assemblies.vote(session, a, user_id, choices, at=moment)


async def _meetings(session: AsyncSession, community: GridNode, estate: GridNode) -> None:
    rules = Settings()
    held = await meetings.schedule(
        session,
        kind="residents_meeting",
        node=community,
        title="双安社区居民会议：修订居民公约",
        starts_at=now() + timedelta(hours=1),
        place="双安社区党群服务中心三楼会议室",
        basis="households",
    )
    people_ = await meetings.attendees(session, held.id)
    present = len(people_) * 2 // 3 + 1
    await meetings.mark_all(session, held, {a.resident_id for a in people_[:present]})
    await meetings.motion(
        session, held, rules, title="通过修订后的《双安社区居民公约》", yes=present - 2, no=1, abstain=1
    )
    await meetings.motion(session, held, rules, title="每月第一个周六开展环境清扫日", yes=present - 1, no=0, abstain=1)
    await meetings.conclude(
        session, held, rules, "社区党委书记主持。居民代表逐条讨论居民公约修订稿，提出意见三条，已吸收。"
    )
    held.starts_at = at(21, 15)
    await covenants.file(
        session,
        node=community,
        kind="residents",
        title="双安社区居民公约",
        body=RESIDENTS_COVENANT,
        adopted_on=held.starts_at.astimezone(LOCAL).date(),
        meeting_id=held.id,
    )
    await meetings.schedule(
        session,
        kind="deliberation",
        node=estate,
        title="安顺乐居民主议事会：电动自行车充电棚选址",
        starts_at=at(-3, 19),
        place="安顺乐居业委会活动室",
    )


async def _matters(session: AsyncSession, community: GridNode, estate: GridNode) -> None:
    """三方联动 matters at every stage, one sent back, one 四议两公开 half-way."""
    plans = (
        (MARKER, "1号楼、3号楼楼间私搭乱建棚屋11处，占用消防通道。", p.THREE_PARTY, 4, 160),
        ("小区雨污管网改造", "主管道老化，雨季“跑、冒、滴、漏”，申请老旧小区改造资金。", p.THREE_PARTY, 2, 60),
        ("3号楼楼道照明更换为声控灯", "楼道灯常坏，夜间老人上下楼不便。", p.THREE_PARTY, 1, 12),
        ("增设电动自行车充电棚", "飞线充电存在火灾隐患。", p.THREE_PARTY, 0, 3),
        ("小区内增设快递柜", "快递堆放在门岗，丢件多。", p.THREE_PARTY, -1, 9),
        ("双安社区老年食堂运营方式", "拟引入社会组织运营，费用由老人、社区共担。", p.FOUR_TWO, 3, 30),
    )
    notes = {
        "lead": "社区党委研究同意，由党委牵头推进。",
        "organise": "居委会召开民主议事会，议定实施方案。",
        "execute": "业委会组织实施，全程公示。",
        "publish": "实施完毕，结果在公开栏公示。",
        "propose": "社区党委提议。",
        "consult": "两委会商议通过。",
        "review": "党员大会审议通过。",
    }
    for title, description, procedure, steps_done, days in plans:
        node = community if procedure == p.FOUR_TWO else estate
        m = await matters.raise_matter(
            session, title=title, description=description, node=node, procedure=procedure, by_name="业委会 刘建国"
        )
        moment = at(days, 9, 30)
        m.raised_at = moment
        if steps_done < 0:
            await matters.act(
                session,
                m,
                p.SEND_BACK,
                node=node,
                note="请先征求全体业主意见，并明确快递柜选址。",
                by_name="社区党委 刘书记",
            )
        for i in range(max(steps_done, 0)):
            step = p.PROCEDURES[procedure][i]
            if step.execution:
                await matters.act(
                    session, m, p.PROGRESS, node=node, note="已完成过半。", progress=60, by_name="业委会 刘建国"
                )
            await matters.act(
                session, m, p.ADVANCE, node=node, note=notes.get(step.key, "完成。"), by_name="社区工作者"
            )
        if steps_done == 2:  # being carried out
            await matters.act(
                session, m, p.PROGRESS, node=node, note="管网开挖完成，正在铺设。", progress=45, by_name="业委会 刘建国"
            )
        records = (
            await session.execute(select(MatterRecord).where(MatterRecord.matter_id == m.id).order_by(MatterRecord.at))
        ).scalars()
        for k, r in enumerate(records):
            r.at = moment + timedelta(days=k * max(days // 6, 1), hours=k % 3)
            m.updated_at = r.at
    await session.flush()


MANAGEMENT_COVENANT = """第一条 为维护全体业主的合法权益，根据《中华人民共和国民法典》《物业管理条例》，制定本规约。
第二条 本小区实行业主自行管理，由业主委员会组织实施。
第三条 业主不得私搭乱建、占用消防通道、饲养违规犬只。
第四条 专项维修资金的筹集和使用，依法由业主共同决定。"""

RESIDENTS_COVENANT = """一、爱党爱国，遵纪守法。二、邻里和睦，守望相助。三、爱护环境，垃圾分类。
四、文明养犬，不扰邻里。五、移风易俗，红事新办、白事简办。六、积极参与社区议事和志愿服务。"""
