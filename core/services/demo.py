"""Demo data of the shared services for a district (``liuzhi demo``): its points rules, activities in
a community (one under way for the QR check-in, some coming, one past with attendance and hours)
and a notice on the community's board — at working hours, in the seed's words. Idempotent: a
district that has points rules already is left as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from core.services import activities, ledger, notices
from core.services.ledger.models import PointsRule

RULES = (
    ("volunteer_hour", "志愿服务（每小时）", "earn", 10),
    ("event_report", "随手拍上报属实", "earn", 5),
    ("civility_deduct", "不文明行为扣分", "deduct", 20),
)
ACTIVITIES = (
    # title, place, days from today, start hour, hours, capacity, category
    ("{community}环境清扫志愿服务", "社区广场集合", 0, None, 3, 30, "环境"),
    ("老年人智能手机使用培训", "社区党群服务中心二楼", 2, 9, 2, 25, "为老服务"),
    ("垃圾分类入户宣传", "元宝山小区各楼栋", 5, 14, 2, 20, "环境"),
    ("“我们的节日·冬至”包饺子活动", "社区活动室", 9, 15, 2, 40, "文化"),
    ("消防安全知识讲座", "社区会议室", -6, 9, 2, 50, "平安"),
)
LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no DST


def _at(day: datetime, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - LOCAL_OFFSET


async def seed_services(session: AsyncSession, nodes: dict[str, Any], community_code: str) -> None:
    if (await session.execute(select(PointsRule.id).limit(1))).first() is not None:
        return
    for code, title, direction, most in RULES:
        await ledger.save_rule(session, code=code, title=title, direction=direction, max_amount=most)
    community = nodes.get(community_code)
    if community is None:
        return
    now = datetime.now(UTC)
    today = (now + LOCAL_OFFSET).replace(hour=0, minute=0, second=0, microsecond=0)
    people = list(
        (await session.execute(select(User.id).where(User.username.in_(("resident", "building_head"))))).scalars()
    )
    for pattern, place, days, hour, hours, capacity, category in ACTIVITIES:
        title = pattern.format(community=community.name)
        # The first is under way now, so check-in is open in the demo.
        starts = now - timedelta(minutes=30) if hour is None else _at(today + timedelta(days=days), hour)
        act = await activities.publish(
            session,
            title=title,
            node=community,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            capacity=capacity,
            signup_closes_at=None if days < 0 else starts + timedelta(hours=hours) - timedelta(minutes=1),
            place=place,
            description=f"{title}，欢迎居民报名参加。",
            category=category,
            source="core",
        )
        if days < 0:  # a past activity: its people attended, hours recorded from the paper sheet
            for user_id in people:
                await activities.sign_up(session, act.id, user_id, at=starts - timedelta(days=2), by_staff=True)
                await activities.set_minutes(session, act.id, user_id, hours * 60, "纸质签到表录入")
    await notices.publish(
        session,
        title=f"{community.name}2026年度志愿服务积分兑换公示",
        body="根据社区志愿服务积分管理办法，现将本年度积分兑换情况予以公示。如有异议，请在公示期内向社区居委会反映。",
        node=community,
        starts_at=_at(today, 9) - timedelta(days=1),
        ends_at=_at(today, 9) + timedelta(days=6),
        kind="积分公示",
        source="core",
    )


async def seed_services_demo(db: Any, slug: str, community: str | None) -> None:
    """For ``liuzhi demo``: the shared services' demo data in district ``slug``, its activities and
    notice in the node ``community`` (the definition's ``demo.community``; none without one)."""
    from core.grids.models import GridNode
    from core.tenancy.models import Tenant
    from core.tenancy.service import PLATFORM

    async with db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one()
    async with db.transaction(tenant.id, PLATFORM) as s:
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        await seed_services(s, nodes, community or "")
