"""Activities: publish, sign up (capacity and window enforced under concurrency), check in and out
by a signed QR code or a list, hours from the clock (staff may correct them, audited), the
attendance sheet, and each person's served time for "我的" and for any pillar that counts hours.

Owns ``activities`` and ``activity_signups``. The seat count lives on the activity and moves by
one conditional UPDATE (``signed_up < capacity``) plus a CHECK constraint, so two sign-ups for the
last place from two app processes give one place and one clear refusal.

Events (after commit): ``activity.published``, ``activity.signed_up``, ``activity.withdrawn``,
``activity.checked_in``, ``activity.attended`` (with ``minutes``), ``activity.hours_changed``,
``activity.cancelled``; each payload names the activity's ``source`` plugin and ``category`` so a
pillar can react to its own activities or to all (points for hours served, 服务记录卡 …).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.grids.models import GridNode
from core.identity.models import User
from core.services import eligibility
from core.services._common import actor_user_id, announce, atomic, aware, now
from core.services.activities.models import CANCELLED, DRAFT, PUBLISHED, SIGNED_UP, WITHDRAWN, Activity, ActivitySignup
from core.services.errors import Conflict, InvalidInput, NotFound, lazy

QR_TTL = timedelta(minutes=5)  # a screenshot passed on is useless soon after
CHECK_IN_EARLY = timedelta(hours=1)  # check-in opens this long before the start …
CHECK_OUT_LATE = timedelta(hours=6)  # … and check-out closes this long after the end
MAX_MINUTES = 24 * 60


def _signup_actor(session: AsyncSession, user_id: int) -> dict[str, Any]:
    return {"user_id": user_id, "by": actor_user_id(session)}


async def publish(
    session: AsyncSession,
    *,
    title: str,
    node: GridNode,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int | None = None,
    signup_opens_at: datetime | None = None,
    signup_closes_at: datetime | None = None,
    eligibility_rule: str = eligibility.EVERYONE,
    place: str = "",
    description: str = "",
    category: str = "",
    source: str = "",
    draft: bool = False,
) -> Activity:
    """Publish an activity at ``node`` (or keep it as a draft)."""
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput(lazy("An activity needs a title of at most 200 characters."), field="title")
    if aware(ends_at) <= aware(starts_at):
        raise InvalidInput(lazy("An activity ends after it starts."), field="ends_at")
    if capacity is not None and capacity < 1:
        raise InvalidInput(lazy("Capacity is at least 1, or empty for no limit."), field="capacity")
    if signup_opens_at and signup_closes_at and aware(signup_closes_at) <= aware(signup_opens_at):
        raise InvalidInput(lazy("Sign-up closes after it opens."), field="signup_closes_at")
    if signup_closes_at and aware(signup_closes_at) > aware(ends_at):
        raise InvalidInput(lazy("Sign-up closes by the end of the activity."), field="signup_closes_at")
    activity = Activity(
        source=source,
        category=category,
        title=title,
        description=description,
        node_id=node.id,
        node_path=node.path,
        place=place.strip()[:300],
        starts_at=starts_at,
        ends_at=ends_at,
        signup_opens_at=signup_opens_at,
        signup_closes_at=signup_closes_at,
        capacity=capacity,
        eligibility=eligibility.check_rule(eligibility_rule),
        status=DRAFT if draft else PUBLISHED,
        created_by=actor_user_id(session),
    )
    session.add(activity)
    await session.flush()
    if not draft:
        await announce(session, "activity.published", _payload(activity))
    return activity


def _payload(activity: Activity, **extra: Any) -> dict[str, Any]:
    return {
        "activity_id": activity.id,
        "source": activity.source,
        "category": activity.category,
        "node_path": activity.node_path,
        **extra,
    }


async def get(session: AsyncSession, activity_id: int) -> Activity:
    found = (await session.execute(select(Activity).where(Activity.id == activity_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no activity %(id)s."), id=activity_id)
    return found


async def publish_draft(session: AsyncSession, activity: Activity) -> Activity:
    if activity.status != DRAFT:
        raise Conflict(lazy("Only a draft can be published."))
    activity.status = PUBLISHED
    await session.flush()
    await announce(session, "activity.published", _payload(activity))
    return activity


async def cancel(session: AsyncSession, activity: Activity, reason: str) -> Activity:
    if not reason.strip():
        raise InvalidInput(lazy("Say why the activity is cancelled."), field="reason")
    if activity.status == CANCELLED:
        raise Conflict(lazy("The activity is already cancelled."))
    activity.status = CANCELLED
    record(session, "activity.cancel", "activities", activity.id, {"reason": reason.strip()})
    await session.flush()
    await announce(session, "activity.cancelled", _payload(activity, reason=reason.strip()))
    return activity


async def sign_up(
    session: AsyncSession, activity_id: int, user_id: int, *, at: datetime | None = None, by_staff: bool = False
) -> ActivitySignup:
    """Sign ``user_id`` up. Staff signing someone up (``by_staff``) may do so outside the window and
    regardless of eligibility, never beyond capacity."""
    moment = at or now()
    activity = await get(session, activity_id)
    if activity.status != PUBLISHED:
        raise Conflict(lazy("This activity is not open for sign-up."))
    if moment >= aware(activity.ends_at):
        raise Conflict(lazy("This activity has ended."))
    if not by_staff:
        if activity.signup_opens_at and moment < aware(activity.signup_opens_at):
            raise Conflict(
                lazy("Sign-up opens at %(at)s."), at=aware(activity.signup_opens_at).isoformat(timespec="minutes")
            )
        if activity.signup_closes_at and moment >= aware(activity.signup_closes_at):
            raise Conflict(
                lazy("Sign-up closed at %(at)s."), at=aware(activity.signup_closes_at).isoformat(timespec="minutes")
            )
        if not await eligibility.is_eligible(session, activity.eligibility, user_id, activity.node_path):
            raise Conflict(lazy("This activity is for %(who)s only."), who=activity.eligibility)
    existing = await _signup(session, activity_id, user_id)
    if existing is not None and existing.status == SIGNED_UP:
        raise Conflict(lazy("You are already signed up for this activity."))
    try:
        async with atomic(session):
            taken = await session.execute(
                update(Activity)
                .where(
                    Activity.id == activity_id,
                    (Activity.capacity.is_(None)) | (Activity.signed_up < Activity.capacity),
                )
                .values(signed_up=Activity.signed_up + 1)
                .returning(Activity.signed_up)
                .execution_options(synchronize_session=False)
            )
            if taken.scalar_one_or_none() is None:
                raise Conflict(lazy("This activity is full."))
            if existing is None:
                existing = ActivitySignup(activity_id=activity_id, user_id=user_id, signed_up_at=moment)
                session.add(existing)
            else:  # back after withdrawing
                existing.status, existing.signed_up_at, existing.withdrawn_at = SIGNED_UP, moment, None
            await session.flush()
    except IntegrityError:  # the same person in two tabs at once
        raise Conflict(lazy("You are already signed up for this activity.")) from None
    await session.refresh(activity, ["signed_up"])
    await announce(session, "activity.signed_up", _payload(activity, **_signup_actor(session, user_id)))
    return existing


async def _signup(session: AsyncSession, activity_id: int, user_id: int) -> ActivitySignup | None:
    stmt = select(ActivitySignup).where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def withdraw(session: AsyncSession, activity_id: int, user_id: int) -> ActivitySignup:
    """Give the place back (not once checked in)."""
    activity = await get(session, activity_id)
    signup = await _signup(session, activity_id, user_id)
    if signup is None or signup.status != SIGNED_UP:
        raise Conflict(lazy("You are not signed up for this activity."))
    if signup.checked_in_at is not None:
        raise Conflict(lazy("You have already checked in."))
    signup.status, signup.withdrawn_at = WITHDRAWN, now()
    await session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(signed_up=Activity.signed_up - 1)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await session.refresh(activity, ["signed_up"])
    await announce(session, "activity.withdrawn", _payload(activity, **_signup_actor(session, user_id)))
    return signup


# ---- QR tokens: the participant's phone shows one, staff scan it ------------------------------


def issue_token(vault: Vault, activity: Activity, user_id: int, *, at: datetime | None = None) -> str:
    """A signed token for ``user_id`` at ``activity``, valid for ``QR_TTL``: what the QR code holds."""
    expires = int(((at or now()) + QR_TTL).timestamp())
    body = f"{activity.tenant_id}.{activity.id}.{user_id}.{expires}"
    return f"{body}.{vault.blind_index(body, 'activity-qr')[:32]}"


def read_token(vault: Vault, tenant_id: int, token: str, *, at: datetime | None = None) -> tuple[int, int]:
    """(activity id, user id) of a valid token; refuses a forged, foreign or expired one."""
    parts = (token or "").strip().split(".")
    if len(parts) != 5 or not all(p.isdigit() for p in parts[:4]):
        raise InvalidInput(lazy("This is not a check-in code."), field="token")
    body, signature = ".".join(parts[:4]), parts[4]
    import hmac

    if not hmac.compare_digest(vault.blind_index(body, "activity-qr")[:32], signature):
        raise InvalidInput(lazy("This is not a check-in code."), field="token")
    if int(parts[0]) != tenant_id:
        raise InvalidInput(lazy("This is not a check-in code."), field="token")
    if int(parts[3]) < int((at or now()).timestamp()):
        raise InvalidInput(lazy("The code has expired: ask to show a fresh one."), field="token")
    return int(parts[1]), int(parts[2])


async def check_by_token(
    session: AsyncSession, vault: Vault, token: str, *, activity_id: int | None = None, at: datetime | None = None
) -> tuple[ActivitySignup, str]:
    """Staff scanned a participant's code: checks them in, or out if they are in. Returns (sign-up,
    "in" | "out"). ``activity_id`` is the activity the scanner has open: a code for another is refused."""
    tenant_id = session.sync_session.info.get("tenant_id")
    token_activity, user_id = read_token(vault, tenant_id or 0, token, at=at)
    if activity_id is not None and token_activity != activity_id:
        raise InvalidInput(lazy("This code is for another activity."), field="token")
    signup = await _signup(session, token_activity, user_id)
    if signup is not None and signup.checked_in_at is not None and signup.checked_out_at is None:
        return await check_out(session, token_activity, user_id, method="qr", at=at), "out"
    return await check_in(session, token_activity, user_id, method="qr", at=at), "in"


async def check_in(
    session: AsyncSession, activity_id: int, user_id: int, *, method: str = "list", at: datetime | None = None
) -> ActivitySignup:
    moment = at or now()
    activity = await get(session, activity_id)
    if activity.status != PUBLISHED:
        raise Conflict(lazy("This activity is not taking place."))
    if not aware(activity.starts_at) - CHECK_IN_EARLY <= moment <= aware(activity.ends_at):
        raise Conflict(lazy("Check-in is open from an hour before the start until the end."))
    signup = await _signup(session, activity_id, user_id)
    if signup is None or signup.status != SIGNED_UP:
        raise Conflict(lazy("This person has not signed up for the activity."))
    if signup.checked_in_at is not None:
        raise Conflict(
            lazy("Already checked in at %(at)s."), at=aware(signup.checked_in_at).isoformat(timespec="minutes")
        )
    signup.checked_in_at, signup.check_method, signup.checked_in_by = moment, method, actor_user_id(session)
    await session.flush()
    await announce(session, "activity.checked_in", _payload(activity, user_id=user_id, method=method))
    return signup


async def check_out(
    session: AsyncSession, activity_id: int, user_id: int, *, method: str = "list", at: datetime | None = None
) -> ActivitySignup:
    """Check out; the time between check-in and check-out becomes the served minutes."""
    moment = at or now()
    activity = await get(session, activity_id)
    signup = await _signup(session, activity_id, user_id)
    if signup is None or signup.checked_in_at is None:
        raise Conflict(lazy("Check in before checking out."))
    if signup.checked_out_at is not None:
        raise Conflict(
            lazy("Already checked out at %(at)s."), at=aware(signup.checked_out_at).isoformat(timespec="minutes")
        )
    if moment > aware(activity.ends_at) + CHECK_OUT_LATE:
        raise Conflict(lazy("Check-out has closed; staff can record the hours."))
    start = max(aware(signup.checked_in_at), aware(activity.starts_at))
    signup.checked_out_at = moment
    signup.minutes = max(0, min(MAX_MINUTES, int((moment - start).total_seconds() // 60)))
    signup.minutes_source = "clock"
    await session.flush()
    await announce(
        session, "activity.attended", _payload(activity, user_id=user_id, minutes=signup.minutes, method=method)
    )
    return signup


async def set_minutes(
    session: AsyncSession, activity_id: int, user_id: int, minutes: int, reason: str
) -> ActivitySignup:
    """Staff correct (or record) someone's served time; audited with the old value and the reason."""
    if not reason.strip():
        raise InvalidInput(lazy("Say why the hours are changed."), field="reason")
    if not 0 <= minutes <= MAX_MINUTES:
        raise InvalidInput(lazy("Served time is between 0 and 24 hours."), field="minutes")
    activity = await get(session, activity_id)
    signup = await _signup(session, activity_id, user_id)
    if signup is None or signup.status != SIGNED_UP:
        raise Conflict(lazy("This person has not signed up for the activity."))
    before = signup.minutes
    signup.minutes, signup.minutes_source = minutes, "staff"
    if signup.checked_in_at is None:
        signup.check_method = "staff"
    record(
        session,
        "activity.hours_edit",
        "activity_signups",
        signup.id,
        {"user_id": user_id, "minutes": [before, minutes], "reason": reason.strip()},
    )
    await session.flush()
    await announce(
        session,
        "activity.hours_changed",
        _payload(activity, user_id=user_id, minutes=minutes, previous=before, reason=reason.strip()),
    )
    return signup


# ---- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    user_id: int
    name: str
    signed_up_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes: int | None
    method: str | None
    edited: bool


@dataclass(frozen=True)
class Sheet:
    """The attendance sheet (签到表) of one activity, ready to print or export."""

    activity: Activity
    rows: list[SheetRow]
    signed_up: int
    attended: int
    minutes: int


async def attendance_sheet(session: AsyncSession, activity_id: int) -> Sheet:
    activity = await get(session, activity_id)
    stmt = (
        select(ActivitySignup, User.display_name)
        .join(User, User.id == ActivitySignup.user_id)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == SIGNED_UP)
        .order_by(User.display_name, User.id)
    )
    rows = [
        SheetRow(
            s.user_id,
            name,
            s.signed_up_at,
            s.checked_in_at,
            s.checked_out_at,
            s.minutes,
            s.check_method,
            s.minutes_source == "staff",
        )
        for s, name in (await session.execute(stmt)).all()
    ]
    attended = sum(1 for r in rows if r.checked_in_at is not None or r.minutes)
    return Sheet(activity, rows, len(rows), attended, sum(r.minutes or 0 for r in rows))


@dataclass(frozen=True)
class Served:
    activities: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


async def served(
    session: AsyncSession,
    user_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    category: str | None = None,
) -> Served:
    """Activities attended and minutes served by ``user_id`` (optionally in a period, from one
    publishing plugin or category) — the figure 我的 shows and a pillar's targets count."""
    stmt = (
        select(func.count(), func.coalesce(func.sum(ActivitySignup.minutes), 0))
        .select_from(ActivitySignup)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(ActivitySignup.user_id == user_id, ActivitySignup.minutes.is_not(None))
    )
    if since is not None:
        stmt = stmt.where(Activity.starts_at >= since)
    if until is not None:
        stmt = stmt.where(Activity.starts_at < until)
    if source is not None:
        stmt = stmt.where(Activity.source == source)
    if category is not None:
        stmt = stmt.where(Activity.category == category)
    count, minutes = (await session.execute(stmt)).one()
    return Served(int(count), int(minutes))


async def my_activities(
    session: AsyncSession, user_id: int, *, limit: int = 50
) -> list[tuple[Activity, ActivitySignup]]:
    """The user's sign-ups, newest activity first (for 我的)."""
    stmt = (
        select(Activity, ActivitySignup)
        .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
        .where(ActivitySignup.user_id == user_id, ActivitySignup.status == SIGNED_UP)
        .order_by(Activity.starts_at.desc())
        .limit(limit)
    )
    return [(a, s) for a, s in (await session.execute(stmt)).all()]
