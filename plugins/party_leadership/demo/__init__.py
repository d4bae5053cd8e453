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

Sections by what they seed, in the order they draw: ``members`` (units, members, posts, service
records, activities, feedback), ``lists``, ``agreements``, ``committees`` (with meetings and
五事联办), ``captains``; ``common`` holds the shared draw, ``texts`` the names and words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from plugins.party_leadership import review, rules
from plugins.party_leadership.demo.agreements import add_agreements
from plugins.party_leadership.demo.captains import add_captains
from plugins.party_leadership.demo.committees import add_committees, add_matters, add_meetings
from plugins.party_leadership.demo.common import DISTRICT_ROOT, Demo
from plugins.party_leadership.demo.lists import add_lists
from plugins.party_leadership.demo.members import (
    add_activities,
    add_feedback,
    add_members,
    add_posts,
    add_service_records,
    add_units,
)
from plugins.party_leadership.members import ensure_member_role
from plugins.party_leadership.models import Unit
from plugins.party_leadership.settings import Settings

__all__ = ["seed"]


async def seed(session: AsyncSession, tenant: Any, nodes: Mapping[str, GridNode]) -> None:
    if DISTRICT_ROOT not in nodes:
        return
    if (await session.execute(select(Unit.id).limit(1))).first() is not None:
        return
    await ensure_member_role(session)
    # The sections run in this order: each draws from the same random sequence.
    d = Demo.of(nodes)
    await add_units(session, d)
    await add_members(session, d)
    await add_posts(session, d)
    add_service_records(session, d)
    await add_activities(session, d)
    await add_lists(session, d)
    await add_agreements(session, d)
    await add_committees(session, d)
    await add_meetings(session, d)
    add_matters(session, d)
    add_feedback(session, d)
    await add_captains(session, d, nodes)
    # last year's 评议
    await review.run(session, [d.root.path], d.year - 1, rules.Scoring.of(Settings()))
