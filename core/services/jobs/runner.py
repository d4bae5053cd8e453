"""The job runner: claims due jobs by compare-and-set so N app processes never run one twice.

Claiming is ``UPDATE … WHERE id = :id AND status = 'pending'``: atomic on SQLite and PostgreSQL
alike, and the rowcount says who won. On PostgreSQL the candidate is picked with
``FOR UPDATE SKIP LOCKED`` so runners take different jobs instead of queueing on one row.
A running job's lease is renewed while it runs; a crashed runner's lease expires and the job is
tried again, up to its ``max_attempts``. Failures are retried with exponential backoff.

Periodic jobs: one ``periodic_runs`` row per (tenant, job) holds the next due time; whoever moves
it forward by compare-and-set enqueues the run. After downtime the job runs once, not once per
missed slot, and not at all while the previous run is still queued or running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.availability import database_unavailable
from core.db.base import new_id
from core.db.context import Actor, tenant_context
from core.db.engine import Database
from core.services.jobs.models import DONE, FAILED, PENDING, RUNNING, Job, PeriodicRun
from core.tenancy import plugins_on

log = logging.getLogger("liuzhi.jobs")
SYSTEM = Actor("system", None, "jobs")
LEASE = timedelta(minutes=5)
MAX_BACKOFF_SECONDS = 3600
SCHEDULE_EVERY_SECONDS = 5.0  # how often the loop looks for due periodic jobs
SCHEDULER_LOCK = 0x6C7A6A6F6273  # PostgreSQL advisory lock key of the periodic scheduler ("lzjobs")


@dataclass
class JobContext:
    """What a handler gets: its tenant, a session bound to it (committed when the handler returns,
    rolled back when it raises), the plugin host, and the channels for live updates (so
    ``notify(ctx, ctx.session, …)`` works inside a job)."""

    tenant_id: int
    session: AsyncSession
    db: Database
    plugins: Any
    job_id: int | None = None
    channels: Any = None
    attempt: int = 1


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    handler: Handler
    every_seconds: int | None = None  # periodic, per tenant that has the owning plugin on
    max_attempts: int = 3
    retry_seconds: int = 30  # first retry after this long, doubling each time (capped at an hour)
    plugin: str | None = field(default=None, compare=False)

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def _now() -> datetime:
    return datetime.now(UTC)


async def enqueue(
    session: AsyncSession,
    tenant_id: int,
    name: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
) -> Job:
    """Queue a job in the caller's transaction: it exists only if the caller's work commits."""
    if tenant_id is None:
        raise ValueError("a job must carry its tenant")
    job = Job(tenant_id=tenant_id, name=name, payload=payload or {}, run_at=run_at or _now())
    session.add(job)
    return job


async def enqueue_once(
    session: AsyncSession,
    tenant_id: int,
    name: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
) -> Job | None:
    """``enqueue`` unless a run of ``name`` is already waiting in the district (then None): for work
    that a later run does whole, such as a rebuild asked for by many changes."""
    # jobs is a platform table (not tenant-filtered by the ORM): the tenant is named here.
    waiting = select(Job.id).where(Job.tenant_id == tenant_id, Job.name == name, Job.status == PENDING).limit(1)
    if await session.scalar(waiting) is not None:
        return None
    return await enqueue(session, tenant_id, name, payload, run_at)


def _switched_on(specs: Any) -> Any:
    """SQL: the slot's district is active and has the slot's job's plugin on (core's jobs: always)."""
    from core.tenancy.models import ACTIVE, Tenant

    per_job = [
        PeriodicRun.name == sp.name if sp.plugin is None else (PeriodicRun.name == sp.name) & plugins_on.has(sp.plugin)
        for sp in specs
    ]
    return select(Tenant.id).where(Tenant.id == PeriodicRun.tenant_id, Tenant.status == ACTIVE, or_(*per_job)).exists()


class JobRunner:
    def __init__(
        self,
        db: Database,
        plugins: Any,
        poll_seconds: float = 1.0,
        *,
        channels: Any = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.plugins = plugins
        self.channels = channels
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.worker_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self._specs: dict[str, JobSpec] | None = None

    @property
    def specs(self) -> dict[str, JobSpec]:
        if self._specs is None:
            specs: dict[str, JobSpec] = {}
            for plugin, result in self.plugins.call_sync("register_jobs"):
                for spec in result:
                    if not isinstance(spec, JobSpec):
                        log.warning("plugin %s registered %r, not a JobSpec: ignored", plugin, spec)
                        continue
                    if spec.name in specs:
                        log.warning("job %s registered twice; %s's wins", spec.name, plugin)
                    owner = plugin if plugin in self.plugins.manifests else None
                    specs[spec.name] = replace(spec, plugin=owner)
            self._specs = specs
        return self._specs

    # ---- periodic --------------------------------------------------------------------------

    async def schedule_periodic(self) -> int:
        """Enqueue each due periodic job once per district that has its plugin on; returns how many
        this process enqueued. Set-based, so an idle pass costs the same at 3 or 3,000 districts:
        one anti-join per job adds the slots of districts new to it, one UPDATE … RETURNING moves
        every due slot forward, one INSERT queues the runs. On PostgreSQL one process schedules at a
        time (a transaction-scoped advisory lock; the others skip the pass); elsewhere the
        compare-and-set on next_run_at keeps two schedulers from queueing a slot twice."""
        periodic = {s.name: s for s in self.specs.values() if s.every_seconds}
        if not periodic:
            return 0
        now = _now()
        async with self.db.transaction(None, SYSTEM) as s:
            if self.db.dialect == "postgresql" and not await s.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SCHEDULER_LOCK}
            ):
                return 0
            for spec in periodic.values():
                await self._add_slots(s, spec, now)
            due = (
                await s.execute(
                    update(PeriodicRun)
                    .where(
                        PeriodicRun.name.in_(periodic),
                        PeriodicRun.next_run_at <= now,
                        _switched_on(periodic.values()),
                    )
                    # The next slot counts from now, not from the missed one: after downtime, one run.
                    .values(
                        next_run_at=case(
                            {n: now + timedelta(seconds=sp.every_seconds or 60) for n, sp in periodic.items()},
                            value=PeriodicRun.name,
                        ),
                        last_run_at=now,
                    )
                    .returning(PeriodicRun.tenant_id, PeriodicRun.name)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            if not due:
                return 0
            busy = set(
                (
                    await s.execute(
                        select(Job.tenant_id, Job.name).where(
                            Job.status.in_((PENDING, RUNNING)),
                            Job.name.in_({name for _t, name in due}),
                            Job.tenant_id.in_({t for t, _n in due}),
                        )
                    )
                ).all()
            )
            # A run still queued or running is not piled on; its slot has moved all the same.
            runs = [(t, n) for t, n in due if (t, n) not in busy]
            s.add_all(Job(tenant_id=t, name=n, payload={"scheduled_for": now.isoformat()}, run_at=now) for t, n in runs)
        return len(runs)

    async def _add_slots(self, s: AsyncSession, spec: JobSpec, now: datetime) -> None:
        """Slots for the districts that have the job's plugin on and no slot yet: due now."""
        from core.tenancy.models import ACTIVE, Tenant

        missing = select(Tenant.id).where(
            Tenant.status == ACTIVE,
            ~select(PeriodicRun.id).where(PeriodicRun.tenant_id == Tenant.id, PeriodicRun.name == spec.name).exists(),
        )
        if spec.plugin is not None:
            missing = missing.where(plugins_on.has(spec.plugin))
        tenants = (await s.execute(missing)).scalars().all()
        if tenants:
            # Two schedulers may both get here (SQLite has no advisory lock): one row wins.
            await s.execute(
                self._insert_ignoring_duplicates().on_conflict_do_nothing(index_elements=["tenant_id", "name"]),
                [{"id": new_id(), "tenant_id": t, "name": spec.name, "next_run_at": now} for t in tenants],
            )

    def _insert_ignoring_duplicates(self) -> Any:
        return (pg_insert if self.db.dialect == "postgresql" else sqlite_insert)(PeriodicRun)

    # ---- running ---------------------------------------------------------------------------

    async def run_pending(self, limit: int = 50) -> int:
        """Run due jobs until none is left or ``limit`` ran; returns how many this process ran."""
        ran = 0
        await self.release_stale()
        while ran < limit:
            job = await self._claim()
            if job is None:
                break
            await self._execute(job)
            ran += 1
        return ran

    async def release_stale(self) -> int:
        """Put jobs whose runner stopped renewing its lease back in the queue."""
        async with self.db.transaction(None, SYSTEM) as s:
            res = await s.execute(
                update(Job)
                .where(Job.status == RUNNING, Job.locked_until < _now())
                .values(status=PENDING, locked_by=None, locked_until=None, last_error="lease expired")
            )
        if res.rowcount:
            log.warning("released %s job(s) whose runner stopped", res.rowcount)
        return int(res.rowcount or 0)

    async def _claim(self) -> Job | None:
        names = list(self.specs)
        if not names:
            return None  # a runner claims only jobs it can run (others may know more plugins)
        for _ in range(100):
            async with self.db.transaction(None, SYSTEM) as s:
                pick = (
                    select(Job.id)
                    .where(Job.status == PENDING, Job.run_at <= _now(), Job.name.in_(names))
                    .order_by(Job.run_at, Job.id)
                    .limit(1)
                )
                if self.db.dialect == "postgresql":
                    pick = pick.with_for_update(skip_locked=True)
                candidate = (await s.execute(pick)).scalar_one_or_none()
                if candidate is None:
                    return None
                res = await s.execute(
                    update(Job)
                    .where(Job.id == candidate, Job.status == PENDING)
                    .values(
                        status=RUNNING,
                        locked_by=self.worker_id,
                        locked_until=_now() + self.lease,
                        attempts=Job.attempts + 1,
                    )
                )
                if res.rowcount == 1:
                    return await s.get(Job, candidate, populate_existing=True)
            # Another runner claimed it between our look and our update: look again.
        return None

    async def _execute(self, job: Job) -> None:
        spec = self.specs.get(job.name)
        error: str | None = None
        final = False  # no retry can help
        if job.tenant_id is None:
            error, final = "job carries no tenant: refused", True  # fail closed
        elif spec is None:
            error, final = f"no handler registered for {job.name!r}", True
        elif job.attempts > spec.max_attempts:
            error, final = f"gave up after {spec.max_attempts} attempts ({job.last_error or 'no error recorded'})", True
        else:
            heartbeat = asyncio.create_task(self._renew_lease(job.id))
            try:
                with tenant_context(job.tenant_id, SYSTEM):
                    async with self.db.transaction(job.tenant_id, SYSTEM) as s:
                        context = JobContext(
                            job.tenant_id, s, self.db, self.plugins, job.id, self.channels, job.attempts
                        )
                        s.info["app_state"] = context  # events the job emits are delivered through it
                        await spec.handler(context, dict(job.payload or {}))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
                log.exception("job %s (%s) of tenant %s failed", job.id, job.name, job.tenant_id)
            except asyncio.CancelledError:
                # The runner is stopping: give the job back now rather than when its lease expires.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._finish(job, spec, "interrupted: the runner stopped", False))
                raise
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
        await self._finish(job, spec, error, final)

    async def _finish(self, job: Job, spec: JobSpec | None, error: str | None, final: bool) -> None:
        now = _now()
        values: dict[str, Any] = {"locked_by": None, "locked_until": None}
        if error is None:
            values.update(status=DONE, finished_at=now, last_error=None)
        elif final or spec is None or job.attempts >= spec.max_attempts:
            values.update(status=FAILED, finished_at=now, last_error=error)
        else:
            values.update(status=PENDING, last_error=error, run_at=now + spec.backoff(job.attempts))
        async with self.db.transaction(None, SYSTEM) as s:
            res = await s.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == RUNNING, Job.locked_by == self.worker_id)
                .values(**values)
            )
        if res.rowcount != 1:
            log.warning("job %s (%s): lease lost before it finished", job.id, job.name)

    async def _renew_lease(self, job_id: int) -> None:
        """While a job runs, keep its lease from expiring (so nobody else starts it)."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self.db.transaction(None, SYSTEM) as s:
                    await s.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.status == RUNNING, Job.locked_by == self.worker_id)
                        .values(locked_until=_now() + self.lease)
                    )
            except Exception:
                log.exception("could not renew the lease of job %s", job_id)

    # ---- background loop -------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="liuzhi-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        next_schedule = 0.0
        while True:
            try:
                if time.monotonic() >= next_schedule:
                    next_schedule = time.monotonic() + max(self.poll_seconds, SCHEDULE_EVERY_SECONDS)
                    await self.schedule_periodic()
                await self.run_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if database_unavailable(exc):  # an outage: one line, and try again next round
                    log.warning("job loop: database unavailable (%s)", type(exc).__name__)
                else:
                    log.exception("job loop error")
            await asyncio.sleep(self.poll_seconds)
