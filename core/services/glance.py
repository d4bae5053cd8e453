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


async def node_glance(session: AsyncSession, node: Any) -> list[Figure]:
    """What the shared services hold for a node and its subtree this year, whoever published it:
    activities held and hours served, ballots closed, notices up now."""
    from datetime import UTC, datetime

    from core.rbac.scope import in_scope
    from core.services.activities.models import Activity, ActivitySignup
    from core.services.ballots.models import Ballot
    from core.services.notices.models import Notice

    now = datetime.now(UTC)
    year = datetime(now.year, 1, 1, tzinfo=UTC)
    under = [node.path]
    held, minutes = (
        await session.execute(
            select(func.count(func.distinct(Activity.id)), func.coalesce(func.sum(ActivitySignup.minutes), 0))
            .select_from(Activity)
            .outerjoin(ActivitySignup, ActivitySignup.activity_id == Activity.id)
            .where(in_scope(Activity.node_path, under), Activity.starts_at >= year, Activity.status == "published")
        )
    ).one()
    ballots_closed = await session.scalar(
        select(func.count())
        .select_from(Ballot)
        .where(in_scope(Ballot.node_path, under), Ballot.status == "closed", Ballot.closed_at >= year)
    )
    notices_up = await session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(
            in_scope(Notice.node_path, under),
            Notice.status == "published",
            Notice.starts_at <= now,
            Notice.ends_at > now,
        )
    )
    return [
        Figure("今年活动", "Activities this year", int(held or 0), "场", "", href="/activities/manage", order=10),
        Figure("服务时长", "Hours served", round(int(minutes or 0) / 60, 1), "小时", "h", order=11),
        Figure(
            "今年表决", "Ballots closed this year", int(ballots_closed or 0), "次", "", href="/ballots/manage", order=12
        ),
        Figure("公示中", "On notice now", int(notices_up or 0), "项", "", href=f"/board/{node.id}", order=13),
    ]


class ServicesGlance:
    __liuzhi_name__ = "core.services"

    @hookimpl
    async def my_page(self, user_id: int, session: Any) -> MySection:
        return await participation(session, user_id)

    @hookimpl
    async def node_figures(self, node: Any, session: Any) -> list[Figure]:
        return await node_glance(session, node)
