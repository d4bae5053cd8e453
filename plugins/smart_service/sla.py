"""SLA clocks in working time: the working calendar, deadlines and working time between two moments.

A district works set hours on set weekdays (default 08:30–12:00 and 13:30–17:30, Monday to Friday,
Asia/Shanghai); ``CalendarDay`` rows make a day a holiday or a make-up working day (调休). Time
limits are in working hours per stage (``STAGES`` in lifecycle.py) and category; a deadline is
``add_working_hours(start, limit)``. Everything here is pure except ``load_calendar``.

Arithmetic is exact to the microsecond (``timedelta``), so
``working_time_between(a, add_working_hours(a, h)) == h`` holds; a deadline always falls inside
working time, or exactly at the end of a working period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

# The default working calendar is the table's column defaults (models imports nothing from here).
from plugins.smart_service.models import (
    DEFAULT_PERIODS,
    DEFAULT_TIMEZONE,
    DEFAULT_WEEKDAYS,
    CalendarDay,
    WorkCalendar,
)

# Working hours per stage when a category sets none (a district's categories normally do).
DEFAULT_LIMITS: Mapping[str, float] = {"accept": 2, "dispatch": 4, "sign": 2, "handle": 24, "inspect": 8}
MAX_SCAN_DAYS = 3660  # a calendar with no working day in ten years is a configuration error

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CalendarError(ValueError):
    """A working calendar that cannot be used; the message says what is wrong (English)."""


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    periods: tuple[tuple[time, time], ...] = tuple(
        (time.fromisoformat(a), time.fromisoformat(b)) for a, b in DEFAULT_PERIODS
    )
    weekdays: frozenset[int] = frozenset(DEFAULT_WEEKDAYS)
    holidays: frozenset[date] = frozenset()  # days off that would be working days
    workdays: frozenset[date] = frozenset()  # 调休: working days that would be days off

    def __post_init__(self) -> None:
        check_periods(self.periods)
        if not self.periods or (not self.weekdays and not self.workdays):
            raise CalendarError("the calendar has no working time")

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() in self.weekdays

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as aware datetimes (empty on a day off)."""
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz)) for a, b in self.periods]


def parse_time(value: str) -> time:
    m = _HHMM.match(value.strip())
    if not m:
        raise CalendarError(f"{value!r} is not a time of day (HH:MM)")
    return time(int(m.group(1)), int(m.group(2)))


def check_periods(periods: Iterable[tuple[time, time]]) -> None:
    last: time | None = None
    for start, end in periods:
        if not start < end:
            raise CalendarError(f"a working period must end after it starts ({start:%H:%M}–{end:%H:%M})")
        if last is not None and start < last:
            raise CalendarError("working periods must be in order and must not overlap")
        last = end


def parse_periods(raw: Iterable[Iterable[str]]) -> tuple[tuple[time, time], ...]:
    """``[["08:30", "12:00"], ["13:30", "17:30"]]`` → times; ``CalendarError`` explains a bad value."""
    out = []
    for pair in raw:
        items = list(pair)
        if len(items) != 2:
            raise CalendarError("each working period needs a start and an end")
        out.append((parse_time(items[0]), parse_time(items[1])))
    periods = tuple(out)
    check_periods(periods)
    return periods


DEFAULT_CALENDAR = Calendar()


def make_calendar(
    timezone: str = DEFAULT_TIMEZONE,
    periods: Iterable[Iterable[str]] = DEFAULT_PERIODS,
    weekdays: Iterable[int] = DEFAULT_WEEKDAYS,
    days: Iterable[tuple[date, bool]] = (),
) -> Calendar:
    """A calendar from stored values; ``days`` are (day, is_working) exceptions."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {timezone!r}") from exc
    wd = frozenset(int(d) for d in weekdays)
    if not wd <= set(range(7)):
        raise CalendarError("weekdays are numbered 0 (Monday) to 6 (Sunday)")
    exceptions = list(days)
    return Calendar(
        tz=tz,
        periods=parse_periods(periods),
        weekdays=wd,
        holidays=frozenset(d for d, working in exceptions if not working),
        workdays=frozenset(d for d, working in exceptions if working),
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return moment


def _as_delta(hours: float | int | Decimal | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        return hours
    return timedelta(hours=float(hours))


def _days_from(day: date) -> Iterator[date]:
    for i in range(MAX_SCAN_DAYS):
        yield day + timedelta(days=i)
    raise CalendarError("no working time found within ten years")


def add_working_hours(
    start: datetime, hours: float | int | Decimal | timedelta, calendar: Calendar = DEFAULT_CALENDAR
) -> datetime:
    """The moment ``hours`` of working time after ``start`` (UTC). Zero hours: the next working moment."""
    left = _as_delta(hours)
    if left < timedelta(0):
        raise ValueError("hours must not be negative")
    cursor = _aware(start).astimezone(calendar.tz)
    for day in _days_from(cursor.date()):
        for period_start, period_end in calendar.periods_on(day):
            if period_end <= cursor:
                continue
            begin = max(period_start, cursor)
            available = period_end - begin
            if left <= available:
                return (begin + left).astimezone(UTC)
            left -= available
    raise AssertionError("unreachable")  # pragma: no cover


def working_time_between(a: datetime, b: datetime, calendar: Calendar = DEFAULT_CALENDAR) -> timedelta:
    """Working time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    a, b = _aware(a), _aware(b)
    if b < a:
        return -working_time_between(b, a, calendar)
    total = timedelta(0)
    day, last = a.astimezone(calendar.tz).date(), b.astimezone(calendar.tz).date()
    while day <= last:
        for period_start, period_end in calendar.periods_on(day):
            lo, hi = max(period_start, a), min(period_end, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def working_seconds_between(a: datetime, b: datetime, calendar: Calendar = DEFAULT_CALENDAR) -> float:
    return working_time_between(a, b, calendar).total_seconds()


def is_working_time(moment: datetime, calendar: Calendar = DEFAULT_CALENDAR) -> bool:
    """Inside a working period (its start included, its end not)."""
    local = _aware(moment).astimezone(calendar.tz)
    return any(s <= local < e for s, e in calendar.periods_on(local.date()))


def is_period_end(moment: datetime, calendar: Calendar = DEFAULT_CALENDAR) -> bool:
    local = _aware(moment).astimezone(calendar.tz)
    return any(e == local for _s, e in calendar.periods_on(local.date()))


def stage_hours(
    stage: str,
    urgency: int = 1,
    time_limits: Mapping[str, Any] | None = None,
    urgent_time_limits: Mapping[str, Any] | None = None,
    critical_time_limits: Mapping[str, Any] | None = None,
) -> float:
    """A category's limit for ``stage`` in working hours, each urgency with its own: 特急 (3) uses
    the critical limit, 紧急 (2) the urgent one, 一般 (1) the normal one. Where the category leaves
    an urgency's limit empty the next milder one applies (critical → urgent → normal), and a
    stage with none at all falls back to DEFAULT_LIMITS."""
    chain = [critical_time_limits] if urgency >= 3 else []
    chain += [urgent_time_limits] if urgency >= 2 else []
    chain.append(time_limits)
    for limits in chain:
        if limits and limits.get(stage) is not None:
            return float(limits[stage])
    return float(DEFAULT_LIMITS.get(stage, DEFAULT_LIMITS["handle"]))


HANDLING_LIMITS = ("sign", "handle")  # the handling clock from 派遣 runs across 签收 and 处置


def limit_hours(
    stage: str,
    urgency: int = 1,
    time_limits: Mapping[str, Any] | None = None,
    urgent_time_limits: Mapping[str, Any] | None = None,
    critical_time_limits: Mapping[str, Any] | None = None,
    *,
    from_dispatch: bool = True,
) -> float:
    """The working hours a stage's clock gets. The handling clock (``handle``) started by 派遣 gets
    the sign and handle limits together; restarted by 返工 (``from_dispatch=False``) it gets the
    handle limit alone (it was signed for already)."""
    limits = (time_limits, urgent_time_limits, critical_time_limits)
    if stage == "handle" and from_dispatch:
        return sum(stage_hours(s, urgency, *limits) for s in HANDLING_LIMITS)
    return stage_hours(stage, urgency, *limits)


async def load_calendar(session: Any) -> Calendar:
    """The tenant's calendar (the session is bound to it); the default calendar when none is stored."""
    row = (await session.execute(select(WorkCalendar).limit(1))).scalar_one_or_none()
    days = [(d.day, d.working) for d in (await session.execute(select(CalendarDay))).scalars()]
    if row is None:
        return make_calendar(days=days) if days else DEFAULT_CALENDAR
    return make_calendar(row.timezone, row.periods, row.weekdays, days)
