"""预约代办 (proxy services): the matter catalogue and the booking use cases.

A resident — or a staff member on a resident's behalf — books a matter (社保认证, 老年证办理 …), says
which documents they will bring and a preferred working day. A community worker in scope takes it
(受理), does it within the tenant's ``proxy_service_days`` working days and records the result::

    requested ──take──▶ taken ──complete──▶ done
        │                 │
        └──cancel─────────┴──cancel──▶ cancelled

The deadline is set when the booking is taken: ``proxy_service_days`` whole working days of the
district's calendar (``sla.add_working_hours`` with days × the calendar's working hours per day,
7.5 h on the default calendar), so "5 working days" ends at the close of the fifth working day.
Overdue = taken and not done by then, or done after it.

Refusals raise ``BookingError`` (an English sentence, ``exc.translated(_)``; ``field`` names the
form field it is about). Functions write in the caller's transaction; the ORM audits every write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.context import Actor
from core.grids import validation
from core.grids.models import GridNode
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import TransitionError, lazy
from plugins.smart_service.models import Booking
from plugins.smart_service.services import bump_counter

REQUEST = "smart_service.booking.request"
HANDLE = "smart_service.booking.handle"
PHONE_PURPOSE = "smart_service.booking_phone"
REQUESTED, TAKEN, DONE, CANCELLED = "requested", "taken", "done", "cancelled"
STATES = (REQUESTED, TAKEN, DONE, CANCELLED)
STATE_LABELS = {
    REQUESTED: lazy("Requested"),
    TAKEN: lazy("Taken"),
    DONE: lazy("Done"),
    CANCELLED: lazy("Cancelled"),
}
MAX_AHEAD_DAYS = 60
DEFAULT_DAYS = 5


@dataclass(frozen=True)
class Matter:
    code: str
    name_zh: str
    name_en: str
    documents: tuple[str, ...]

    def label(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


# A fixed catalogue for now; a tenant-edited table can replace it without changing bookings.
MATTERS: tuple[Matter, ...] = (
    Matter("pension_cert", "社保待遇资格认证", "Pension eligibility check", ("身份证", "社保卡")),
    Matter("elder_card", "老年证办理", "Senior citizen card", ("身份证", "户口本", "一寸照片两张")),
    Matter("residence_proof", "居住证明", "Proof of residence", ("身份证", "房产证或租房合同")),
    Matter("dibao", "低保申请", "Minimum living allowance", ("身份证", "户口本", "家庭收入证明", "银行卡")),
    Matter("disability_aid", "残疾人补贴申请", "Disability allowance", ("身份证", "残疾人证", "银行卡")),
    Matter("medical_claim", "医保报销代办", "Medical insurance claim", ("身份证", "医保卡", "发票及费用清单")),
)
MATTER_BY_CODE = {m.code: m for m in MATTERS}


class BookingError(TransitionError):
    """A refusal; ``field`` is the form field it is about (None: the booking as a whole)."""

    def __init__(self, template: str, field: str | None = None, **params: Any) -> None:
        super().__init__(template, **params)
        self.field = field


class BookingNotFound(LookupError):
    """No such booking in this tenant (routes answer 404)."""


def hours_per_day(calendar: sla.Calendar) -> float:
    """Working hours in one working day of ``calendar`` (7.5 on the default one)."""
    seconds = sum(
        (datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() for a, b in calendar.periods
    )
    return seconds / 3600


def due_after(start: datetime, days: int, calendar: sla.Calendar) -> datetime:
    return sla.add_working_hours(start, days * hours_per_day(calendar), calendar)


def is_overdue(booking: Booking, now: datetime | None = None) -> bool:
    if booking.due_at is None or booking.state == CANCELLED:
        return False
    if booking.state == DONE:
        return booking.done_at is not None and booking.done_at > booking.due_at
    return (now or utcnow()) > booking.due_at


def overdue_clause(now: datetime) -> Any:
    """SQL: the bookings ``is_overdue`` would flag (for list filters and counts)."""
    return or_(
        and_(Booking.state == TAKEN, Booking.due_at < now),
        and_(Booking.state == DONE, Booking.done_at > Booking.due_at),
    )


def local_today(calendar: sla.Calendar, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(calendar.tz).date()


def _phone(raw: str, vault: Any) -> tuple[bytes | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return None, None
    try:
        value = validation.check_phone(raw)
    except validation.InvalidValue:
        raise BookingError(lazy("The phone number is not valid"), "phone") from None
    if vault is None:
        raise ValueError("a vault is needed to store an applicant's phone")
    return vault.encrypt(value, PHONE_PURPOSE.encode()), validation.mask_phone(value)


def check_request(
    *, matter: str, preferred_day: str | date, applicant_name: str, calendar: sla.Calendar, today: date
) -> tuple[dict[str, BookingError], date | None]:
    """Field errors of a booking form (empty when it is fine) and the parsed preferred day."""
    errors: dict[str, BookingError] = {}
    if matter not in MATTER_BY_CODE:
        errors["matter"] = BookingError(lazy("Choose the matter to be handled"), "matter")
    if not (applicant_name or "").strip():
        errors["applicant_name"] = BookingError(lazy("Give the applicant's name"), "applicant_name")
    elif len(applicant_name.strip()) > 100:
        errors["applicant_name"] = BookingError(lazy("The name is too long"), "applicant_name")
    day: date | None = None
    if isinstance(preferred_day, date):
        day = preferred_day
    else:
        try:
            day = date.fromisoformat((preferred_day or "").strip())
        except ValueError:
            errors["preferred_day"] = BookingError(lazy("Choose a preferred day"), "preferred_day")
    if day is not None:
        if day < today:
            errors["preferred_day"] = BookingError(lazy("The preferred day has passed"), "preferred_day")
        elif day > today + timedelta(days=MAX_AHEAD_DAYS):
            errors["preferred_day"] = BookingError(
                lazy("Book at most %(n)s days ahead"), "preferred_day", n=MAX_AHEAD_DAYS
            )
        elif not calendar.is_working_day(day):
            errors["preferred_day"] = BookingError(
                lazy("%(day)s is not a working day: choose another day"), "preferred_day", day=day.isoformat()
            )
    return errors, day


async def request_booking(
    session: AsyncSession,
    *,
    matter: str,
    preferred_day: str | date,
    node: GridNode,
    actor: Actor,
    applicant_user_id: int | None,
    applicant_name: str,
    phone: str = "",
    documents: str = "",
    note: str = "",
    vault: Any = None,
    now: datetime | None = None,
    calendar: sla.Calendar | None = None,
) -> Booking:
    """Create a booking in ``requested``. Raises the first field's ``BookingError`` when the form is wrong
    (use ``check_request`` to show them all)."""
    now = now or utcnow()
    calendar = calendar or await sla.load_calendar(session)
    errors, day = check_request(
        matter=matter,
        preferred_day=preferred_day,
        applicant_name=applicant_name,
        calendar=calendar,
        today=local_today(calendar, now),
    )
    if errors:
        raise next(iter(errors.values()))
    assert day is not None
    phone_enc, phone_masked = _phone(phone, vault)
    local = now.astimezone(calendar.tz).strftime("%Y%m%d")
    number = f"BK-{local}-{await bump_counter(session, f'booking:{local}'):04d}"
    booking = Booking(
        id=new_id(),
        number=number,
        matter=matter,
        documents=(documents or "").strip()[:2000],
        note=(note or "").strip()[:2000],
        preferred_day=day,
        applicant_user_id=applicant_user_id,
        applicant_name=applicant_name.strip(),
        applicant_phone_enc=phone_enc,
        applicant_phone_masked=phone_masked,
        created_by_user_id=actor.id if actor.kind == "user" else None,
        node_id=node.id,
        node_path=node.path,
        state=REQUESTED,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    await session.flush()
    return booking


async def get_booking(session: AsyncSession, booking_id: int) -> Booking:
    found = (await session.execute(select(Booking).where(Booking.id == int(booking_id)))).scalar_one_or_none()
    if found is None:
        raise BookingNotFound(booking_id)
    return found


def _require(booking: Booking, *states: str, action: str) -> None:
    if booking.state not in states:
        raise BookingError(
            lazy('"%(action)s" is not possible while the booking is "%(state)s"'),
            action=action,
            state=STATE_LABELS[booking.state],
        )


def _authorise(booking: Booking, can: Callable[[str, str | None], bool] | None, action: str) -> None:
    if can is not None and not can(HANDLE, booking.node_path):
        raise BookingError(lazy('You may not "%(action)s" this booking'), action=action)


async def take(
    session: AsyncSession,
    booking: Booking,
    actor: Actor,
    *,
    days: int = DEFAULT_DAYS,
    can: Callable[[str, str | None], bool] | None = None,
    now: datetime | None = None,
    calendar: sla.Calendar | None = None,
) -> Booking:
    """A community worker takes the booking: the deadline is ``days`` working days from now."""
    now = now or utcnow()
    _require(booking, REQUESTED, action=lazy("Take"))
    _authorise(booking, can, lazy("Take"))
    calendar = calendar or await sla.load_calendar(session)
    booking.state = TAKEN
    booking.taken_by_user_id = actor.id
    booking.taken_at = now
    booking.due_at = due_after(now, int(days), calendar)
    booking.updated_at = now
    await session.flush()
    return booking


async def complete(
    session: AsyncSession,
    booking: Booking,
    actor: Actor,
    result: str,
    *,
    can: Callable[[str, str | None], bool] | None = None,
    now: datetime | None = None,
) -> Booking:
    """The worker who took it records the result (what was done, what the applicant gets back)."""
    now = now or utcnow()
    _require(booking, TAKEN, action=lazy("Record the result"))
    _authorise(booking, can, lazy("Record the result"))
    if booking.taken_by_user_id is not None and actor.id != booking.taken_by_user_id:
        raise BookingError(lazy("Only the worker who took this booking may record its result"))
    result = (result or "").strip()
    if not result:
        raise BookingError(lazy("Say what was done"), "result")
    booking.state = DONE
    booking.result = result[:4000]
    booking.done_at = now
    booking.updated_at = now
    await session.flush()
    return booking


async def cancel(
    session: AsyncSession,
    booking: Booking,
    actor: Actor,
    reason: str,
    *,
    can: Callable[[str, str | None], bool] | None = None,
    now: datetime | None = None,
) -> Booking:
    """The applicant cancels their own booking, or staff in scope cancel it, with a reason."""
    now = now or utcnow()
    _require(booking, REQUESTED, TAKEN, action=lazy("Cancel"))
    own = actor.id is not None and actor.id in (booking.applicant_user_id, booking.created_by_user_id)
    if not own:
        _authorise(booking, can, lazy("Cancel"))
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(lazy("Give a reason for cancelling"), "reason")
    booking.state = CANCELLED
    booking.cancel_reason = reason[:500]
    booking.cancelled_at = now
    booking.updated_at = now
    await session.flush()
    return booking
