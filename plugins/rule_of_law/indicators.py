"""The pillar's headline figures for a part of the grid: disputes screened, cases open and closed,
success rate, average days to close, overdue cases, incomplete teams. A few aggregate queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.rbac.scope import in_scope
from plugins.rule_of_law import teams
from plugins.rule_of_law.mediation import OPEN, SUCCEEDED, State
from plugins.rule_of_law.models import Case, Dispute


@dataclass(frozen=True)
class Figures:
    disputes: int
    cases_open: int
    cases_closed: int
    success_rate: float | None  # agreements among cases that were mediated to an end, in %
    average_days: float | None
    overdue: int
    teams: int
    teams_incomplete: int


async def figures(session: AsyncSession, prefixes: list[str], settings: dict[str, Any]) -> Figures:
    disputes = await session.scalar(select(func.count(Dispute.id)).where(in_scope(Dispute.node_path, prefixes)))
    open_states = [s.value for s in OPEN]
    won = [s.value for s in SUCCEEDED]
    row = (
        await session.execute(
            select(
                func.count(when((Case.state.in_(open_states), 1))),
                func.count(when((Case.state.not_in(open_states), 1))),
                func.count(when((Case.state.in_(won), 1))),
                func.count(when((Case.state == State.TERMINATED.value, 1))),
                func.avg(Case.days_to_close),
                func.count(when((Case.state.in_(open_states) & Case.overdue_at.is_not(None), 1))),
            ).where(in_scope(Case.node_path, prefixes))
        )
    ).one()
    opened, closed, agreed, terminated, avg_days, overdue = row
    mediated = int(agreed) + int(terminated)
    views = await teams.overview(session, prefixes, teams.composition(settings))
    return Figures(
        disputes=int(disputes or 0),
        cases_open=int(opened),
        cases_closed=int(closed),
        success_rate=round(100.0 * int(agreed) / mediated, 1) if mediated else None,
        average_days=round(float(avg_days), 1) if avg_days is not None else None,
        overdue=int(overdue),
        teams=len(views),
        teams_incomplete=sum(1 for v in views if not v.complete),
    )
