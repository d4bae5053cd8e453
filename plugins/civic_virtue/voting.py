"""The public vote, the count, the anomalies staff look at, and the award.

Votes are ``core.services.ballots`` casts: one ballot per category, an open electorate under the
campaign's voter rule, one cast per voter per ballot as a unique key in the database (so two
phones racing still make one vote), refused outside the vote period by the campaign's stage and
by the ballot's own window. The count is the ballot's tally over the stored rows; ``close``
stores it with a digest and ``ballots.verify`` recounts it.

Winners (``choose_winners``, one pure function): the most votes among candidates still
shortlisted and consenting; a tie at the last award is broken by the panel's average score, and
candidates still level share it (并列).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.basedata import Resident
from core.grids.models import GridNode
from core.services import ballots, documents, notices
from core.services._common import aware, now
from core.services.accounts.models import ResidentAccount
from core.services.ballots.models import CLOSED, OPEN, BallotCast
from core.services.documents.pdf import DocumentTemplate
from core.services.errors import Conflict, InvalidInput, lazy
from core.services.ledger.rules import post_by_rule
from plugins.civic_virtue import campaigns, nominations, review
from plugins.civic_virtue.models import AWARDED, WINNER, Campaign, CampaignCategory, Nomination

LOCAL = ZoneInfo("Asia/Shanghai")  # the anomaly view speaks in the district's clock


async def _options_by_nomination(session: AsyncSession, ballot_id: int) -> dict[int, int]:
    return {
        int(o.subject_id): o.id
        for o in await ballots.options_of(session, ballot_id)
        if o.subject_type == review.OPTION_SUBJECT and o.subject_id
    }


async def candidates(session: AsyncSession, campaign: Campaign, category_id: int | None = None) -> list[Nomination]:
    """Who may be voted for now: shortlisted, and consenting at this moment."""
    stmt = select(Nomination).where(
        Nomination.campaign_id == campaign.id, Nomination.status.in_(nominations.PUBLIC_STATUSES)
    )
    if category_id is not None:
        stmt = stmt.where(Nomination.category_id == category_id)
    rows = list((await session.execute(stmt.order_by(Nomination.category_id, Nomination.number))).scalars())
    return await nominations.publishable(session, rows)


async def vote(
    session: AsyncSession,
    campaign: Campaign,
    category_id: int,
    user_id: int,
    nomination_ids: Sequence[int],
    *,
    at: datetime | None = None,
) -> BallotCast:
    """``user_id`` votes in one category for up to ``votes_per_category`` candidates."""
    campaigns.require_stage(campaign, "vote", at)
    category = await campaigns.category(session, campaign.id, category_id)
    if category.ballot_id is None:
        raise Conflict(lazy("There is no public vote in this category."))
    if not nomination_ids:
        raise InvalidInput(lazy("Choose a candidate."), field="nomination_ids")
    valid = {n.id for n in await candidates(session, campaign, category.id)}
    options = await _options_by_nomination(session, category.ballot_id)
    if any(n not in valid or n not in options for n in nomination_ids):
        raise InvalidInput(lazy("Choose among this category's candidates."), field="nomination_ids")
    return await ballots.cast(session, category.ballot_id, user_id, [options[n] for n in nomination_ids], at=at)


async def my_votes(session: AsyncSession, campaign: Campaign, user_id: int) -> dict[int, list[int]]:
    """Category id → the nominations this user voted for (their own vote, shown back to them)."""
    out: dict[int, list[int]] = {}
    for cat in await campaigns.categories(session, campaign.id):
        if cat.ballot_id is None:
            continue
        ballot = await ballots.get(session, cat.ballot_id)
        cast_row, chosen = await ballots.my_vote(session, ballot, user_id)
        if cast_row is None:
            continue
        by_option = {o: n for n, o in (await _options_by_nomination(session, ballot.id)).items()}
        out[cat.id] = [by_option[o] for o in chosen if o in by_option]
    return out


@dataclass(frozen=True)
class CategoryCount:
    category: CampaignCategory
    votes: dict[int, int]  # nomination id → votes
    voters: int
    digest: str
    closed: bool


async def count(session: AsyncSession, campaign: Campaign) -> list[CategoryCount]:
    """The running (or stored) count of every category, from the ballots' stored rows."""
    out = []
    for cat in await campaigns.categories(session, campaign.id):
        if cat.ballot_id is None:
            continue
        ballot = await ballots.get(session, cat.ballot_id)
        tally = await ballots.tally(session, ballot)
        by_option = {o: n for n, o in (await _options_by_nomination(session, ballot.id)).items()}
        votes = {by_option[o.option_id]: o.heads for o in tally.counts.options if o.option_id in by_option}
        out.append(CategoryCount(cat, votes, tally.counts.cast_heads, tally.digest, ballot.status == CLOSED))
    return out


def choose_winners(ranked: Sequence[tuple[int, int, float | None]], awards: int) -> tuple[list[int], list[int]]:
    """``ranked``: (nomination id, votes, panel average) of the eligible candidates. Returns
    (winners, those among them sharing the last award). A candidate with no vote wins nothing."""

    def key(r: tuple[int, int, float | None]) -> tuple[int, float]:
        return (r[1], r[2] if r[2] is not None else -1.0)

    rows = sorted((r for r in ranked if r[1] > 0), key=lambda r: (*(-k for k in key(r)), r[0]))
    if len(rows) <= awards:
        return [r[0] for r in rows], []
    cut = key(rows[awards - 1])
    winners = [r[0] for r in rows[:awards]] + [r[0] for r in rows[awards:] if key(r) == cut]
    shared = [r[0] for r in rows if key(r) == cut] if len(winners) > awards else []
    return winners, shared


CERTIFICATE = DocumentTemplate(
    kind="certificate",
    title="荣誉证书",
    fields=(("姓名", "{name}"), ("评选活动", "{campaign}"), ("类别", "{category}")),
    paragraphs=("{name}同志：", "在“{campaign}”评选活动中，您被评为“{category}”{title}。", "特发此证，以资鼓励。"),
    closing="",
    signatures=("评选活动组织单位",),
)


@dataclass
class AwardResult:
    winners: list[Nomination] = field(default_factory=list)
    shared: list[int] = field(default_factory=list)
    notice_id: int | None = None


async def award(
    session: AsyncSession,
    campaign: Campaign,
    *,
    storage: Any,
    tenant: Any,
    base_url: str,
    at: datetime | None = None,
    points: tuple[str, int] | None = None,
) -> AwardResult:
    """After the vote: close every category's ballot (storing the tally and its digest), choose
    the winners, issue their certificates, and put the winners on notice. ``points`` — a district
    points rule and an amount — credits each winner with an account through the shared ledger,
    once per nomination (the posting key), so awarding again never pays twice."""
    campaigns.require_stage(campaign, "award", at)
    result = AwardResult()
    averages = {r.nomination.id: r.average for r in await review.ranking(session, campaign)}
    cats = await campaigns.categories(session, campaign.id)
    for cat in cats:
        if cat.ballot_id is None:
            continue
        ballot = await ballots.get(session, cat.ballot_id)
        if ballot.status == OPEN:
            await ballots.close(session, ballot)
        tally = await ballots.tally(session, ballot)
        by_option = {o: n for n, o in (await _options_by_nomination(session, ballot.id)).items()}
        votes = {by_option[o.option_id]: o.heads for o in tally.counts.options if o.option_id in by_option}
        eligible = await candidates(session, campaign, cat.id)
        for n in eligible:
            n.votes = votes.get(n.id, 0)
        win_ids, shared = choose_winners(
            [(n.id, votes.get(n.id, 0), averages.get(n.id)) for n in eligible], campaign.awards_per_category
        )
        result.shared += shared
        for n in eligible:
            if n.id in win_ids:
                n.status = WINNER
                doc = await documents.issue(
                    session,
                    storage,
                    tenant=tenant,
                    template=CERTIFICATE,
                    values={"name": n.nominee_name, "campaign": campaign.title, "category": cat.name, "title": ""},
                    base_url=base_url,
                    subject=("civic_virtue.nomination", str(n.id)),
                    node_path=n.node_path,
                    source="civic_virtue",
                    at=at,
                )
                n.certificate_id = doc.id
                if points and points[1] > 0 and n.nominee_user_id:
                    await post_by_rule(
                        session,
                        f"civic_virtue.award:{n.id}",
                        rule_code=points[0],
                        user_id=n.nominee_user_id,
                        amount=points[1],
                        memo=f"{campaign.title} · {cat.name}",
                        source="civic_virtue",
                    )
                result.winners.append(n)
    if result.winners:
        node = (await session.execute(select(GridNode).where(GridNode.id == campaign.node_id))).scalar_one()
        names = {c.id: c.name for c in cats}
        moment = at or now()
        notice = await notices.publish(
            session,
            title=f"“{campaign.title}”评选结果",
            body="\n".join(f"【{names.get(n.category_id, '')}】{n.nominee_name}：{n.headline}" for n in result.winners),
            node=node,
            starts_at=moment,
            ends_at=moment + (campaign.publicity_closes_at - campaign.review_closes_at),
            kind="result",
            source="civic_virtue",
            subject=("civic_virtue.campaign", str(campaign.id)),
            persons=[n.consent_subject for n in result.winners if n.consent_subject is not None],
            consent_purpose=nominations.PURPOSE,
        )
        campaign.winners_notice_id = result.notice_id = notice.id
    campaign.status, campaign.awarded_at = AWARDED, at or now()
    await session.flush()
    return result


@dataclass(frozen=True)
class Anomaly:
    kind: str  # "household" | "burst"
    label: str  # the household's node name, or the minute
    votes: int
    category: str


async def anomalies(session: AsyncSession, campaign: Campaign, *, per_household: int, per_minute: int) -> list[Anomaly]:
    """What staff should look at: more than ``per_household`` votes in one category from the
    accounts of one household, and minutes with more than ``per_minute`` votes (a burst)."""
    out: list[Anomaly] = []
    for cat in await campaigns.categories(session, campaign.id):
        if cat.ballot_id is None:
            continue
        casts = (
            await session.execute(
                select(BallotCast.cast_by, BallotCast.cast_at).where(BallotCast.ballot_id == cat.ballot_id)
            )
        ).all()
        voters = {u for u, _t in casts if u is not None}
        household_of: dict[int, int] = {}
        if voters:
            for user_id, node_id in await session.execute(
                select(ResidentAccount.user_id, Resident.node_id)
                .join(Resident, Resident.id == ResidentAccount.resident_id)
                .where(ResidentAccount.user_id.in_(voters), Resident.node_id.is_not(None))
            ):
                household_of[user_id] = node_id
        per_node = Counter(household_of[u] for u, _t in casts if u in household_of)
        crowded = {k: v for k, v in per_node.items() if v > per_household}
        if crowded:
            names = dict(
                (await session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(crowded)))).all()
            )
            out += [Anomaly("household", names.get(k, str(k)), v, cat.name) for k, v in crowded.items()]
        minutes = Counter(aware(t).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") for _u, t in casts)
        out += [Anomaly("burst", m, v, cat.name) for m, v in sorted(minutes.items()) if v > per_minute]
    out.sort(key=lambda a: -a.votes)
    return out


async def verify(session: AsyncSession, campaign: Campaign) -> dict[int, bool]:
    """Category id → whether the stored result recounts to the same tally and digest."""
    out = {}
    for cat in await campaigns.categories(session, campaign.id):
        if cat.ballot_id is not None:
            out[cat.id] = await ballots.verify(session, await ballots.get(session, cat.ballot_id))
    return out
