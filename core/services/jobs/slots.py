"""A periodic job that knows when it next has work moves its own slot: an idle district is then
not visited every ``every_seconds``, and the scheduler's one set-based pass queues only districts
whose time has come.

- ``hold(session, tenant_id, name)`` at the start of the handler locks the slot (PostgreSQL), so a
  ``wake`` from a change committed meanwhile waits and then applies after the handler's own move;
- ``settle(session, tenant_id, name, upcoming, …)`` at its end moves the slot to the job's next due
  moment (no sooner than ``soon``, no later than ``idle``: the look that catches what no wake told);
- ``run_next_at(session, tenant_id, name, at)`` sets the next run (later or earlier);
- ``wake(session, tenant_id, name, at)`` brings it forward only (a new, earlier deadline);
- ``wake_after_commit(session, name, at)``: the same, once the caller's transaction has committed
  (before, a run could start, miss the uncommitted change and move the slot past it). One autocommit
  statement on the database's side connection; ``await woken()`` waits for those under way.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from core.db.engine import DATABASE, TenantSession
from core.services.jobs.models import PeriodicRun

log = logging.getLogger("liuzhi.jobs")
_WAKES = "liuzhi.jobs.wakes"  # session.info: {job name: earliest moment} to apply after commit
_IN_FLIGHT: set[asyncio.Task[Any]] = set()  # asyncio keeps only weak references to tasks


def _slot(tenant_id: int, name: str) -> list[object]:
    return [PeriodicRun.tenant_id == tenant_id, PeriodicRun.name == name]


async def hold(session: AsyncSession, tenant_id: int, name: str) -> None:
    stmt = select(PeriodicRun.id).where(*_slot(tenant_id, name))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    await session.execute(stmt)


async def run_next_at(session: AsyncSession, tenant_id: int, name: str, at: datetime) -> None:
    await session.execute(
        update(PeriodicRun)
        .where(*_slot(tenant_id, name))
        .values(next_run_at=at)
        .execution_options(synchronize_session=False)
    )


def next_run(now: datetime, upcoming: datetime | None, *, soon: timedelta, idle: timedelta) -> datetime:
    """``upcoming`` (the job's next due moment, None: nothing pending) kept within [now+soon, now+idle]."""
    if upcoming is None:
        return now + idle
    return min(max(upcoming, now + soon), now + idle)


async def settle(
    session: AsyncSession,
    tenant_id: int,
    name: str,
    upcoming: datetime | None,
    *,
    now: datetime,
    soon: timedelta,
    idle: timedelta,
) -> datetime:
    """After a run (the slot held): the next run at ``upcoming``, within [now+soon, now+idle]."""
    at = next_run(now, upcoming, soon=soon, idle=idle)
    await run_next_at(session, tenant_id, name, at)
    return at


async def wake(session: AsyncSession | AsyncConnection, tenant_id: int, name: str, at: datetime) -> None:
    """Bring the slot forward to ``at`` (never later); one UPDATE, also on an autocommit connection."""
    await session.execute(
        update(PeriodicRun)
        .where(*_slot(tenant_id, name), PeriodicRun.next_run_at > at)
        .values(next_run_at=at)
        .execution_options(synchronize_session=False)
    )


def wake_after_commit(session: AsyncSession | Session, name: str, at: datetime) -> None:
    """Once the caller's transaction commits, bring the session's tenant's slot ``name`` forward to
    ``at``. A rollback drops it; a rolled-back savepoint does not (a needless early run is harmless)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    wakes: dict[str, datetime] = sync.info.setdefault(_WAKES, {})
    wakes[name] = min(at, wakes.get(name, at))


async def _apply(db: Any, tenant_id: int, wakes: dict[str, datetime]) -> None:
    try:
        async with db.aside(tenant_id) as conn:
            for name, at in wakes.items():
                await wake(conn, tenant_id, name, at)
    except Exception:  # the job's own idle look still comes; the committed change stands
        log.exception("slots %s of tenant %s not woken", sorted(wakes), tenant_id)


async def woken() -> None:
    """Wait until the wakes of committed transactions have been applied (tests)."""
    while _IN_FLIGHT:
        await asyncio.gather(*list(_IN_FLIGHT), return_exceptions=True)


@sa_event.listens_for(TenantSession, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None or _WAKES not in session.info:
        return  # a savepoint released: the wakes wait for the enclosing commit
    wakes = session.info.pop(_WAKES)
    db, tenant_id = session.info.get(DATABASE), session.info.get("tenant_id")
    if not wakes or db is None or tenant_id is None:
        return
    try:
        task = asyncio.get_running_loop().create_task(_apply(db, tenant_id, wakes))
    except RuntimeError:  # no loop (a synchronous caller): the job's idle look catches it
        log.warning("slots %s committed outside an event loop; not woken", sorted(wakes))
        return
    _IN_FLIGHT.add(task)
    task.add_done_callback(_IN_FLIGHT.discard)


@sa_event.listens_for(TenantSession, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_WAKES, None)
