"""Campaigns: set one up (kind, categories, eligibility, periods, awards), find one, say its stage.

The kinds the district runs are data (``KINDS``); 道德模范 comes with its five categories, the
others with one category unless the organiser names their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services import eligibility
from core.services._common import actor_user_id, now
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.civic_virtue.models import AWARDED, CANCELLED, Campaign, CampaignCategory, Nomination
from plugins.civic_virtue.stages import PeriodError, Periods, Stage, allowed, stage_at

MORAL_MODEL_CATEGORIES = ("助人为乐", "见义勇为", "诚实守信", "敬业奉献", "孝老爱亲")


@dataclass(frozen=True)
class Kind:
    code: str
    name_zh: str
    name_en: str
    categories: tuple[str, ...]
    nominee_rule: str = eligibility.EVERYONE

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


KINDS = {
    k.code: k
    for k in (
        Kind("moral_model", "道德模范", "Moral models", MORAL_MODEL_CATEGORIES),
        Kind("role_model", "身边的榜样", "Role models next door", ("身边的榜样",)),
        # Limited to party members: the party_leadership pillar grants that role; without it no
        # one holds it and the organiser chooses another rule.
        Kind("party_member", "最美共产党员", "Finest Communist Party members", ("最美共产党员",), "role:party_member"),
        Kind("finest_citizen", "最美双滦人", "Finest citizens", ("最美双滦人",)),
        Kind("custom", "其他评选", "Other campaign", ()),
    )
}


@dataclass(frozen=True)
class CampaignInput:
    title: str
    kind: str
    node: GridNode
    periods: Periods
    categories: Sequence[str] = ()
    description: str = ""
    nominee_rule: str | None = None
    voter_rule: str = eligibility.RESIDENTS
    self_nomination: bool = False
    awards_per_category: int = 1
    votes_per_category: int = 1


async def create(session: AsyncSession, data: CampaignInput, *, min_publicity_days: int = 5) -> Campaign:
    title = data.title.strip()
    if not title or len(title) > 200:
        raise InvalidInput(lazy("A campaign needs a title of at most 200 characters."), field="title")
    kind = KINDS.get(data.kind)
    if kind is None:
        raise InvalidInput(lazy("Choose the kind of campaign."), field="kind")
    names = [n.strip() for n in data.categories if n.strip()] or list(kind.categories)
    if not names:
        raise InvalidInput(lazy("Name at least one category."), field="categories")
    if len(set(names)) != len(names) or any(len(n) > 50 for n in names) or len(names) > 20:
        raise InvalidInput(
            lazy("Categories are distinct names of at most 50 characters, 20 at most."), field="categories"
        )
    if not 1 <= data.awards_per_category <= 100:
        raise InvalidInput(lazy("Awards per category are between 1 and 100."), field="awards_per_category")
    if not 1 <= data.votes_per_category <= 20:
        raise InvalidInput(lazy("Votes per category are between 1 and 20."), field="votes_per_category")
    try:
        data.periods.check(min_publicity_days=min_publicity_days)
    except PeriodError as e:
        raise InvalidInput(e.message, field=e.field, days=min_publicity_days) from None
    campaign = Campaign(
        title=title,
        kind=kind.code,
        description=data.description.strip(),
        node_id=data.node.id,
        node_path=data.node.path,
        nominee_rule=eligibility.check_rule(data.nominee_rule or kind.nominee_rule),
        voter_rule=eligibility.check_rule(data.voter_rule),
        self_nomination=data.self_nomination,
        awards_per_category=data.awards_per_category,
        votes_per_category=data.votes_per_category,
        nomination_opens_at=data.periods.nomination_opens_at,
        nomination_closes_at=data.periods.nomination_closes_at,
        review_closes_at=data.periods.review_closes_at,
        publicity_closes_at=data.periods.publicity_closes_at,
        vote_closes_at=data.periods.vote_closes_at,
        created_by=actor_user_id(session),
    )
    session.add(campaign)
    await session.flush()
    for position, name in enumerate(names, 1):
        session.add(CampaignCategory(campaign_id=campaign.id, position=position, name=name))
    await session.flush()
    return campaign


def periods_of(campaign: Campaign) -> Periods:
    return Periods(
        campaign.nomination_opens_at,
        campaign.nomination_closes_at,
        campaign.review_closes_at,
        campaign.publicity_closes_at,
        campaign.vote_closes_at,
    )


def stage(campaign: Campaign, at: datetime | None = None) -> Stage:
    return stage_at(
        periods_of(campaign),
        at or now(),
        awarded=campaign.status == AWARDED,
        cancelled=campaign.status == CANCELLED,
    )


def require_stage(campaign: Campaign, step: str, at: datetime | None = None) -> Stage:
    """Refuse ``step`` outside its stage (``stages.ALLOWED``), naming the stage the campaign is in."""
    current = stage(campaign, at)
    if not allowed(step, current):
        from plugins.civic_virtue.stages import STAGE_LABELS

        raise Conflict(lazy("Not possible now: the campaign is in its %(stage)s stage."), stage=STAGE_LABELS[current])
    return current


async def get(session: AsyncSession, campaign_id: int) -> Campaign:
    found = (await session.execute(select(Campaign).where(Campaign.id == campaign_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no campaign %(id)s."), id=campaign_id)
    return found


async def categories(session: AsyncSession, campaign_id: int) -> list[CampaignCategory]:
    stmt = (
        select(CampaignCategory)
        .where(CampaignCategory.campaign_id == campaign_id)
        .order_by(CampaignCategory.position, CampaignCategory.id)
    )
    return list((await session.execute(stmt)).scalars())


async def category(session: AsyncSession, campaign_id: int, category_id: int) -> CampaignCategory:
    stmt = select(CampaignCategory).where(
        CampaignCategory.id == category_id, CampaignCategory.campaign_id == campaign_id
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise InvalidInput(lazy("Choose one of the campaign's categories."), field="category_id")
    return found


async def nomination_counts(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    stmt = (
        select(Nomination.campaign_id, func.count())
        .where(Nomination.campaign_id.in_(campaign_ids))
        .group_by(Nomination.campaign_id)
    )
    return {cid: int(n) for cid, n in await session.execute(stmt)}


async def cancel(session: AsyncSession, campaign: Campaign) -> Campaign:
    if campaign.status in (AWARDED, CANCELLED):
        raise Conflict(lazy("This campaign has already ended."))
    campaign.status = CANCELLED
    await session.flush()
    return campaign
