"""共建协议 of communities and sub-districts with the actions each side took."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.models import GridNode
from plugins.party_leadership.demo.common import COMMUNITY_AGREEMENTS, SUBDISTRICT_AGREEMENTS, Demo, at
from plugins.party_leadership.demo.texts import AGREEMENT_ACTIONS
from plugins.party_leadership.models import Agreement, AgreementAction, Unit


async def add_agreements(session: AsyncSession, d: Demo) -> None:
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
            created_at=at(start, 10),
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


def _subdistrict_of(d: Demo, unit: Unit) -> GridNode:
    """The unit's sub-district (or town), or the district where it sits under none."""
    return (
        next(s for s in d.subdistricts if unit.node_path.startswith(s.path))
        if any(unit.node_path.startswith(s.path) for s in d.subdistricts)
        else d.root
    )
