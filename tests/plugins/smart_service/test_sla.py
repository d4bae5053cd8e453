"""SLA clocks in working time: deadlines across nights, weekends, holidays and 调休 make-up days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.db.base import new_id
from core.tenancy.service import set_plugin
from plugins.smart_service import sla
from plugins.smart_service.models import CalendarDay, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# 2026 National Day: 1–7 October off, Saturday 10 October worked instead (调休).
NATIONAL_DAY = sla.make_calendar(days=[(date(2026, 10, d), False) for d in range(1, 8)] + [(date(2026, 10, 10), True)])


def test_an_hour_before_friday_closing_time_runs_over_into_monday_morning() -> None:
    due = sla.add_working_hours(local(2026, 11, 27, 17, 0), 1)  # Friday 17:00
    assert due.astimezone(SH) == local(2026, 11, 30, 9, 0)  # 30 min Friday + 30 min Monday from 08:30


def test_the_lunch_break_does_not_count() -> None:
    assert sla.add_working_hours(local(2026, 11, 25, 11, 0), 2).astimezone(SH) == local(2026, 11, 25, 14, 30)
    assert sla.working_seconds_between(local(2026, 11, 25, 11, 0), local(2026, 11, 25, 14, 30)) == 2 * 3600


def test_a_report_at_night_starts_counting_next_morning() -> None:
    due = sla.add_working_hours(local(2026, 11, 24, 22, 15), 0.5)
    assert due.astimezone(SH) == local(2026, 11, 25, 9, 0)


def test_holidays_are_skipped_and_a_make_up_saturday_counts() -> None:
    # Wednesday 30 September 17:00 + 2 h: 30 min that day, the holiday week off, then Thursday 8
    # October from 08:30.
    due = sla.add_working_hours(local(2026, 9, 30, 17, 0), 2, NATIONAL_DAY)
    assert due.astimezone(SH) == local(2026, 10, 8, 10, 0)
    # Friday 9 October 17:00 + 1 h lands on the make-up Saturday, not on Monday.
    due = sla.add_working_hours(local(2026, 10, 9, 17, 0), 1, NATIONAL_DAY)
    assert due.astimezone(SH) == local(2026, 10, 10, 9, 0)
    assert sla.working_seconds_between(local(2026, 10, 1), local(2026, 10, 8), NATIONAL_DAY) == 0


def test_an_exact_fit_ends_at_closing_time_not_the_next_morning() -> None:
    assert sla.add_working_hours(local(2026, 11, 25, 13, 30), 4).astimezone(SH) == local(2026, 11, 25, 17, 30)


def test_time_between_is_negative_when_the_end_is_before_the_start() -> None:
    a, b = local(2026, 11, 25, 9, 0), local(2026, 11, 25, 10, 0)
    assert sla.working_seconds_between(b, a) == -3600


def test_naive_datetimes_and_broken_calendars_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="naive"):
        sla.add_working_hours(datetime(2026, 11, 25, 9, 0), 1)
    with pytest.raises(sla.CalendarError, match="must end after it starts"):
        sla.make_calendar(periods=[["12:00", "08:30"]])
    with pytest.raises(sla.CalendarError, match="must not overlap"):
        sla.make_calendar(periods=[["08:30", "12:00"], ["11:00", "17:30"]])
    with pytest.raises(sla.CalendarError, match="not a time of day"):
        sla.make_calendar(periods=[["8.30", "12:00"]])
    with pytest.raises(sla.CalendarError, match="no working time"):
        sla.make_calendar(weekdays=[])
    with pytest.raises(sla.CalendarError, match="unknown time zone"):
        sla.make_calendar(timezone="Mars/Olympus")


def test_stage_limits_come_from_the_category_with_urgent_overrides_and_defaults() -> None:
    limits, urgent = {"handle": 16, "sign": 1}, {"handle": 4}
    assert sla.stage_hours("handle", 1, limits, urgent) == 16
    assert sla.stage_hours("handle", 2, limits, urgent) == 4
    assert sla.stage_hours("sign", 3, limits, urgent) == 1
    assert sla.stage_hours("inspect", 1, limits, urgent) == sla.DEFAULT_LIMITS["inspect"]


# ---- properties --------------------------------------------------------------------------------

starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
quarter_hours = st.integers(min_value=0, max_value=4 * 200).map(lambda q: q / 4)


@st.composite
def calendars(draw: Any) -> sla.Calendar:
    """The default week, or an odd one, with random holidays and make-up days around 2026–27."""
    days = draw(
        st.lists(
            st.tuples(st.dates(min_value=date(2025, 12, 1), max_value=date(2028, 3, 1)), st.booleans()),
            max_size=40,
            unique_by=lambda t: t[0],
        )
    )
    weekly = draw(st.sampled_from([(0, 1, 2, 3, 4), (0, 1, 2, 3, 4, 5), (2,), (5, 6)]))
    periods = draw(
        st.sampled_from([sla.DEFAULT_PERIODS, (("09:00", "17:00"),), (("00:00", "08:00"), ("20:00", "23:59"))])
    )
    return sla.make_calendar(periods=periods, weekdays=weekly, days=days)


@settings(max_examples=300, deadline=None)
@given(start=starts, hours=quarter_hours, calendar=calendars())
def test_the_working_time_to_a_deadline_is_exactly_the_limit(start: datetime, hours: float, calendar: Any) -> None:
    due = sla.add_working_hours(start, hours, calendar)
    assert sla.working_seconds_between(start, due, calendar) == hours * 3600


@settings(max_examples=300, deadline=None)
@given(start=starts, a=quarter_hours, b=quarter_hours, calendar=calendars())
def test_a_longer_limit_never_gives_an_earlier_deadline(start: datetime, a: float, b: float, calendar: Any) -> None:
    small, large = sorted((a, b))
    assert sla.add_working_hours(start, small, calendar) <= sla.add_working_hours(start, large, calendar)


@settings(max_examples=300, deadline=None)
@given(start=starts, hours=quarter_hours, calendar=calendars())
def test_a_deadline_falls_in_working_time_or_exactly_at_closing(start: datetime, hours: float, calendar: Any) -> None:
    due = sla.add_working_hours(start, hours, calendar)
    assert sla.is_working_time(due, calendar) or sla.is_period_end(due, calendar)
    assert due >= start


@settings(max_examples=200, deadline=None)
@given(a=starts, b=starts, c=starts, calendar=calendars())
def test_working_time_adds_up_over_consecutive_spans(a: datetime, b: datetime, c: datetime, calendar: Any) -> None:
    a, b, c = sorted((a, b, c))
    ab = sla.working_time_between(a, b, calendar)
    bc = sla.working_time_between(b, c, calendar)
    assert ab + bc == sla.working_time_between(a, c, calendar)
    assert ab >= timedelta(0)


# ---- the calendar a district keeps -------------------------------------------------------------


async def test_a_district_calendar_is_read_from_its_own_rows_only(app: Any, fresh_tenant: Any) -> None:
    db = app.state.db
    await set_plugin(db, app.state.plugins, fresh_tenant, "smart_service", True)
    async with db.transaction(fresh_tenant.id) as s:
        assert await sla.load_calendar(s) == sla.DEFAULT_CALENDAR
        s.add(
            WorkCalendar(
                id=new_id(), timezone="Asia/Shanghai", periods=[["09:00", "17:00"]], weekdays=[0, 1, 2, 3, 4, 5]
            )
        )
        s.add(CalendarDay(id=new_id(), day=date(2026, 10, 1), working=False, note="国庆节"))
        s.add(CalendarDay(id=new_id(), day=date(2026, 10, 11), working=True, note="国庆调休"))
    async with db.session(fresh_tenant.id) as s:
        calendar = await sla.load_calendar(s)
    assert not calendar.is_working_day(date(2026, 10, 1))  # a Thursday, but National Day
    assert calendar.is_working_day(date(2026, 10, 3))  # Saturdays are worked here
    assert calendar.is_working_day(date(2026, 10, 11))  # a Sunday made a working day
    assert sla.add_working_hours(local(2026, 9, 30, 16, 0), 2, calendar).astimezone(SH) == local(2026, 10, 2, 10, 0)
    # Another district (the demo tenant, with its own demo calendar) sees none of these rows.
    from core.tenancy.service import get_tenant

    other = await get_tenant(db, "shuangluan")
    async with db.session(other.id) as s:
        theirs = await sla.load_calendar(s)
    assert theirs.periods == sla.DEFAULT_CALENDAR.periods
    assert not theirs.is_working_day(date(2026, 10, 3)) and not theirs.is_working_day(date(2026, 10, 11))
