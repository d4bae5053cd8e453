"""The 双报到 overview and headline figures: per community — units and members reported, hours
served this year, members at the hours target — and for any subtree (widget, node page, 我的).

One grouped query for the per-community table however many members there are (the bench
measures it at the seed's size and at 100×).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services.activities.models import Activity, ActivitySignup
from plugins.party_leadership import captains, lists, rules
from plugins.party_leadership.models import Member, ServiceRecord, Unit
from plugins.party_leadership.rules import ProjectState
from plugins.party_leadership.settings import NAME


@dataclass(frozen=True)
class CommunityRow:
    node_id: int
    name: str
    path: str
    units: int
    members: int
    minutes: int
    at_target: int

    @property
    def hours(self) -> Decimal:
        return rules.hours(self.minutes)


def _served_per_member(year: int, prefixes: list[str]) -> object:
    start, end = rules.year_bounds(year)
    from_activities = (
        select(Member.id.label("member_id"), ActivitySignup.minutes.label("minutes"))
        .join(ActivitySignup, ActivitySignup.user_id == Member.user_id)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(
            in_scope(Member.node_path, prefixes),
            ActivitySignup.minutes.is_not(None),
            Activity.source == NAME,
            Activity.starts_at >= start,
            Activity.starts_at < end,
        )
    )
    from_staff = (
        select(ServiceRecord.member_id.label("member_id"), ServiceRecord.minutes.label("minutes"))
        .join(Member, Member.id == ServiceRecord.member_id)
        .where(
            in_scope(Member.node_path, prefixes),
            ServiceRecord.served_on >= date(year, 1, 1),
            ServiceRecord.served_on < date(year + 1, 1, 1),
        )
    )
    lines = union_all(from_activities, from_staff).subquery("lines")
    return (
        select(lines.c.member_id, func.sum(lines.c.minutes).label("total"))
        .group_by(lines.c.member_id)
        .subquery("served")
    )


async def overview(session: AsyncSession, prefixes: list[str], year: int, target_hours: float) -> list[CommunityRow]:
    """Per community in scope: units, members, minutes served in ``year``, members at the target."""
    served = _served_per_member(year, prefixes)
    target_minutes = int(Decimal(str(target_hours)) * 60)
    per_member = (
        select(
            Member.node_path.label("path"),
            func.count(Member.id).label("members"),
            func.coalesce(func.sum(served.c.total), 0).label("minutes"),
            func.sum(case((served.c.total >= target_minutes, 1), else_=0)).label("at_target"),
        )
        .outerjoin(served, served.c.member_id == Member.id)
        .where(in_scope(Member.node_path, prefixes))
        .group_by(Member.node_path)
    )
    members = {row.path: row for row in await session.execute(per_member)}
    unit_counts = dict(
        (
            await session.execute(
                select(Unit.node_path, func.count()).where(in_scope(Unit.node_path, prefixes)).group_by(Unit.node_path)
            )
        ).all()
    )
    nodes = (
        await session.execute(
            select(GridNode.id, GridNode.name, GridNode.path)
            .where(in_scope(GridNode.path, prefixes), GridNode.kind.in_(("community", "village")))
            .order_by(GridNode.path)
        )
    ).all()
    out = []
    for node_id, name, path in nodes:
        m = members.get(path)
        units = int(unit_counts.get(path, 0))
        if m is None and not units:
            continue
        out.append(
            CommunityRow(
                node_id,
                name,
                path,
                units,
                int(m.members) if m else 0,
                int(m.minutes) if m else 0,
                int(m.at_target or 0) if m else 0,
            )
        )
    return out


@dataclass(frozen=True)
class Headline:
    units: int
    members: int
    minutes: int
    projects_open: int
    projects_done: int
    with_captain: int
    without_captain: int

    @property
    def hours(self) -> Decimal:
        return rules.hours(self.minutes)


async def headline(session: AsyncSession, prefixes: list[str], year: int) -> Headline:
    """The few numbers the dashboard widget and a node's page show."""
    units = int(
        await session.scalar(select(func.count()).select_from(Unit).where(in_scope(Unit.node_path, prefixes))) or 0
    )
    members = int(
        await session.scalar(select(func.count()).select_from(Member).where(in_scope(Member.node_path, prefixes))) or 0
    )
    served = _served_per_member(year, prefixes)
    minutes = int(await session.scalar(select(func.coalesce(func.sum(served.c.total), literal(0)))) or 0)
    projects = await lists.project_counts(session, prefixes)
    done = projects.get(ProjectState.DONE, 0)
    open_ = sum(projects.get(s, 0) for s in rules.OPEN_PROJECT_STATES)
    with_captain, without = await captains.counts(session, prefixes)
    return Headline(units, members, minutes, open_, done, with_captain, without)
