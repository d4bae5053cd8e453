"""心理咨询 appointments: booked by a resident (also through the API) or referred by staff; a
counsellor takes them. Booking needs the resident's separate consent to the processing of health
information (个人信息保护法 第29条), recorded through core.services.consent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.services import consent
from plugins.rule_of_law.common import Conflict, InvalidInput, NotFound, clean, lazy, utcnow
from plugins.rule_of_law.models import Appointment

CONSENT_PURPOSE = "rule_of_law.counselling"
CONSENT_SCOPE = "同意社区心理咨询室为预约和咨询处理本人的健康相关信息，仅咨询师可查看咨询记录"
COUNSEL = "rule_of_law.counselling.counsel"
BOOK = "rule_of_law.counselling.book"
REFER = "rule_of_law.counselling.refer"
STATE_LABELS = {"booked": lazy("Booked"), "done": lazy("Held"), "cancelled": lazy("Cancelled")}


def rooms(settings: dict[str, Any]) -> list[str]:
    raw = str(settings.get("counselling_rooms") or "")
    return [r.strip() for r in raw.replace("，", ",").split(",") if r.strip()]


async def book(
    session: AsyncSession,
    *,
    node: Any,
    room: str,
    allowed_rooms: list[str],
    person_name: str,
    starts_at: datetime,
    resident_user_id: int | None = None,
    referred_by: int | None = None,
    consent_given: bool = False,
    now: datetime | None = None,
) -> Appointment:
    if room not in allowed_rooms:
        raise InvalidInput(lazy("Choose one of the counselling rooms."), field="room")
    now = now or utcnow()
    if starts_at <= now:
        raise InvalidInput(lazy("Choose a time in the future."), field="starts_at")
    if starts_at > now + timedelta(days=90):
        raise InvalidInput(lazy("Appointments are booked at most 90 days ahead."), field="starts_at")
    if resident_user_id is not None:
        if not consent_given:
            raise InvalidInput(
                lazy("Booking needs your consent to the processing of health information."), field="consent"
            )
        await consent.give(session, ("user", resident_user_id), CONSENT_PURPOSE, CONSENT_SCOPE, channel="online")
    appt = Appointment(
        node_id=node.id,
        node_path=node.path,
        room=room,
        person_name=clean(person_name, 100, "person_name"),
        resident_user_id=resident_user_id,
        referred_by=referred_by,
        starts_at=starts_at,
    )
    session.add(appt)
    await session.flush()
    return appt


async def get(session: AsyncSession, appointment_id: int) -> Appointment:
    a = (await session.execute(select(Appointment).where(Appointment.id == appointment_id))).scalar_one_or_none()
    if a is None:
        raise NotFound(lazy("There is no such appointment."))
    return a


async def take(session: AsyncSession, appointment: Appointment, counsellor_user_id: int) -> None:
    if appointment.counsellor_user_id not in (None, counsellor_user_id):
        raise Conflict(lazy("Another counsellor has taken this appointment."))
    appointment.counsellor_user_id = counsellor_user_id
    await session.flush()


async def cancel(session: AsyncSession, appointment: Appointment) -> None:
    if appointment.state != "booked":
        raise Conflict(lazy("Only a booked appointment can be cancelled."))
    appointment.state = "cancelled"
    await session.flush()


async def for_counsellor(session: AsyncSession, user_id: int, prefixes: list[str]) -> list[Appointment]:
    """Mine, and the untaken ones in my scope."""
    from core.rbac.scope import in_scope

    stmt = (
        select(Appointment)
        .where(
            or_(
                Appointment.counsellor_user_id == user_id,
                Appointment.counsellor_user_id.is_(None) & in_scope(Appointment.node_path, prefixes),
            )
        )
        .order_by(Appointment.starts_at.desc())
        .limit(200)
    )
    return list((await session.execute(stmt)).scalars())


async def of_resident(session: AsyncSession, user_id: int) -> list[Appointment]:
    stmt = select(Appointment).where(Appointment.resident_user_id == user_id).order_by(Appointment.starts_at.desc())
    return list((await session.execute(stmt)).scalars())
