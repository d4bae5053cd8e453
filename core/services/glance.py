"""Core's own section of a resident's "我的" page, from the shared services: activities attended,
hours served, points, ballots cast, consents in force — whatever pillar they came from. Registered
like a plugin (Datasette's default plugins idea), always on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.pluginhost.manifest import Figure, MySection
from core.pluginhost.markers import hookimpl
from core.services import activities, consent, ledger
from core.services.ballots.models import BallotCast, BallotElectorMember


async def participation(session: AsyncSession, user_id: int) -> MySection:
    served = await activities.served(session, user_id)
    points = sum([a.balance for a in await ledger.accounts_of(session, user_id)])
    votes = await session.scalar(
        select(func.count())
        .select_from(BallotCast)
        .join(BallotElectorMember, BallotElectorMember.elector_id == BallotCast.elector_id)
        .where(BallotElectorMember.user_id == user_id)
    )
    consents = [r for r in await consent.history(session, ("user", user_id)) if r.withdrawn_at is None]
    return MySection(
        "我的参与",
        "My participation",
        figures=(
            Figure("参加活动", "Activities attended", served.activities, "次", ""),
            Figure("服务时长", "Hours served", served.hours, "小时", "h"),
            Figure("积分", "Points", float(ledger.from_units(points)), "分", ""),
            Figure("参与表决", "Votes cast", int(votes or 0), "次", ""),
            Figure("有效授权", "Consents in force", len(consents), "项", ""),
        ),
        order=10,
    )


class ServicesGlance:
    __liuzhi_name__ = "core.services"

    @hookimpl
    async def my_page(self, user_id: int, session: Any) -> MySection:
        return await participation(session, user_id)
