"""Headline figures of the pillar for an area (dashboard widget, node page), a person (我的) and
the operator's usage page — a few cheap queries each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.ballots.models import BallotCast, BallotElectorMember
from plugins.civic_virtue import festivals
from plugins.civic_virtue.models import AWARDED, CANCELLED, Campaign, CampaignCategory, Nomination, ThemedPlace


@dataclass(frozen=True)
class AreaGlance:
    campaigns_running: int
    votes: int
    events: int
    participants: int
    festivals: int
    places: int


def year_start(at: datetime | None = None) -> datetime:
    moment = at or datetime.now(UTC)
    return datetime(moment.year, 1, 1, tzinfo=UTC)


async def area(session: AsyncSession, prefixes: list[str]) -> AreaGlance:
    since = year_start()
    running = await session.scalar(
        select(func.count())
        .select_from(Campaign)
        .where(in_scope(Campaign.node_path, prefixes), Campaign.status.not_in((AWARDED, CANCELLED)))
    )
    votes = await session.scalar(
        select(func.count())
        .select_from(BallotCast)
        .join(CampaignCategory, CampaignCategory.ballot_id == BallotCast.ballot_id)
        .join(Campaign, Campaign.id == CampaignCategory.campaign_id)
        .where(in_scope(Campaign.node_path, prefixes), BallotCast.cast_at >= since)
    )
    ev = await festivals.figures(session, prefixes, since=since)
    places = await session.scalar(
        select(func.count()).select_from(ThemedPlace).where(in_scope(ThemedPlace.node_path, prefixes))
    )
    return AreaGlance(int(running or 0), int(votes or 0), ev.events, ev.participants, ev.festivals, int(places or 0))


async def mine(session: AsyncSession, user_id: int) -> dict[str, int]:
    nominated = await session.scalar(
        select(func.count()).select_from(Nomination).where(Nomination.nominated_by == user_id)
    )
    about_me = await session.scalar(
        select(func.count()).select_from(Nomination).where(Nomination.nominee_user_id == user_id)
    )
    votes = await session.scalar(
        select(func.count())
        .select_from(BallotElectorMember)
        .join(CampaignCategory, CampaignCategory.ballot_id == BallotElectorMember.ballot_id)
        .join(BallotCast, BallotCast.elector_id == BallotElectorMember.elector_id)
        .where(BallotElectorMember.user_id == user_id)
    )
    return {"nominated": int(nominated or 0), "about_me": int(about_me or 0), "votes": int(votes or 0)}


async def usage(session: AsyncSession) -> dict[str, int]:
    campaigns = await session.scalar(select(func.count()).select_from(Campaign))
    noms = await session.scalar(select(func.count()).select_from(Nomination))
    ev = await festivals.figures(session, ["/"])
    return {_("Campaigns"): int(campaigns or 0), _("Nominations"): int(noms or 0), _("Activities"): ev.events}
