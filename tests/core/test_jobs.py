"""Jobs: never run twice by two runners, retried with backoff then failed, leases, periodic slots."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from core import hookimpl
from core.db.engine import Database
from core.pluginhost.manager import PluginHost
from core.pluginhost.manifest import Manifest
from core.services.jobs import JobContext, JobRunner, JobSpec, enqueue, enqueue_once
from core.services.jobs.models import DONE, FAILED, PENDING, RUNNING, Job, PeriodicRun
from core.tenancy.service import set_plugin

SUFFIX = secrets.token_hex(3)  # job names of this run only: runners claim only jobs they know
WORK, FLAKY, TICK = f"probe.work.{SUFFIX}", f"probe.flaky.{SUFFIX}", f"jobs_probe.tick.{SUFFIX}"


class JobsProbe:
    """A plugin with three jobs: one that records its runs, one that fails, one periodic."""

    __liuzhi_name__ = "jobs_probe"

    def __init__(self) -> None:
        self.runs: list[tuple[int | None, int, dict[str, Any]]] = []
        self.ticks: list[int] = []

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest("jobs_probe", "other", "任务探针", "Jobs probe", "1.0")

    @hookimpl
    def register_jobs(self) -> list[JobSpec]:
        async def work(ctx: JobContext, payload: dict[str, Any]) -> None:
            await asyncio.sleep(0.002)  # let the other runner in
            self.runs.append((ctx.job_id, ctx.tenant_id, payload))

        async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
            raise RuntimeError("the SMS gateway is down")

        async def tick(ctx: JobContext, payload: dict[str, Any]) -> None:
            self.ticks.append(ctx.tenant_id)

        return [
            JobSpec(WORK, work),
            JobSpec(FLAKY, flaky, max_attempts=3, retry_seconds=30),
            JobSpec(TICK, tick, every_seconds=600),
        ]


@pytest.fixture
async def probe() -> JobsProbe:
    return JobsProbe()


@pytest.fixture
async def runners(migrated: Any, probe: JobsProbe) -> AsyncIterator[tuple[JobRunner, JobRunner]]:
    """Two runners as two app processes would have: separate Database objects, same database."""
    host = PluginHost([probe], load_entry_points=False)
    dbs = [Database(migrated.database_url), Database(migrated.database_url)]
    yield JobRunner(dbs[0], host), JobRunner(dbs[1], host)
    async with dbs[0].transaction(None) as s:
        # Periodic runs went to every district with the probe on: only fresh ones, but be tidy.
        await s.execute(delete(Job).where(Job.name.in_((WORK, FLAKY, TICK))))
        await s.execute(delete(PeriodicRun).where(PeriodicRun.name == TICK))
    for db in dbs:
        await db.dispose()


async def queue(db: Any, tenant_id: int, name: str, n: int = 1) -> list[int]:
    async with db.transaction(tenant_id) as s:
        jobs = [await enqueue(s, tenant_id, name, {"n": i}) for i in range(n)]
    return [j.id for j in jobs]


async def job(db: Any, job_id: int) -> Job:
    async with db.session(None) as s:
        row = await s.get(Job, job_id)
    assert row is not None
    return row


async def make_due(db: Any, job_id: int) -> None:
    """Time passes: the job's retry is due now."""
    async with db.transaction(None) as s:
        await s.execute(update(Job).where(Job.id == job_id).values(run_at=datetime.now(UTC) - timedelta(seconds=1)))


async def test_two_runners_at_once_run_every_job_exactly_once(
    db: Any, runners: tuple[JobRunner, JobRunner], probe: JobsProbe, fresh_tenant: Any
) -> None:
    ids = await queue(db, fresh_tenant.id, WORK, 30)
    a, b = runners
    ran = await asyncio.gather(a.run_pending(limit=100), b.run_pending(limit=100))
    counts = Counter(job_id for job_id, _, _ in probe.runs)
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
    assert sum(ran) == 30 and min(ran) > 0  # both took part, neither repeated the other's work
    assert {t for _, t, _ in probe.runs} == {fresh_tenant.id}
    assert {(await job(db, i)).status for i in ids} == {DONE}


async def test_a_failing_job_is_retried_with_growing_waits_then_marked_failed(
    db: Any, runners: tuple[JobRunner, JobRunner], fresh_tenant: Any
) -> None:
    runner = runners[0]
    (job_id,) = await queue(db, fresh_tenant.id, FLAKY)

    before = datetime.now(UTC)
    await runner.run_pending()
    first = await job(db, job_id)
    assert (first.status, first.attempts) == (PENDING, 1)
    assert "the SMS gateway is down" in (first.last_error or "")
    assert first.run_at >= before + timedelta(seconds=30)
    assert await runner.run_pending() == 0  # not due yet

    await make_due(db, job_id)
    before = datetime.now(UTC)
    await runner.run_pending()
    second = await job(db, job_id)
    assert (second.status, second.attempts) == (PENDING, 2)
    assert second.run_at >= before + timedelta(seconds=60)  # the wait doubled

    await make_due(db, job_id)
    await runner.run_pending()
    last = await job(db, job_id)
    assert (last.status, last.attempts) == (FAILED, 3)
    assert "RuntimeError: the SMS gateway is down" in (last.last_error or "")
    assert last.finished_at is not None
    await make_due(db, job_id)
    assert await runner.run_pending() == 0  # failed for good


async def test_a_job_asked_for_again_while_one_waits_is_queued_once_per_district(
    db: Any, runners: tuple[JobRunner, JobRunner], probe: JobsProbe, fresh_tenant: Any, districts: Any, app: Any
) -> None:
    other = await districts(app)
    for tenant_id in (fresh_tenant.id, fresh_tenant.id, other.tenant.id):
        async with db.transaction(tenant_id) as s:
            await enqueue_once(s, tenant_id, WORK, {})
    async with db.session(None) as s:
        waiting = (await s.execute(select(Job.tenant_id).where(Job.name == WORK, Job.status == PENDING))).scalars()
        assert Counter(waiting) == {fresh_tenant.id: 1, other.tenant.id: 1}
    await runners[0].run_pending()
    assert sorted(t for _, t, _ in probe.runs) == sorted((fresh_tenant.id, other.tenant.id))
    async with db.transaction(fresh_tenant.id) as s:  # the run is done: a new change asks again
        assert await enqueue_once(s, fresh_tenant.id, WORK, {}) is not None


async def test_a_job_without_a_tenant_is_refused_not_run(
    db: Any, runners: tuple[JobRunner, JobRunner], probe: JobsProbe
) -> None:
    async with db.transaction(None) as s:
        orphan = Job(tenant_id=None, name=WORK, payload={})
        s.add(orphan)
    with pytest.raises(ValueError, match="tenant"):
        async with db.transaction(None) as s:
            await enqueue(s, None, WORK)  # type: ignore[arg-type]
    await runners[0].run_pending()
    row = await job(db, orphan.id)
    assert row.status == FAILED and "no tenant" in (row.last_error or "")
    assert probe.runs == []


async def test_a_job_whose_runner_died_is_picked_up_again(
    db: Any, runners: tuple[JobRunner, JobRunner], probe: JobsProbe, fresh_tenant: Any
) -> None:
    stale, alive = await queue(db, fresh_tenant.id, WORK, 2)
    now = datetime.now(UTC)
    async with db.transaction(None) as s:
        for job_id, until in ((stale, now - timedelta(minutes=1)), (alive, now + timedelta(minutes=4))):
            await s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status=RUNNING, attempts=1, locked_by="crashed-worker", locked_until=until)
            )
    await runners[1].run_pending()
    assert [job_id for job_id, _, _ in probe.runs] == [stale]
    assert (await job(db, stale)).status == DONE
    still = await job(db, alive)
    assert (still.status, still.locked_by) == (RUNNING, "crashed-worker")  # its lease holds: left alone


async def test_a_job_that_kept_killing_its_runner_is_given_up(
    db: Any, runners: tuple[JobRunner, JobRunner], probe: JobsProbe, fresh_tenant: Any
) -> None:
    (job_id,) = await queue(db, fresh_tenant.id, WORK)
    async with db.transaction(None) as s:
        await s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=RUNNING, attempts=3, locked_by="crashed", locked_until=datetime.now(UTC) - timedelta(seconds=1)
            )
        )
    await runners[0].run_pending()
    row = await job(db, job_id)
    assert row.status == FAILED and "gave up after 3 attempts" in (row.last_error or "")
    assert probe.runs == []


async def probe_on(db: Any, runners: tuple[JobRunner, JobRunner], tenant: Any) -> None:
    await set_plugin(db, runners[0].plugins, tenant, "jobs_probe", True)


async def tick_jobs(db: Any, tenant_id: int | None = None) -> list[Job]:
    async with db.session(None) as s:
        stmt = select(Job).where(Job.name == TICK)
        if tenant_id is not None:
            stmt = stmt.where(Job.tenant_id == tenant_id)
        return list((await s.execute(stmt)).scalars())


async def test_two_runners_scheduling_at_once_queue_each_districts_periodic_job_once(
    db: Any, runners: tuple[JobRunner, JobRunner], fresh_tenant: Any
) -> None:
    await probe_on(db, runners, fresh_tenant)
    a, b = runners
    queued = await asyncio.gather(a.schedule_periodic(), b.schedule_periodic())
    assert sum(queued) == 1
    assert [j.tenant_id for j in await tick_jobs(db)] == [fresh_tenant.id]  # districts with the probe off: none
    assert await a.schedule_periodic() + await b.schedule_periodic() == 0  # the next slot is 10 minutes away


async def test_after_downtime_a_periodic_job_runs_once_not_once_per_missed_slot(
    db: Any, runners: tuple[JobRunner, JobRunner], probe: JobsProbe, fresh_tenant: Any
) -> None:
    await probe_on(db, runners, fresh_tenant)
    runner = runners[0]
    assert await runner.schedule_periodic() == 1
    await runner.run_pending()
    assert probe.ticks == [fresh_tenant.id]

    # The service was down for a week: 1,008 ten-minute slots were missed.
    async with db.transaction(None) as s:
        await s.execute(
            update(PeriodicRun)
            .where(PeriodicRun.tenant_id == fresh_tenant.id, PeriodicRun.name == TICK)
            .values(next_run_at=datetime.now(UTC) - timedelta(days=7))
        )
    queued = await asyncio.gather(runner.schedule_periodic(), runners[1].schedule_periodic())
    assert sum(queued) == 1
    await runner.run_pending()
    assert probe.ticks == [fresh_tenant.id, fresh_tenant.id]
    async with db.session(None) as s:
        slot = (
            await s.execute(
                select(PeriodicRun).where(PeriodicRun.tenant_id == fresh_tenant.id, PeriodicRun.name == TICK)
            )
        ).scalar_one()
    assert slot.next_run_at > datetime.now(UTC) + timedelta(minutes=9)  # counted from now


async def test_a_periodic_job_still_queued_is_not_queued_again(
    db: Any, runners: tuple[JobRunner, JobRunner], fresh_tenant: Any
) -> None:
    await probe_on(db, runners, fresh_tenant)
    runner = runners[0]
    assert await runner.schedule_periodic() == 1
    async with db.transaction(None) as s:
        await s.execute(
            update(PeriodicRun)
            .where(PeriodicRun.tenant_id == fresh_tenant.id, PeriodicRun.name == TICK)
            .values(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await runner.schedule_periodic() == 0  # the first run has not happened yet
    assert len(await tick_jobs(db, fresh_tenant.id)) == 1


async def test_a_district_that_switches_the_plugin_off_gets_no_more_runs_and_on_again_does(
    db: Any, runners: tuple[JobRunner, JobRunner], fresh_tenant: Any
) -> None:
    from core.tenancy.models import Tenant

    await probe_on(db, runners, fresh_tenant)
    runner = runners[0]
    async with db.session(None) as s:
        assert ",jobs_probe," in (await s.get(Tenant, fresh_tenant.id)).plugins_on  # the mirror the scheduler reads
    assert await runner.schedule_periodic() == 1
    await runner.run_pending()

    await set_plugin(db, runner.plugins, fresh_tenant, "jobs_probe", False)
    async with db.session(None) as s:
        assert ",jobs_probe," not in (await s.get(Tenant, fresh_tenant.id)).plugins_on
    async with db.transaction(None) as s:
        await s.execute(
            update(PeriodicRun)
            .where(PeriodicRun.tenant_id == fresh_tenant.id, PeriodicRun.name == TICK)
            .values(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await runner.schedule_periodic() == 0  # due, but the plugin is off here
    await set_plugin(db, runner.plugins, fresh_tenant, "jobs_probe", True)
    assert await runner.schedule_periodic() == 1
    assert len(await tick_jobs(db, fresh_tenant.id)) == 2
