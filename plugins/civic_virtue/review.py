"""The panel's review: scores with comments, the shortlist, and its 公示.

Panel members score nominations (0–100, one score each, changeable during the review). Staff
shortlist from the ranking; only a nominee who has consented can be shortlisted, because the
shortlist is published. Publishing puts the shortlist on public notice
(``core.services.notices``, naming the persons and the consent purpose, so the board drops it if
one withdraws) for the 公示 period and opens the public vote: one ballot per category
(``core.services.ballots``), whose options name candidates by number, never by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.grids.models import GridNode
from core.services import ballots, notices
from core.services._common import now
from core.services.ballots.models import ELECTION
from core.services.ballots.service import OptionSpec
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.civic_virtue import campaigns, nominations
from plugins.civic_virtue.models import (
    NOT_SHORTLISTED,
    SHORTLISTED,
    SUBMITTED,
    Campaign,
    CampaignCategory,
    Nomination,
    ReviewScore,
)

OPTION_SUBJECT = "civic_virtue.nomination"


async def score(
    session: AsyncSession, nomination: Nomination, reviewer_id: int, value: int, comment: str = ""
) -> ReviewScore:
    campaign = await campaigns.get(session, nomination.campaign_id)
    campaigns.require_stage(campaign, "score")
    if not 0 <= value <= 100:
        raise InvalidInput(lazy("A score is between 0 and 100."), field="score")
    if nomination.status not in (SUBMITTED, SHORTLISTED, NOT_SHORTLISTED):
        raise Conflict(lazy("This nomination is no longer under review."))
    found = (
        await session.execute(
            select(ReviewScore).where(
                ReviewScore.nomination_id == nomination.id, ReviewScore.reviewer_id == reviewer_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        found = ReviewScore(nomination_id=nomination.id, reviewer_id=reviewer_id, score=value)
        session.add(found)
    found.score, found.comment, found.scored_at = value, comment.strip()[:2000], now()
    await session.flush()
    return found


@dataclass(frozen=True)
class Ranked:
    nomination: Nomination
    average: float | None
    scores: int
    consented: bool


async def ranking(session: AsyncSession, campaign: Campaign, category_id: int | None = None) -> list[Ranked]:
    """Nominations with their average panel score, best first (unscored last), and whether the
    nominee has consented (the panel sees it before shortlisting)."""
    avg = (
        select(ReviewScore.nomination_id, func.avg(ReviewScore.score).label("avg"), func.count().label("n"))
        .group_by(ReviewScore.nomination_id)
        .subquery()
    )
    stmt = (
        select(Nomination, avg.c.avg, avg.c.n)
        .outerjoin(avg, avg.c.nomination_id == Nomination.id)
        .where(Nomination.campaign_id == campaign.id)
    )
    if category_id is not None:
        stmt = stmt.where(Nomination.category_id == category_id)
    rows = [(n, float(a) if a is not None else None, int(c or 0)) for n, a, c in await session.execute(stmt)]
    ok = await nominations.consented(session, [n for n, _a, _c in rows])
    rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0), r[0].created_at, r[0].id))
    return [Ranked(n, a, c, n.id in ok) for n, a, c in rows]


async def set_shortlisted(session: AsyncSession, nomination: Nomination, shortlisted: bool, note: str = "") -> None:
    campaign = await campaigns.get(session, nomination.campaign_id)
    campaigns.require_stage(campaign, "shortlist")
    if campaign.shortlist_notice_id is not None:
        raise Conflict(lazy("The shortlist is already on public notice."))
    if nomination.status not in (SUBMITTED, SHORTLISTED, NOT_SHORTLISTED):
        raise Conflict(lazy("This nomination is no longer under review."))
    if shortlisted and nomination.id not in await nominations.consented(session, [nomination]):
        raise Conflict(lazy("The nominee has not consented to publication: they cannot be shortlisted."))
    nomination.status = SHORTLISTED if shortlisted else NOT_SHORTLISTED
    nomination.review_note = note.strip()[:2000] or nomination.review_note
    await session.flush()


async def publish_shortlist(
    session: AsyncSession, campaign: Campaign, *, title: str | None = None, at: datetime | None = None
) -> int:
    """Put the shortlist on notice for the 公示 period and open one ballot per category; the
    candidates are numbered (候选人编号) within their category. Returns the notice id."""
    campaigns.require_stage(campaign, "publish_shortlist", at)
    if campaign.shortlist_notice_id is not None:
        raise Conflict(lazy("The shortlist is already on public notice."))
    cats = await campaigns.categories(session, campaign.id)
    short = list(
        (
            await session.execute(
                select(Nomination)
                .where(Nomination.campaign_id == campaign.id, Nomination.status == SHORTLISTED)
                .order_by(Nomination.category_id, Nomination.created_at, Nomination.id)
            )
        ).scalars()
    )
    if not short:
        raise Conflict(lazy("Shortlist at least one nominee first."))
    by_category: dict[int, list[Nomination]] = {}
    for n in short:
        by_category.setdefault(n.category_id, []).append(n)
    # Everyone named must consent now: notices.publish checks too, and refuses the whole notice.
    missing = [n for n in short if n.id not in await nominations.consented(session, short)]
    if missing:
        raise Conflict(
            lazy("%(name)s has withdrawn consent: take them off the shortlist first."), name=missing[0].nominee_name
        )
    node = (await session.execute(select(GridNode).where(GridNode.id == campaign.node_id))).scalar_one()
    lines = []
    for cat in cats:
        for number, n in enumerate(by_category.get(cat.id, []), 1):
            n.number = number
            lines.append(f"【{cat.name}】{number}号 {n.nominee_name}：{n.headline}")
    notice = await notices.publish(
        session,
        title=title or f"“{campaign.title}”候选人公示",
        body="\n".join(lines),
        node=node,
        starts_at=campaign.review_closes_at,
        ends_at=campaign.publicity_closes_at,
        kind="shortlist",
        source="civic_virtue",
        subject=("civic_virtue.campaign", str(campaign.id)),
        persons=[n.consent_subject for n in short if n.consent_subject is not None],
        consent_purpose=nominations.PURPOSE,
    )
    campaign.shortlist_notice_id = notice.id
    for cat in cats:
        candidates = by_category.get(cat.id, [])
        if not candidates:
            continue
        await _open_ballot(session, campaign, cat, node, candidates)
    await session.flush()
    return notice.id


async def _open_ballot(
    session: AsyncSession, campaign: Campaign, cat: CampaignCategory, node: GridNode, candidates: list[Nomination]
) -> None:
    options = [OptionSpec(f"{n.number}号候选人", "", OPTION_SUBJECT, str(n.id)) for n in candidates]
    if len(options) < 2:  # a ballot needs two options; a single candidate is confirmed by vote count alone
        options.append(OptionSpec("（无其他候选人）", "abstain"))
    ballot = await ballots.create(
        session,
        title=f"{campaign.title} · {cat.name}",
        node=node,
        rule="plurality",
        rule_params={"seats": campaign.awards_per_category},
        opens_at=campaign.publicity_closes_at,
        closes_at=campaign.vote_closes_at,
        options=options,
        kind=ELECTION,
        max_choices=min(campaign.votes_per_category, len(options)),
        open_electorate=True,
        eligibility_rule=campaign.voter_rule,
        source="civic_virtue",
    )
    await ballots.open_ballot(session, ballot)
    cat.ballot_id = ballot.id


async def drop_from_shortlist(session: AsyncSession, nomination: Nomination, reason: str) -> None:
    """After an objection is upheld (or the nominee withdraws): off the shortlist and out of the
    count. Their ballot option stays (the ballot is frozen) but is refused and not counted."""
    if not reason.strip():
        raise InvalidInput(lazy("Say why the nominee is taken off the shortlist."), field="reason")
    if nomination.status != SHORTLISTED:
        raise Conflict(lazy("Only a shortlisted nominee can be taken off the shortlist."))
    nomination.status = NOT_SHORTLISTED
    nomination.review_note = (nomination.review_note + "\n" + reason.strip()).strip()[:2000]
    record(session, "civic_virtue.unshortlist", "cv_nominations", nomination.id, {"reason": reason.strip()[:300]})
    await session.flush()


async def shortlist_notice(session: AsyncSession, campaign: Campaign) -> object | None:
    if campaign.shortlist_notice_id is None:
        return None
    try:
        return await notices.get(session, campaign.shortlist_notice_id)
    except NotFound:
        return None


def scores_by_reviewer(rows: list[ReviewScore]) -> Mapping[int, ReviewScore]:
    return {r.reviewer_id: r for r in rows}


async def scores_of(session: AsyncSession, nomination_id: int) -> list[ReviewScore]:
    stmt = select(ReviewScore).where(ReviewScore.nomination_id == nomination_id).order_by(ReviewScore.scored_at)
    return list((await session.execute(stmt)).scalars())
