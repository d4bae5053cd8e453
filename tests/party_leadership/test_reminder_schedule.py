"""共建协议 reminders come when one falls due, not hourly in every district: after a run the job's
slot waits for the district midnight that starts the next agreement's reminder period (a day at most),
a new agreement with an earlier reminder wakes it, and a longer reminder period in the settings too."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.services.jobs import JobContext, slots
from core.services.jobs.models import PeriodicRun
from core.tenancy.service import set_plugin
from plugins.party_leadership import agreements as ag
from tests.party_leadership.conftest import District
from tests.party_leadership.test_services import _unit

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=SH)


async def _slot(d: District) -> datetime:
    async with d.app.state.db.session(None) as s:
        at = await s.scalar(
            select(PeriodicRun.next_run_at).where(
                PeriodicRun.tenant_id == d.tenant.id, PeriodicRun.name == ag.REMIND_JOB
            )
        )
    assert at is not None
    return at


async def _run(d: District, now: datetime) -> int:
    async with d.tx() as s:
        ctx = JobContext(d.tenant.id, s, d.app.state.db, d.app.state.plugins)
        return (await ag.reminder_job(ctx, {"now": now.isoformat()}))["reminded"]


async def _agreement(d: District, unit_id: int, ends_on: date) -> int:
    async with d.tx("secretary") as s:
        row = await ag.create(
            s, d.nodes["sa"], unit_id=unit_id, title="协议", terms="……", starts_on=date(2026, 1, 1), ends_on=ends_on
        )
        return row.id


async def test_reminders_wait_for_their_day_and_a_new_earlier_one_wakes_them(district: District) -> None:
    d = district
    async with d.app.state.db.transaction(None) as s:
        s.add(PeriodicRun(tenant_id=d.tenant.id, name=ag.REMIND_JOB, next_run_at=NOW))
    unit_id = await _unit(d)
    await _agreement(d, unit_id, date(2026, 12, 31))  # reminded from 1 December (30 days before)
    await slots.woken()
    assert await _slot(d) == NOW  # later than the slot: left alone
    assert await _run(d, NOW) == 0
    assert await _slot(d) == NOW + timedelta(days=1)  # nothing due for months: a daily look, not hourly
    # On 30 November the next run is set for the midnight that starts 1 December, and reminds then.
    eve = datetime(2026, 11, 30, 15, 0, tzinfo=SH)
    assert await _run(d, eve) == 0
    first_day = datetime(2026, 12, 1, tzinfo=SH)
    assert await _slot(d) == first_day
    assert await _run(d, first_day) == 1
    assert await _slot(d) == first_day + timedelta(days=1)
    # An agreement ending in ten days, signed now: its reminder is due at once, so it wakes the job.
    await _agreement(d, unit_id, date(2026, 12, 11))
    await slots.woken()
    assert await _slot(d) == ag.reminder_from(date(2026, 12, 11), 30)
    assert await _slot(d) < first_day + timedelta(days=1)
    assert await _run(d, first_day + timedelta(minutes=5)) == 1


async def test_a_longer_reminder_period_wakes_the_job(district: District) -> None:
    d = district
    async with d.app.state.db.transaction(None) as s:
        s.add(PeriodicRun(tenant_id=d.tenant.id, name=ag.REMIND_JOB, next_run_at=NOW))
    real_now = datetime.now(SH)
    assert await _run(d, real_now) == 0
    assert await _slot(d) > real_now + timedelta(hours=23)  # nothing to remind: a day away
    await set_plugin(
        d.app.state.db, d.app.state.plugins, d.tenant, "party_leadership", True, {"agreement_remind_days": 90}
    )
    await slots.woken()
    assert await _slot(d) <= datetime.now(SH)  # due: the next pass runs it with the new period
