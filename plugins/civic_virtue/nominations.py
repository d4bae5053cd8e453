"""Nominations and the nominee's consent (个人信息保护法 第十四、二十九条: 单独同意).

A resident, a unit, staff — or the nominee themself where the campaign allows it — put someone
forward in a category with the story, photos and evidence. The nominee's phone, when given,
finds their account so they can consent on their own phone; staff may record a consent given in
person for a nominee on the register. Nothing about a nominee leaves the staff pages unless
``publishable`` says so, and it asks ``core.services.consent`` on every read: a withdrawal hides
the nominee at once everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.grids import validation
from core.grids.models import GridNode
from core.services import accounts, consent, eligibility
from core.services._common import announce
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.civic_virtue import campaigns
from plugins.civic_virtue.models import (
    DECLINED,
    NOMINATOR_KINDS,
    SHORTLISTED,
    WINNER,
    Campaign,
    Nomination,
)

PURPOSE = "civic_virtue.publish_profile"
SCOPE_ZH = "同意在评选公示、投票页面和榜样风采展示中公开我的姓名、照片和事迹"
PHONE_PURPOSE = b"civic_virtue.nominee_phone"
PHOTO_OWNER = "civic_virtue.nomination"
PUBLIC_STATUSES = (SHORTLISTED, WINNER)


@dataclass(frozen=True)
class NominationInput:
    category_id: int
    nominee_name: str
    headline: str
    story: str
    node: GridNode
    nominator_kind: str = "resident"
    evidence: str = ""
    nominee_phone: str = ""
    nominator_unit: str = ""
    nominee_user_id: int | None = None  # self-nomination, or staff choosing an account
    nominee_resident_id: int | None = None


async def nominate(
    session: AsyncSession, vault: Vault, campaign: Campaign, data: NominationInput, *, by_user_id: int | None
) -> Nomination:
    """Record a nomination in the nomination period. The nominee is asked for consent (an event
    the notifications turn into a message) before anything about them is shown."""
    campaigns.require_stage(campaign, "nominate")
    category = await campaigns.category(session, campaign.id, data.category_id)
    name, headline, story = _checked_texts(campaign, data)
    nominee_user_id = data.nominee_user_id
    if data.nominator_kind == "self":
        if not campaign.self_nomination:
            raise Conflict(lazy("This campaign does not take self-nominations."))
        nominee_user_id = by_user_id
    phone_enc = phone_masked = None
    if data.nominee_phone.strip():
        phone_enc, phone_masked, account_user_id = await _nominee_phone(session, vault, data.nominee_phone)
        if nominee_user_id is None:
            nominee_user_id = account_user_id
    await _check_nominee(session, campaign, category.id, data, nominee_user_id, by_user_id)
    nomination = Nomination(
        campaign_id=campaign.id,
        category_id=category.id,
        nominee_name=name,
        nominee_user_id=nominee_user_id,
        nominee_resident_id=data.nominee_resident_id,
        nominee_phone_enc=phone_enc,
        nominee_phone_masked=phone_masked,
        node_id=data.node.id,
        node_path=data.node.path,
        headline=headline,
        story=story,
        evidence=data.evidence.strip()[:5000],
        nominator_kind=data.nominator_kind,
        nominator_unit=data.nominator_unit.strip()[:100],
        nominated_by=by_user_id,
    )
    session.add(nomination)
    await session.flush()
    await announce(
        session,
        "civic_virtue.nominated",
        {"nomination_id": nomination.id, "campaign_id": campaign.id, "nominee_user_id": nominee_user_id},
    )
    return nomination


def _checked_texts(campaign: Campaign, data: NominationInput) -> tuple[str, str, str]:
    """The nomination's own fields, first problem first; returns name, headline and story trimmed."""
    name = data.nominee_name.strip()
    if not name or len(name) > 50:
        raise InvalidInput(lazy("Give the nominee's name (at most 50 characters)."), field="nominee_name")
    headline = data.headline.strip()
    if not headline or len(headline) > 100:
        raise InvalidInput(lazy("Sum up the deeds in one line of at most 100 characters."), field="headline")
    story = data.story.strip()
    if len(story) < 20 or len(story) > 5000:
        raise InvalidInput(lazy("Tell the story in 20 to 5000 characters."), field="story")
    if data.nominator_kind not in NOMINATOR_KINDS:
        raise InvalidInput(lazy("Say who is nominating."), field="nominator_kind")
    if data.nominator_kind == "unit" and not data.nominator_unit.strip():
        raise InvalidInput(lazy("Name the nominating unit."), field="nominator_unit")
    if not data.node.path.startswith(campaign.node_path):
        raise InvalidInput(lazy("The nominee lives or works outside this campaign's area."), field="node_id")
    return name, headline, story


async def _nominee_phone(session: AsyncSession, vault: Vault, text: str) -> tuple[bytes, str, int | None]:
    """The phone encrypted and masked, and the user of the account it finds (so they can consent)."""
    try:
        phone = validation.check_phone(text)
    except validation.InvalidValue:
        raise InvalidInput(lazy("The phone number is not valid."), field="nominee_phone") from None
    phone_enc, phone_masked = vault.encrypt(phone, PHONE_PURPOSE), validation.mask_phone(phone)
    account = await accounts.account_by_phone(session, vault, phone)
    return phone_enc, phone_masked, account.user_id if account is not None else None


async def _check_nominee(
    session: AsyncSession,
    campaign: Campaign,
    category_id: int,
    data: NominationInput,
    nominee_user_id: int | None,
    by_user_id: int | None,
) -> None:
    """Who may be put forward: not oneself by the back door, eligible, once per category."""
    if nominee_user_id is not None and nominee_user_id == by_user_id and data.nominator_kind != "self":
        raise InvalidInput(lazy("To put yourself forward, choose self-nomination."), field="nominator_kind")
    # 最美共产党员: only party members. The rule is checked on the nominee's account.
    if campaign.nominee_rule != eligibility.EVERYONE and (
        nominee_user_id is None
        or not await eligibility.is_eligible(session, campaign.nominee_rule, nominee_user_id, data.node.path)
    ):
        raise Conflict(
            lazy("The nominee does not meet this campaign's eligibility (%(rule)s)."), rule=campaign.nominee_rule
        )
    if nominee_user_id is not None:
        dup = await session.execute(
            select(Nomination.id).where(
                Nomination.campaign_id == campaign.id,
                Nomination.category_id == category_id,
                Nomination.nominee_user_id == nominee_user_id,
            )
        )
        if dup.first() is not None:
            raise Conflict(lazy("This person is already nominated in this category."))


async def get(session: AsyncSession, nomination_id: int) -> Nomination:
    found = (await session.execute(select(Nomination).where(Nomination.id == nomination_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no nomination %(id)s."), id=nomination_id)
    return found


async def give_consent(
    session: AsyncSession, nomination: Nomination, *, user_id: int | None, channel: str = "online"
) -> None:
    """The nominee agrees to publication: online by themself, or recorded by staff (in person, by
    phone). One consent covers every campaign: it is the person's, for this purpose."""
    subject = nomination.consent_subject
    if subject is None:
        raise Conflict(lazy("Link the nominee to an account or a register record before recording consent."))
    if channel == "online" and (subject[0] != "user" or subject[1] != user_id):
        raise NotFound(lazy("There is no nomination %(id)s."), id=nomination.id)
    if nomination.status == DECLINED:
        nomination.status = "submitted"
    await consent.give(session, subject, PURPOSE, SCOPE_ZH, channel=channel)
    record(session, "civic_virtue.consent", "cv_nominations", nomination.id, {"channel": channel})


async def withdraw_consent(session: AsyncSession, nomination: Nomination, *, user_id: int | None, channel: str) -> None:
    """Withdraw at once: every public page drops the nominee on its next read (and the notices
    board drops the notice that names them)."""
    subject = nomination.consent_subject
    if subject is None:
        raise Conflict(lazy("There is no consent in force to withdraw."))
    if channel == "online" and (subject[0] != "user" or subject[1] != user_id):
        raise NotFound(lazy("There is no nomination %(id)s."), id=nomination.id)
    await consent.withdraw(session, subject, PURPOSE, channel=channel)


async def decline(session: AsyncSession, nomination: Nomination, *, user_id: int) -> None:
    """The nominee does not want to take part: the nomination stops here."""
    subject = nomination.consent_subject
    if subject is None or subject != ("user", user_id):
        raise NotFound(lazy("There is no nomination %(id)s."), id=nomination.id)
    if nomination.status == WINNER:
        raise Conflict(lazy("An award cannot be declined here; withdraw your consent instead."))
    nomination.status = DECLINED
    if await consent.current(session, subject, PURPOSE) is not None:
        await consent.withdraw(session, subject, PURPOSE, channel="online")
    await session.flush()


async def consented(session: AsyncSession, rows: Iterable[Nomination]) -> set[int]:
    """Ids of the nominations whose nominee consents now: one query for a whole list."""
    rows = list(rows)
    subjects = {n.consent_subject for n in rows if n.consent_subject is not None}
    ok = await consent.consenting(session, subjects, PURPOSE)
    return {n.id for n in rows if n.consent_subject in ok}


async def publishable(session: AsyncSession, rows: Sequence[Nomination]) -> list[Nomination]:
    """The rule for every public page: shortlisted or awarded, and the nominee consents now."""
    candidates = [n for n in rows if n.status in PUBLIC_STATUSES]
    ok = await consented(session, candidates)
    return [n for n in candidates if n.id in ok]


async def is_public(session: AsyncSession, nomination: Nomination) -> bool:
    return bool(await publishable(session, [nomination]))


async def about_me(session: AsyncSession, user_id: int) -> list[tuple[Nomination, Campaign, bool]]:
    """Nominations naming this user, with whether their consent is in force (for 我的 and the API)."""
    stmt = (
        select(Nomination, Campaign)
        .join(Campaign, Campaign.id == Nomination.campaign_id)
        .where(Nomination.nominee_user_id == user_id)
        .order_by(Nomination.created_at.desc())
        .limit(100)
    )
    rows = [(n, c) for n, c in (await session.execute(stmt)).all()]
    ok = await consented(session, [n for n, _c in rows])
    return [(n, c, n.id in ok) for n, c in rows]


async def by_me(session: AsyncSession, user_id: int) -> list[tuple[Nomination, Campaign]]:
    stmt = (
        select(Nomination, Campaign)
        .join(Campaign, Campaign.id == Nomination.campaign_id)
        .where(Nomination.nominated_by == user_id)
        .order_by(Nomination.created_at.desc())
        .limit(100)
    )
    return [(n, c) for n, c in (await session.execute(stmt)).all()]


async def served_record(session: AsyncSession, nomination: Nomination) -> Any:
    """The nominee's volunteer record from the shared activities service (what co_governance's
    star volunteers have served), attached to the nomination for the panel. None without an account."""
    if nomination.nominee_user_id is None:
        return None
    from core.services import activities

    return await activities.served(session, nomination.nominee_user_id)


def who_may_act(nomination: Nomination, user_id: int | None) -> bool:
    return user_id is not None and user_id in (nomination.nominated_by, nomination.nominee_user_id)
