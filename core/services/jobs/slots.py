"""A periodic job that knows when it next has work moves its own slot: an idle district is then
not visited every ``every_seconds``, and the scheduler's one set-based pass queues only districts
whose time has come.

- ``hold(session, tenant_id, name)`` at the start of the handler locks the slot (PostgreSQL), so a
  ``wake`` from a change committed meanwhile waits and then applies after the handler's own move;
- ``run_next_at(session, tenant_id, name, at)`` sets the next run (later or earlier);
- ``wake(session, tenant_id, name, at)`` brings it forward only (a new, earlier deadline).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.services.jobs.models import PeriodicRun


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


async def wake(session: AsyncSession | AsyncConnection, tenant_id: int, name: str, at: datetime) -> None:
    """Bring the slot forward to ``at`` (never later); one UPDATE, also on an autocommit connection."""
    await session.execute(
        update(PeriodicRun)
        .where(*_slot(tenant_id, name), PeriodicRun.next_run_at > at)
        .values(next_run_at=at)
        .execution_options(synchronize_session=False)
    )
