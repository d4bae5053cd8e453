"""The pillar's headline figures for a part of the tree (dashboard widget, a node's page, the
overview) and the district's hours overview by community and star level. A few aggregate
queries, each filtered by path prefix in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.rbac.scope import in_scope
from core.services import ledger
from plugins.co_governance import numbers, rules
from plugins.co_governance.models import Booking, Course, Enrolment, Redemption, ServiceRecord, Volunteer


@dataclass(frozen=True)
class Headline:
    volunteers: int
    hours_year: Decimal
    points_issued: Decimal
    points_redeemed: int
    bookings: int
    trained: int
    employed: int


async def headline(session: AsyncSession, prefixes: list[str], year: int | None = None) -> Headline:
    year = year or datetime.now(numbers.LOCAL).year
    since = date(year, 1, 1)
    volunteers = await session.scalar(select(func.count(Volunteer.id)).where(in_scope(Volunteer.node_path, prefixes)))
    minutes, points = (
        await session.execute(
            select(func.coalesce(func.sum(ServiceRecord.minutes), 0), func.coalesce(func.sum(ServiceRecord.points), 0))
            .join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
            .where(in_scope(Volunteer.node_path, prefixes), ServiceRecord.served_on >= since)
        )
    ).one()
    redeemed = await session.scalar(
        select(func.coalesce(func.sum(Redemption.points), 0)).where(
            in_scope(Redemption.node_path, prefixes), Redemption.state != "cancelled"
        )
    )
    bookings = await session.scalar(select(func.count(Booking.id)).where(in_scope(Booking.node_path, prefixes)))
    trained, employed = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((Enrolment.state == "completed", 1), else_=0)), 0),
                func.coalesce(func.sum(case((Enrolment.employed.is_(True), 1), else_=0)), 0),
            )
            .join(Course, Course.id == Enrolment.course_id)
            .where(in_scope(Course.node_path, prefixes))
        )
    ).one()
    return Headline(
        int(volunteers or 0),
        rules.hours_of(int(minutes)),
        ledger.from_units(int(points)),
        int(redeemed or 0),
        int(bookings or 0),
        int(trained),
        int(employed),
    )


@dataclass(frozen=True)
class HoursRow:
    path: str
    volunteers: int
    hours: Decimal
    stars: tuple[int, ...]  # volunteers at 0 … 5 stars


def _star_case() -> object:
    thresholds = [h * 60 for h in rules.STAR_HOURS]
    return case(
        *[(Volunteer.minutes_total >= t, level) for level, t in reversed(list(enumerate(thresholds, start=1)))],
        else_=0,
    )


async def hours_overview(
    session: AsyncSession, prefixes: list[str], depth_path_len: int | None = None
) -> list[HoursRow]:
    """Volunteers, cumulative hours and star levels per community (the volunteer's node)."""
    star = _star_case().label("star")
    stmt = (
        select(Volunteer.node_path, star, func.count(), func.coalesce(func.sum(Volunteer.minutes_total), 0))
        .where(in_scope(Volunteer.node_path, prefixes))
        .group_by(Volunteer.node_path, star)
    )
    acc: dict[str, list[int]] = {}
    for path, level, count, minutes in (await session.execute(stmt)).all():
        row = acc.setdefault(path, [0, 0, 0, 0, 0, 0, 0, 0])
        row[0] += int(count)
        row[1] += int(minutes)
        row[2 + int(level)] += int(count)
    return [HoursRow(p, r[0], rules.hours_of(r[1]), tuple(r[2:])) for p, r in sorted(acc.items())]
