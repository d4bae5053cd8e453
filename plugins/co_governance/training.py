"""Training and employment: courses with a provider, enrolment, attendance, completion, and the
employment outcome followed up; the district's trained and employed per course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids import validation
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.co_governance.models import Course, Enrolment

TRADES = ("面点", "快餐", "月嫂", "保育", "育婴", "养老护理", "家政服务", "电商")
PHONE_PURPOSE = b"co_governance.trainee_phone"
ENROLLED, COMPLETED, DROPPED = "enrolled", "completed", "dropped"
STATE_LABELS = {ENROLLED: lazy("Enrolled"), COMPLETED: lazy("Course completed"), DROPPED: lazy("Dropped out")}


def _day(raw: object, field: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(lazy("Enter a date as YYYY-MM-DD."), field=field) from None


async def add_course(
    session: AsyncSession,
    *,
    title: str,
    trade: str,
    provider_name: str,
    node: GridNode,
    starts_on: object,
    ends_on: object,
    sessions: int = 10,
    required_sessions: int = 8,
) -> Course:
    title = (title or "").strip()
    if not 1 <= len(title) <= 100:
        raise InvalidInput(lazy("A course needs a title of at most 100 characters."), field="title")
    if trade not in TRADES:
        raise InvalidInput(lazy("Choose the trade taught."), field="trade")
    provider_name = (provider_name or "").strip()
    if not 1 <= len(provider_name) <= 100:
        raise InvalidInput(lazy("Name the training provider."), field="provider_name")
    start, end = _day(starts_on, "starts_on"), _day(ends_on, "ends_on")
    if end < start:
        raise InvalidInput(lazy("The course ends after it starts."), field="ends_on")
    if not 1 <= required_sessions <= sessions <= 200:
        raise InvalidInput(lazy("Sessions are 1 to 200 and at least the number required."), field="sessions")
    course = Course(
        title=title,
        trade=trade,
        provider_name=provider_name,
        node_id=node.id,
        node_path=node.path,
        starts_on=start,
        ends_on=end,
        sessions=sessions,
        required_sessions=required_sessions,
    )
    session.add(course)
    await session.flush()
    return course


async def get_course(session: AsyncSession, course_id: int) -> Course:
    found = await session.scalar(select(Course).where(Course.id == course_id))
    if found is None:
        raise NotFound(lazy("There is no course %(id)s."), id=course_id)
    return found


async def enrol(session: AsyncSession, vault: Any, course: Course, *, name: str, phone: str = "") -> Enrolment:
    name = (name or "").strip()
    if not 1 <= len(name) <= 50:
        raise InvalidInput(lazy("Give the trainee's name (at most 50 characters)."), field="name")
    enc, masked = None, ""
    if phone.strip():
        try:
            value = validation.check_phone(phone)
        except validation.InvalidValue:
            raise InvalidInput(lazy("Enter a valid mobile number."), field="phone") from None
        enc, masked = vault.encrypt(value, PHONE_PURPOSE), validation.mask_phone(value)
    row = Enrolment(course_id=course.id, name=name, phone_enc=enc, phone_masked=masked)
    session.add(row)
    await session.flush()
    return row


async def get_enrolment(session: AsyncSession, enrolment_id: int) -> Enrolment:
    found = await session.scalar(select(Enrolment).where(Enrolment.id == enrolment_id))
    if found is None:
        raise NotFound(lazy("There is no enrolment %(id)s."), id=enrolment_id)
    return found


async def attend(session: AsyncSession, course: Course, row: Enrolment) -> Enrolment:
    if row.state != ENROLLED:
        raise Conflict(lazy("Attendance is recorded while enrolled."))
    if row.attended >= course.sessions:
        raise Conflict(lazy("All %(n)s sessions are already attended."), n=course.sessions)
    row.attended += 1
    await session.flush()
    return row


async def complete(session: AsyncSession, course: Course, row: Enrolment, on: object) -> Enrolment:
    if row.state != ENROLLED:
        raise Conflict(lazy("Only an enrolled trainee can complete the course."))
    if row.attended < course.required_sessions:
        raise Conflict(
            lazy("%(n)s of %(required)s required sessions attended: not yet complete."),
            n=row.attended,
            required=course.required_sessions,
        )
    row.state, row.completed_on = COMPLETED, _day(on, "completed_on")
    await session.flush()
    return row


async def drop(session: AsyncSession, row: Enrolment) -> Enrolment:
    if row.state != ENROLLED:
        raise Conflict(lazy("Only an enrolled trainee can drop out."))
    row.state = DROPPED
    await session.flush()
    return row


async def follow_up(
    session: AsyncSession,
    row: Enrolment,
    *,
    employed: bool,
    employer: str = "",
    employed_on: object = None,
    on: object,
) -> Enrolment:
    """Record the employment outcome of a trainee who completed the course."""
    if row.state != COMPLETED:
        raise Conflict(lazy("Employment is followed up after completion."))
    row.followed_up_on = _day(on, "followed_up_on")
    if employed:
        employer = (employer or "").strip()
        if not 1 <= len(employer) <= 100:
            raise InvalidInput(lazy("Name the employer."), field="employer")
        row.employed, row.employer, row.employed_on = True, employer, _day(employed_on or on, "employed_on")
    else:
        row.employed, row.employer, row.employed_on = False, "", None
    await session.flush()
    return row


@dataclass(frozen=True)
class CourseFigures:
    course: Course
    enrolled: int
    completed: int
    employed: int


async def figures(session: AsyncSession, prefixes: list[str]) -> list[CourseFigures]:
    """Trained (completed) and employed per course, within the caller's scope."""
    stmt = (
        select(
            Course,
            func.count(Enrolment.id),
            func.coalesce(func.sum(case((Enrolment.state == COMPLETED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Enrolment.employed.is_(True), 1), else_=0)), 0),
        )
        .outerjoin(Enrolment, Enrolment.course_id == Course.id)
        .where(in_scope(Course.node_path, prefixes))
        .group_by(Course.tenant_id, Course.id)
        .order_by(Course.starts_on.desc(), Course.id)
    )
    return [CourseFigures(c, int(n), int(done), int(emp)) for c, n, done, emp in (await session.execute(stmt)).all()]
