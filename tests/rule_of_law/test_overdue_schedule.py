"""The overdue sweep comes when a case falls due, not every ten minutes in every district: after a
sweep its slot waits for the district midnight after the earliest open last day (a day at most), a
case recorded with an earlier last day wakes it, and the sweep still flags at that midnight."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from core.services.jobs import JobContext, JobRunner, JobSpec, slots
from core.services.jobs import runner as runner_module
from core.services.jobs.models import Job, PeriodicRun
from plugins.rule_of_law import overdue
from tests.rule_of_law.conftest import MONDAY_10, SH, District
from tests.rule_of_law.test_cases import new_case, step


async def _slot(d: District) -> datetime:
    async with d.db.session(None) as s:
        at = await s.scalar(
            select(PeriodicRun.next_run_at).where(PeriodicRun.tenant_id == d.tenant.id, PeriodicRun.name == overdue.JOB)
        )
    assert at is not None
    return at


async def _sweep(d: District, app: Any, now: datetime) -> dict[str, Any]:
    async with d.tx() as s:
        return await overdue.job(JobContext(d.tenant.id, s, d.db, app.state.plugins), {"now": now.isoformat()})


@pytest.fixture
async def slotted(district: District) -> District:
    async with district.db.transaction(None) as s:
        s.add(PeriodicRun(tenant_id=district.tenant.id, name=overdue.JOB, next_run_at=MONDAY_10))
    return district


async def test_the_sweep_waits_for_the_next_last_day_and_flags_at_the_midnight_after_it(
    slotted: District, app: Any
) -> None:
    d = slotted
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})  # last day 16 April
    midnight = datetime(2026, 4, 17, tzinfo=SH)
    # Nothing falls due for a month: the next look is a day away, not ten minutes.
    assert await _sweep(d, app, MONDAY_10) == {"flagged": 0, "next_run_at": (MONDAY_10 + timedelta(days=1)).isoformat()}
    assert await _slot(d) == MONDAY_10 + timedelta(days=1)
    # On the last day the sweep is set for the midnight after it.
    await _sweep(d, app, datetime(2026, 4, 16, 20, 0, tzinfo=SH))
    assert await _slot(d) == midnight
    assert (await _sweep(d, app, midnight))["flagged"] == 1
    assert await _slot(d) == midnight + timedelta(days=1)  # nothing else open: back to the daily look


async def test_a_case_recorded_with_an_earlier_last_day_wakes_the_sweep(slotted: District, app: Any) -> None:
    d = slotted
    now = datetime(2026, 5, 4, 9, 0, tzinfo=SH)
    await _sweep(d, app, now)
    assert await _slot(d) == now + timedelta(days=1)
    # A case accepted on 16 March is entered only now: its last day (16 April) has passed.
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})
    await slots.woken()
    assert await _slot(d) == overdue.overdue_from(date(2026, 4, 16))
    # A later last day never pushes the sweep back.
    later = await new_case(d)
    await step(d, later, "accept", "mediator", {"origin": "application"}, at=now)
    await slots.woken()
    assert await _slot(d) == overdue.overdue_from(date(2026, 4, 16))
    assert (await _sweep(d, app, now + timedelta(minutes=1)))["flagged"] == 1
    assert await _slot(d) == now + timedelta(days=1, minutes=1)  # the later case falls due in a month


async def test_the_scheduler_queues_no_run_for_a_district_with_nothing_due(
    slotted: District, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = slotted
    runner = JobRunner(d.db, app.state.plugins)
    runner._specs = {overdue.JOB: JobSpec(overdue.JOB, overdue.job, every_seconds=600, plugin="rule_of_law")}

    async def queued() -> int:
        async with d.db.session(None) as s:
            rows = await s.execute(select(Job.id).where(Job.tenant_id == d.tenant.id, Job.name == overdue.JOB))
            return len(rows.all())

    try:
        monkeypatch.setattr(runner_module, "_now", lambda: MONDAY_10)
        await runner.schedule_periodic()
        assert await queued() == 1
        await runner.run_pending()
        # An hour later (six ten-minute periods): nothing has fallen due, so no run.
        monkeypatch.setattr(runner_module, "_now", lambda: MONDAY_10 + timedelta(hours=1))
        await runner.schedule_periodic()
        assert await queued() == 1
        # A case recorded late whose last day has passed wakes it: the next pass queues a run.
        case_id = await new_case(d)
        await step(d, case_id, "accept", "mediator", {"origin": "application"}, at=MONDAY_10 - timedelta(days=40))
        await slots.woken()
        await runner.schedule_periodic()
        assert await queued() == 2
    finally:
        async with d.db.transaction(None) as s:
            await s.execute(delete(Job).where(Job.tenant_id == d.tenant.id))
