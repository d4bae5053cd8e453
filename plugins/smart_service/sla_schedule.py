"""When the SLA sweep runs: at the district's next deadline, not every minute in every district.

The sweep (``services.sla_job``) escalates what has breached; afterwards its periodic slot is moved
to the earliest deadline still running (at least a minute ahead, at most ``IDLE`` ahead), so the
scheduler's one set-based pass over all districts queues a sweep only where a deadline has come.
A change that sets an earlier deadline brings the slot forward after it commits (``heard``); the
slot is held while the sweep runs, so such a wake is never overwritten by the sweep's own move.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.services.jobs import slots
from plugins.smart_service import services
from plugins.smart_service.lifecycle import STAGE_OF
from plugins.smart_service.models import Event

SOON = timedelta(seconds=60)
IDLE = timedelta(hours=1)  # a district with nothing running is still looked at hourly
SKEW = timedelta(minutes=5)  # between the clocks of the processes that move the slot


async def next_deadline(session: AsyncSession) -> datetime | None:
    """The earliest deadline of a running clock not yet escalated (what the sweep would act on)."""
    return await session.scalar(
        select(func.min(Event.due_at)).where(
            Event.state.in_([s.value for s in STAGE_OF]),
            or_(Event.escalated_seq.is_(None), Event.escalated_seq < Event.clock_seq),
        )
    )


async def job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The SLA job's handler: sweep, then set the slot to the next deadline."""
    await slots.hold(ctx.session, ctx.tenant_id, services.SLA_JOB)
    result = await services.sla_job(ctx, payload)
    now = utcnow()
    upcoming = await next_deadline(ctx.session)
    at = now + IDLE if upcoming is None else min(max(upcoming, now + SOON), now + IDLE)
    await slots.run_next_at(ctx.session, ctx.tenant_id, services.SLA_JOB, at)
    return {**result, "next_run_at": at.isoformat()}


async def heard(context: Any, tenant_id: int, payload: dict[str, Any]) -> None:
    """After a change commits: a deadline earlier than the slot's brings the sweep forward.

    One autocommit statement on the database's side connection rather than a transaction of its
    own: every committed change with a deadline passes here, so it must cost one round trip. It
    still waits for a sweep holding the slot and then applies to the sweep's new time.

    A deadline more than ``IDLE`` away costs none: the slot is never set further ahead than that
    (the sweep's own move; the scheduler's claim moves it ``every_seconds``, a minute), so such a
    wake could not bring it forward — most reports (hours to accept) end here."""
    due = payload.get("due_at")
    if not due or context.db is None:
        return
    at = datetime.fromisoformat(due)
    if at > utcnow() + IDLE + SKEW:
        return
    async with context.db.aside(tenant_id) as conn:
        await slots.wake(conn, tenant_id, services.SLA_JOB, at)
