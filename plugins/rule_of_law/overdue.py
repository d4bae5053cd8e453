"""The overdue flag: open cases past their mediation period are flagged once, by a periodic job.

The flag is one conditional UPDATE (``overdue_at IS NULL``), so two processes running the job at the
same moment flag each case once between them; each flagged case gets one entry in its file and its
mediators one notification.

The job runs when a case falls due, not every ten minutes in every district: after a sweep its slot
(core.services.jobs.slots) moves to the district midnight after the earliest last day still open, a
day ahead at most; accepting a case with an earlier moment brings it forward once that commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.pluginhost.manifest import Notification
from core.services.jobs import slots
from core.services.notifications.service import notify
from plugins.rule_of_law.common import ZONE, local_day, utcnow
from plugins.rule_of_law.mediation import OPEN
from plugins.rule_of_law.models import Case, CaseEntry, CaseMediator

JOB = "rule_of_law.overdue"
SOON = timedelta(seconds=60)
IDLE = timedelta(days=1)  # a district with nothing coming due is still looked at daily


def overdue_from(due_on: date) -> datetime:
    """The first moment a case whose last day is ``due_on`` is overdue: the district's next midnight."""
    return datetime.combine(due_on + timedelta(days=1), time(), ZONE).astimezone(UTC)


async def next_overdue(session: AsyncSession) -> datetime | None:
    """When the earliest open, unflagged case falls overdue (None: no such case)."""
    first = await session.scalar(
        select(func.min(Case.due_on)).where(Case.state.in_([s.value for s in OPEN]), Case.overdue_at.is_(None))
    )
    return None if first is None else overdue_from(first)


def wake_for(session: AsyncSession, case: Case) -> None:
    """A case open with a last day, not yet flagged: its moment wakes the sweep once this commits."""
    if case.due_on is not None and case.overdue_at is None and case.state in {s.value for s in OPEN}:
        slots.wake_after_commit(session, JOB, overdue_from(case.due_on))


async def flag_overdue(session: AsyncSession, now: datetime | None = None) -> list[int]:
    """Flag open cases whose last day has passed; returns the ids this call flagged."""
    now = now or utcnow()
    today = local_day(now)
    stmt = (
        update(Case)
        .where(
            Case.state.in_([s.value for s in OPEN]),
            Case.due_on < today,
            Case.overdue_at.is_(None),
        )
        .values(overdue_at=now)
        .returning(Case.id)
        .execution_options(synchronize_session=False)
    )
    ids = list((await session.execute(stmt)).scalars())
    for case_id in ids:
        session.add(CaseEntry(case_id=case_id, kind="overdue", at=now, data={"on": today.isoformat()}))
    await session.flush()
    return ids


async def job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The periodic job (``core.services.jobs``): flag, tell each flagged case's mediators, then
    wait for the next case to fall due. ``payload["now"]`` (ISO) stands in for the clock."""
    now = datetime.fromisoformat(payload["now"]) if payload.get("now") else utcnow()
    await slots.hold(ctx.session, ctx.tenant_id, JOB)
    ids = await flag_overdue(ctx.session, now)
    if ids:
        rows = await ctx.session.execute(
            select(CaseMediator.user_id, Case.id, Case.number)
            .join(Case, Case.id == CaseMediator.case_id)
            .where(Case.id.in_(ids))
        )
        for user_id, case_id, number in rows.all():
            await notify(
                ctx,
                ctx.session,
                Notification(
                    tenant_id=ctx.tenant_id,
                    user_id=user_id,
                    title=f"调解案件 {number} 已超过调解期限 / Case {number} is past its mediation period",
                    link=f"/rule-of-law/cases/{case_id}",
                ),
            )
    at = await slots.settle(
        ctx.session, ctx.tenant_id, JOB, await next_overdue(ctx.session), now=now, soon=SOON, idle=IDLE
    )
    return {"flagged": len(ids), "next_run_at": at.isoformat()}
