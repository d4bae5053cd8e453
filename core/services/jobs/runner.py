"""The job runner: claims due jobs by compare-and-set so N app processes never run one twice.

Claiming is ``UPDATE … WHERE id = :id AND status = 'pending'``: atomic on SQLite and PostgreSQL
alike, and the rowcount says who won. A crashed runner's lease expires and the job is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.context import Actor, tenant_context
from core.db.engine import Database
from core.services.jobs.models import DONE, FAILED, PENDING, RUNNING, Job, PeriodicRun

log = logging.getLogger("liuzhi.jobs")
SYSTEM = Actor("system", None, "jobs")
LEASE = timedelta(minutes=5)


@dataclass
class JobContext:
    tenant_id: int
    session: AsyncSession
    db: Database
    plugins: Any
    job_id: int | None = None


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    handler: Handler
    every_seconds: int | None = None  # periodic, per tenant that has the owning plugin on
    max_attempts: int = 3
    plugin: str | None = field(default=None, compare=False)


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


class JobRunner:
    def __init__(self, db: Database, plugins: Any, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.plugins = plugins
        self.poll_seconds = poll_seconds
        self.worker_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None
        self._specs: dict[str, JobSpec] | None = None

    @property
    def specs(self) -> dict[str, JobSpec]:
        if self._specs is None:
            specs: dict[str, JobSpec] = {}
            for plugin, result in self.plugins.call_sync("register_jobs"):
                for spec in result:
                    owner = plugin if plugin in self.plugins.manifests else None
                    specs[spec.name] = JobSpec(spec.name, spec.handler, spec.every_seconds, spec.max_attempts, owner)
            self._specs = specs
        return self._specs

    # ---- periodic --------------------------------------------------------------------------

    async def schedule_periodic(self) -> int:
        """Enqueue each due periodic job once per tenant; a CAS on next_run_at elects one process."""
        from core.tenancy.models import Tenant, TenantPlugin

        queued = 0
        periodic = [s for s in self.specs.values() if s.every_seconds]
        if not periodic:
            return 0
        async with self.db.session(None) as s:
            tenants = (await s.execute(select(Tenant.id).where(Tenant.status == "active"))).scalars().all()
        for tenant_id in tenants:
            async with self.db.transaction(tenant_id, SYSTEM) as s:
                enabled = set(
                    (await s.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True)))).scalars()
                )
            for spec in periodic:
                if spec.plugin is not None and spec.plugin not in enabled:
                    continue
                queued += await self._claim_slot(tenant_id, spec)
        return queued

    async def _claim_slot(self, tenant_id: int, spec: JobSpec) -> int:
        now = _now()
        async with self.db.transaction(None, SYSTEM) as s:
            row = (
                await s.execute(
                    select(PeriodicRun).where(PeriodicRun.tenant_id == tenant_id, PeriodicRun.name == spec.name)
                )
            ).scalar_one_or_none()
            if row is None:
                s.add(PeriodicRun(tenant_id=tenant_id, name=spec.name, next_run_at=now))
                await s.flush()
                row = (
                    await s.execute(
                        select(PeriodicRun).where(PeriodicRun.tenant_id == tenant_id, PeriodicRun.name == spec.name)
                    )
                ).scalar_one()
        if row.next_run_at > now:
            return 0
        async with self.db.transaction(None, SYSTEM) as s:
            res = await s.execute(
                update(PeriodicRun)
                .where(PeriodicRun.id == row.id, PeriodicRun.next_run_at == row.next_run_at)
                .values(next_run_at=now + timedelta(seconds=spec.every_seconds or 60), last_run_at=now)
            )
            if res.rowcount != 1:
                return 0  # another process took this slot
            await enqueue(s, tenant_id, spec.name, {"scheduled_for": row.next_run_at.isoformat()})
        return 1

    # ---- running ---------------------------------------------------------------------------

    async def run_pending(self, limit: int = 50) -> int:
        """Run due jobs until none is left or ``limit`` ran; returns how many this process ran."""
        ran = 0
        await self._release_stale()
        while ran < limit:
            job = await self._claim()
            if job is None:
                break
            await self._execute(job)
            ran += 1
        return ran

    async def _release_stale(self) -> None:
        async with self.db.transaction(None, SYSTEM) as s:
            await s.execute(
                update(Job)
                .where(Job.status == RUNNING, Job.locked_until < _now())
                .values(status=PENDING, locked_by=None)
            )

    async def _claim(self) -> Job | None:
        for _ in range(5):
            async with self.db.transaction(None, SYSTEM) as s:
                candidate = (
                    await s.execute(
                        select(Job.id).where(Job.status == PENDING, Job.run_at <= _now()).order_by(Job.run_at).limit(1)
                    )
                ).scalar_one_or_none()
                if candidate is None:
                    return None
                res = await s.execute(
                    update(Job)
                    .where(Job.id == candidate, Job.status == PENDING)
                    .values(
                        status=RUNNING,
                        locked_by=self.worker_id,
                        locked_until=_now() + LEASE,
                        attempts=Job.attempts + 1,
                    )
                )
                if res.rowcount == 1:
                    return await s.get(Job, candidate, populate_existing=True)
        return None

    async def _execute(self, job: Job) -> None:
        spec = self.specs.get(job.name)
        error: str | None = None
        if job.tenant_id is None:
            error = "job carries no tenant: refused"  # fail closed
        elif spec is None:
            error = f"no handler registered for {job.name!r}"
        else:
            try:
                with tenant_context(job.tenant_id, SYSTEM):
                    async with self.db.transaction(job.tenant_id, SYSTEM) as s:
                        await spec.handler(JobContext(job.tenant_id, s, self.db, self.plugins, job.id), job.payload)
            except Exception:
                error = traceback.format_exc(limit=5)
                log.exception("job %s (%s) failed", job.id, job.name)
        async with self.db.transaction(None, SYSTEM) as s:
            row = await s.get(Job, job.id)
            assert row is not None
            row.locked_by = None
            row.locked_until = None
            if error is None:
                row.status, row.finished_at = DONE, _now()
            elif job.tenant_id is None or spec is None or row.attempts >= spec.max_attempts:
                row.status, row.last_error, row.finished_at = FAILED, error, _now()
            else:
                # back off and retry
                row.status, row.last_error = PENDING, error
                row.run_at = _now() + timedelta(seconds=30 * row.attempts)

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
        while True:
            try:
                await self.schedule_periodic()
                await self.run_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job loop error")
            await asyncio.sleep(self.poll_seconds)
