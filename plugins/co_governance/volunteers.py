"""Volunteers: registration, teams, activities (through core's activities service), service records
with who organised and who recorded (谁组织谁记录、谁记录谁证明), and the points they earn (through
core's ledger, by the tenant's rules; a change of hours is a reversal and a new posting, never an
edit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.grids import validation
from core.grids.models import GridNode
from core.identity.models import User
from core.services import activities, ledger
from core.services._common import actor_user_id, announce, atomic
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.co_governance import numbers, rules
from plugins.co_governance.models import ActivityInfo, ServiceRecord, Team, TeamMember, Volunteer

SOURCE = "co_governance"
PHONE_PURPOSE = b"co_governance.volunteer_phone"
ISSUED = "co_governance:points:issued"
CATEGORIES = ("助老助残", "环境保护", "文明劝导", "应急救援", "文化服务", "社区治理", "其他")
SKILLS = ("医疗护理", "心理疏导", "法律咨询", "维修", "教育辅导", "文艺", "驾驶", "摄影", "外语", "其他")
_ID_NUMBER = __import__("re").compile(r"\d{17}[\dXx]")


def points_account_key(volunteer_id: int) -> str:
    return f"co_governance:points:volunteer:{volunteer_id}"


# ---- registration ----------------------------------------------------------------------------


async def register(
    session: AsyncSession,
    vault: Any,
    *,
    name: str,
    phone: str,
    node: GridNode,
    number_format: str,
    skills: list[str] | str = (),
    availability: str = "",
    user_id: int | None = None,
    at: datetime | None = None,
) -> Volunteer:
    """Register a volunteer with a number in the tenant's format (never the 身份证号)."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 50:
        raise InvalidInput(lazy("Give the volunteer's name (at most 50 characters)."), field="name")
    try:
        phone_value = validation.check_phone(phone or "")
    except validation.InvalidValue:
        raise InvalidInput(lazy("Enter a valid mobile number."), field="phone") from None
    skill_list = [s.strip() for s in (skills.split(",") if isinstance(skills, str) else skills) if s.strip()]
    skill_text = ",".join(dict.fromkeys(skill_list))
    if len(skill_text) > 300:
        raise InvalidInput(lazy("List at most 300 characters of skills."), field="skills")
    availability = (availability or "").strip()
    if len(availability) > 200:
        raise InvalidInput(lazy("Describe availability in at most 200 characters."), field="availability")
    if any(_ID_NUMBER.search(text) for text in (skill_text, availability)):
        raise InvalidInput(lazy("Do not enter an ID number here."), field="skills")
    if user_id is not None and await by_user(session, user_id) is not None:
        raise Conflict(lazy("You are already registered as a volunteer."))
    moment = at or datetime.now(UTC)
    seq = await numbers.bump(session, f"volunteer:{moment.astimezone(numbers.LOCAL).year}")
    try:
        number = rules.volunteer_number(number_format, moment.astimezone(numbers.LOCAL).year, seq)
    except ValueError:
        raise InvalidInput(lazy("The volunteer number format %(fmt)s is not valid."), fmt=number_format) from None
    volunteer = Volunteer(
        number=number,
        user_id=user_id,
        name=name,
        phone_enc=vault.encrypt(phone_value, PHONE_PURPOSE),
        phone_masked=validation.mask_phone(phone_value),
        skills=skill_text,
        availability=availability,
        node_id=node.id,
        node_path=node.path,
        registered_at=moment,
    )
    try:
        async with atomic(session):
            session.add(volunteer)
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("You are already registered as a volunteer.")) from None
    return volunteer


async def get(session: AsyncSession, volunteer_id: int) -> Volunteer:
    found = await session.scalar(select(Volunteer).where(Volunteer.id == volunteer_id))
    if found is None:
        raise NotFound(lazy("There is no volunteer %(id)s."), id=volunteer_id)
    return found


async def by_user(session: AsyncSession, user_id: int) -> Volunteer | None:
    return await session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))


async def by_number(session: AsyncSession, number: str) -> Volunteer | None:
    return await session.scalar(select(Volunteer).where(Volunteer.number == number.strip()))


# ---- teams -----------------------------------------------------------------------------------


async def create_team(session: AsyncSession, *, name: str, node: GridNode, description: str = "") -> Team:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(lazy("A team needs a name of at most 100 characters."), field="name")
    team = Team(name=name, node_id=node.id, node_path=node.path, description=(description or "").strip()[:2000])
    try:
        async with atomic(session):
            session.add(team)
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("There is already a team called %(name)s here."), name=name) from None
    return team


async def get_team(session: AsyncSession, team_id: int) -> Team:
    found = await session.scalar(select(Team).where(Team.id == team_id))
    if found is None:
        raise NotFound(lazy("There is no team %(id)s."), id=team_id)
    return found


async def join_team(session: AsyncSession, team: Team, volunteer: Volunteer) -> TeamMember:
    if volunteer.status != "active":
        raise Conflict(lazy("This volunteer is suspended."))
    member = TeamMember(team_id=team.id, volunteer_id=volunteer.id)
    try:
        async with atomic(session):
            session.add(member)
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("Already a member of this team.")) from None
    return member


async def leave_team(session: AsyncSession, team: Team, volunteer: Volunteer) -> None:
    member = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.volunteer_id == volunteer.id)
    )
    if member is None:
        raise Conflict(lazy("Not a member of this team."))
    await session.delete(member)
    await session.flush()


async def teams_of(session: AsyncSession, volunteer_id: int) -> list[Team]:
    stmt = select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.volunteer_id == volunteer_id)
    return list((await session.execute(stmt.order_by(Team.name))).scalars())


# ---- activities ------------------------------------------------------------------------------


async def publish_activity(
    session: AsyncSession,
    *,
    title: str,
    node: GridNode,
    starts_at: datetime,
    ends_at: datetime,
    category: str,
    organiser: str,
    capacity: int | None = None,
    team_id: int | None = None,
    place: str = "",
    description: str = "",
) -> activities.Activity:
    """A volunteer activity: core's activity plus who organises it."""
    if category not in CATEGORIES:
        raise InvalidInput(lazy("Choose a service category."), field="category")
    organiser = (organiser or "").strip()
    if not 1 <= len(organiser) <= 100:
        raise InvalidInput(lazy("Name the organising unit (at most 100 characters)."), field="organiser")
    if team_id is not None:
        await get_team(session, team_id)
    act = await activities.publish(
        session,
        title=title,
        node=node,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        signup_closes_at=starts_at,
        place=place,
        description=description,
        category=category,
        source=SOURCE,
    )
    session.add(ActivityInfo(activity_id=act.id, team_id=team_id, organiser=organiser))
    await session.flush()
    return act


async def organiser_of(session: AsyncSession, activity_id: int) -> str:
    return await session.scalar(select(ActivityInfo.organiser).where(ActivityInfo.activity_id == activity_id)) or ""


async def sign_up(
    session: AsyncSession, activity_id: int, volunteer: Volunteer, *, at: datetime | None = None, by_staff: bool = False
) -> Any:
    if volunteer.user_id is None:
        raise Conflict(lazy("This volunteer has no account to sign up with."))
    if volunteer.status != "active":
        raise Conflict(lazy("This volunteer is suspended."))
    return await activities.sign_up(session, activity_id, volunteer.user_id, at=at, by_staff=by_staff)


# ---- service records and points --------------------------------------------------------------


async def _year_points(session: AsyncSession, volunteer_id: int, year: int, exclude: int | None) -> tuple[int, dict]:
    stmt = (
        select(ServiceRecord.category, func.coalesce(func.sum(ServiceRecord.points), 0))
        .where(
            ServiceRecord.volunteer_id == volunteer_id,
            ServiceRecord.served_on >= date(year, 1, 1),
            ServiceRecord.served_on <= date(year, 12, 31),
        )
        .group_by(ServiceRecord.category)
    )
    if exclude is not None:
        stmt = stmt.where(ServiceRecord.id != exclude)
    by_category = {c: int(p) for c, p in (await session.execute(stmt)).all()}
    return sum(by_category.values()), by_category


async def record_service(
    session: AsyncSession,
    activity_id: int,
    volunteer: Volunteer,
    minutes: int,
    rule: rules.PointsRule,
    *,
    recorder_name: str = "",
) -> ServiceRecord:
    """Record (or correct) ``volunteer``'s time at an activity and post the points it earns.

    Idempotent: the same minutes again change nothing. Different minutes reverse the earlier
    posting and post the new amount; cumulative minutes follow by the difference."""
    if not 0 <= minutes <= activities.service.MAX_MINUTES:
        raise InvalidInput(lazy("Served time is between 0 and 24 hours."), field="minutes")
    act = await activities.get(session, activity_id)
    served_on = activities.service.aware(act.starts_at).astimezone(numbers.LOCAL).date()
    existing = await session.scalar(
        select(ServiceRecord).where(ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.activity_id == act.id)
    )
    if existing is not None and existing.minutes == minutes:
        return existing
    async with atomic(session):
        if existing is None:
            rec = ServiceRecord(
                volunteer_id=volunteer.id,
                activity_id=act.id,
                title=act.title[:200],
                category=act.category or "其他",
                served_on=served_on,
                minutes=minutes,
                organiser=(await organiser_of(session, act.id)) or act.source or "",
                recorded_by=actor_user_id(session),
                recorder_name=recorder_name[:100],
                points=0,
            )
            session.add(rec)
            await session.flush()
            delta = minutes
        else:
            rec, delta = existing, minutes - existing.minutes
            record(
                session,
                "co_governance.hours_edit",
                "cg_service_records",
                rec.id,
                {"minutes": [rec.minutes, minutes], "volunteer": volunteer.number},
            )
            rec.minutes, rec.recorded_by = minutes, actor_user_id(session)
            if recorder_name:
                rec.recorder_name = recorder_name[:100]
        total, by_category = await _year_points(session, volunteer.id, served_on.year, rec.id)
        points = rule.award(
            minutes,
            rec.category,
            earned_year=ledger.from_units(total),
            earned_year_category=ledger.from_units(by_category.get(rec.category, 0)),
        )
        await _repost(session, rec, volunteer, points)
        if delta:
            await session.execute(
                update(Volunteer)
                .where(Volunteer.id == volunteer.id)
                .values(minutes_total=Volunteer.minutes_total + delta)
                .execution_options(synchronize_session=False)
            )
        await session.flush()
    before = rules.star_level(volunteer.minutes_total)
    await session.refresh(volunteer, ["minutes_total"])
    after = rules.star_level(volunteer.minutes_total)
    if after > before:
        # civic_virtue (if on) may nominate star volunteers; delivered after commit, never on rollback
        await announce(
            session,
            "co_governance.volunteer.star_reached",
            {
                "volunteer_id": volunteer.id,
                "user_id": volunteer.user_id,
                "star": after,
                "hours": str(rules.hours_of(volunteer.minutes_total)),
                "node_path": volunteer.node_path,
                "source": SOURCE,
            },
        )
    return rec


async def _repost(session: AsyncSession, rec: ServiceRecord, volunteer: Volunteer, points: Decimal) -> None:
    """Make the ledger agree with ``points`` for this record: reverse its posting and post the new
    amount. A record without a posting whose points came in an opening balance (imported history)
    gets the difference posted instead."""
    units = ledger.to_units(points)
    if units == rec.points:
        return
    mine = await ledger.open_account(
        session, points_account_key(volunteer.id), owner_user_id=volunteer.user_id, label="志愿服务积分"
    )
    issued = await ledger.open_account(session, ISSUED, allow_negative=True, label="志愿积分发放")
    key = f"cg:service:{rec.id}:v{rec.version}"
    try:
        if rec.posting_id is not None:
            await ledger.reverse(session, rec.posting_id, f"{key}:rev", "服务时长更正")
            rec.version += 1
            rec.posting_id = None
            key = f"cg:service:{rec.id}:v{rec.version}"
            if units > 0:
                posting = await ledger.transfer(
                    session,
                    key,
                    issued,
                    mine,
                    points,
                    kind="earn",
                    memo=f"{rec.title} {rules.hours_of(rec.minutes)} 小时",
                    source=SOURCE,
                )
                rec.posting_id = posting.id
        elif rec.points == 0:
            posting = await ledger.transfer(
                session,
                key,
                issued,
                mine,
                points,
                kind="earn",
                memo=f"{rec.title} {rules.hours_of(rec.minutes)} 小时",
                source=SOURCE,
            )
            rec.posting_id = posting.id
        else:  # imported history: move the difference
            diff = ledger.from_units(units - rec.points)
            source, target = (issued, mine) if diff > 0 else (mine, issued)
            await ledger.transfer(
                session,
                key,
                source,
                target,
                abs(diff),
                kind="correction",
                memo=f"{rec.title} 服务时长更正",
                source=SOURCE,
            )
            rec.version += 1
    except ledger.InsufficientBalance:
        raise Conflict(lazy("The points from these hours were already spent; the hours cannot be lowered.")) from None
    rec.points = units


async def points_balance(session: AsyncSession, volunteer_id: int) -> Decimal:
    units = await session.scalar(
        select(ledger.LedgerAccount.balance).where(ledger.LedgerAccount.key == points_account_key(volunteer_id))
    )
    return ledger.from_units(units or 0)


async def records_of(session: AsyncSession, volunteer_id: int, *, limit: int | None = None) -> list[ServiceRecord]:
    stmt = (
        select(ServiceRecord)
        .where(ServiceRecord.volunteer_id == volunteer_id)
        .order_by(ServiceRecord.served_on.desc(), ServiceRecord.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True)
class Standing:
    """What a volunteer sees: hours, star level, the next one, points."""

    minutes: int
    star: int
    next_star: tuple[int, int] | None
    points: Decimal
    year_minutes: int

    @property
    def hours(self) -> Decimal:
        return rules.hours_of(self.minutes)

    @property
    def year_hours(self) -> Decimal:
        return rules.hours_of(self.year_minutes)


async def standing(session: AsyncSession, volunteer: Volunteer, *, year: int | None = None) -> Standing:
    year = year or datetime.now(numbers.LOCAL).year
    year_minutes = await session.scalar(
        select(func.coalesce(func.sum(ServiceRecord.minutes), 0)).where(
            ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.served_on >= date(year, 1, 1)
        )
    )
    return Standing(
        volunteer.minutes_total,
        rules.star_level(volunteer.minutes_total),
        rules.next_star(volunteer.minutes_total),
        await points_balance(session, volunteer.id),
        int(year_minutes or 0),
    )


async def recorder_name(session: AsyncSession) -> str:
    uid = actor_user_id(session)
    if uid is None:
        return ""
    return await session.scalar(select(User.display_name).where(User.id == uid)) or ""


async def record_attendance(session: AsyncSession, activity_id: int, user_id: int, rule: rules.PointsRule) -> Any:
    """After a check-out or a staff correction: the attendee's served minutes become a service
    record if they are a registered volunteer (anyone else's hours stay in core only)."""
    volunteer = await by_user(session, user_id)
    if volunteer is None:
        return None
    minutes = await session.scalar(
        select(activities.ActivitySignup.minutes).where(
            activities.ActivitySignup.activity_id == activity_id, activities.ActivitySignup.user_id == user_id
        )
    )
    if minutes is None:
        return None
    return await record_service(
        session, activity_id, volunteer, int(minutes), rule, recorder_name=await recorder_name(session)
    )
