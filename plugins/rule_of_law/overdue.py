"""The overdue flag: open cases past their mediation period are flagged once, by a periodic job.

The flag is one conditional UPDATE (``overdue_at IS NULL``), so two processes running the job at the
same moment flag each case once between them; each flagged case gets one entry in its file and its
mediators one notification.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.pluginhost.manifest import Notification
from core.services.notifications.service import notify
from plugins.rule_of_law.common import local_day, utcnow
from plugins.rule_of_law.mediation import OPEN
from plugins.rule_of_law.models import Case, CaseEntry, CaseMediator

JOB = "rule_of_law.overdue"


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
    """The periodic job (``core.services.jobs``): flag, then tell each flagged case's mediators."""
    ids = await flag_overdue(ctx.session)
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
    return {"flagged": len(ids)}
