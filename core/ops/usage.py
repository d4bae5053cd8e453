"""Per-tenant usage: requests counted in memory, added to ``usage_days`` every few seconds, and the
figures an operator sees on the platform pages (users, residents, storage, requests, jobs).

Counting in memory and flushing in batches keeps a request's cost at a dict update; each process
adds its own counts with ``requests = requests + n``, so any number of processes sum correctly.
A crash loses at most one flush interval of counts, which is fine for usage figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db.base import new_id
from core.ops.models import UsageDay

log = logging.getLogger("liuzhi.usage")
HISTORY_DAYS = 14


def _today() -> date:
    return datetime.now(UTC).date()


class UsageCounter:
    def __init__(self, db: Any, flush_seconds: float = 30.0) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self._counts: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
        self._task: asyncio.Task[None] | None = None

    def count(self, tenant_id: int, *, api: bool = False) -> None:
        row = self._counts[(tenant_id, _today())]
        row[0] += 1
        if api:
            row[1] += 1

    async def flush(self) -> int:
        """Add the counts so far to the database; returns how many tenant-days were written."""
        counts, self._counts = self._counts, defaultdict(lambda: [0, 0])
        if not counts:
            return 0
        from core.tenancy.models import Tenant

        try:
            async with self.db.session(None) as s:
                ids = {t for t, _day in counts}
                living = set((await s.execute(select(Tenant.id).where(Tenant.id.in_(ids)))).scalars())
        except Exception as exc:
            log.warning("usage not recorded: %s", exc)
            return 0
        written = 0
        for (tenant_id, day), (requests, api) in counts.items():
            if tenant_id not in living:
                continue  # deleted meanwhile: its counts go with it
            try:
                async with self.db.transaction(tenant_id, no_audit=True) as s:
                    insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
                    stmt = insert(UsageDay).values(
                        tenant_id=tenant_id, id=new_id(), day=day, requests=requests, api_requests=api
                    )
                    stmt = stmt.on_conflict_do_update(
                        index_elements=["tenant_id", "day"],
                        set_={
                            "requests": UsageDay.requests + stmt.excluded.requests,
                            "api_requests": UsageDay.api_requests + stmt.excluded.api_requests,
                        },
                    )
                    await s.execute(stmt)
                written += 1
            except Exception as exc:  # a deleted tenant, a database blip: counts are not worth a crash
                log.warning("usage of tenant %s not recorded: %s", tenant_id, exc)
        return written

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="liuzhi-usage")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()


# ---- what the platform pages show -----------------------------------------------------------


@dataclass
class Usage:
    users: int = 0
    residents: int = 0
    files: int = 0
    storage_bytes: int = 0
    audit_entries: int = 0
    requests_today: int = 0
    days: list[tuple[date, int, int]] = field(default_factory=list)  # (day, requests, api requests)
    jobs: dict[str, int] = field(default_factory=dict)  # status → count (done: in the last 24 h)
    plugins: list[tuple[str, int]] = field(default_factory=list)  # figures plugins add: (label, value)


async def storage_used(session: Any) -> int:
    from core.services.files.models import StoredFile

    return int(await session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0))) or 0)


async def summary(db: Any, tenant_id: int) -> Usage:
    """The short figures for the tenant list: users, residents, storage, requests today."""
    from core.grids.basedata import Resident
    from core.identity.models import User

    u = Usage()
    async with db.session(tenant_id) as s:
        u.users = int(await s.scalar(select(func.count(User.id))) or 0)
        u.residents = int(await s.scalar(select(func.count(Resident.id))) or 0)
        u.storage_bytes = await storage_used(s)
        u.requests_today = int(await s.scalar(select(UsageDay.requests).where(UsageDay.day == _today())) or 0)
    return u


async def detail(db: Any, tenant_id: int, host: Any, enabled: frozenset[str]) -> Usage:
    """Everything the tenant's usage page shows."""
    from core.audit.models import AuditEntry
    from core.services.files.models import StoredFile
    from core.services.jobs.models import DONE, Job

    u = await summary(db, tenant_id)
    since = _today() - timedelta(days=HISTORY_DAYS - 1)
    async with db.session(tenant_id) as s:
        u.files = int(await s.scalar(select(func.count(StoredFile.id))) or 0)
        u.audit_entries = int(await s.scalar(select(func.count(AuditEntry.id))) or 0)
        rows = await s.execute(
            select(UsageDay.day, UsageDay.requests, UsageDay.api_requests).where(UsageDay.day >= since)
        )
        by_day = {d: (int(r), int(a)) for d, r, a in rows}
        u.days = [(day, *by_day.get(day, (0, 0))) for day in (since + timedelta(days=i) for i in range(HISTORY_DAYS))]
        for _name, figures in await host.run("usage_figures", enabled, session=s):
            for label, value in dict(figures or {}).items():
                u.plugins.append((str(label), int(value)))
        day_ago = datetime.now(UTC) - timedelta(days=1)
        rows = await s.execute(
            select(Job.status, func.count())
            .where(Job.tenant_id == tenant_id, (Job.status != DONE) | (Job.finished_at >= day_ago))
            .group_by(Job.status)
        )
        u.jobs = {status: int(n) for status, n in rows}
    return u
