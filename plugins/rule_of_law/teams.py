"""全科网格 teams "1+1+X+Y": form a grid's team, add and remove members, find incomplete teams."""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from plugins.rule_of_law.common import Conflict, InvalidInput, NotFound, clean, lazy
from plugins.rule_of_law.models import Team, TeamMember
from plugins.rule_of_law.rules import POSITIONS, Composition, team_gaps

POSITION_LABELS = {
    "instructor": lazy("Instructor (sub-district leader)"),
    "leader": lazy("Grid head (community cadre)"),
    "part_time": lazy("Part-time member"),
    "other": lazy("Other force"),
}


def composition(settings: dict[str, Any]) -> Composition:
    """The tenant's rule (plugin settings) as a ``Composition``."""
    return Composition(
        instructor=int(settings.get("team_min_instructors", 1)),
        leader=int(settings.get("team_min_leaders", 1)),
        part_time=int(settings.get("team_min_part_time", 2)),
        other=int(settings.get("team_min_other_forces", 1)),
    )


@dataclass
class TeamView:
    team: Team
    node_name: str
    counts: dict[str, int] = field(default_factory=dict)
    gaps: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.gaps


async def create_team(session: AsyncSession, node: GridNode, name: str) -> Team:
    name = clean(name, 100, "name") if name.strip() else f"{node.name}服务团队"
    if (await session.execute(select(Team.id).where(Team.node_id == node.id))).first():
        raise Conflict(lazy("This grid has a team already."))
    team = Team(node_id=node.id, node_path=node.path, name=name)
    session.add(team)
    await session.flush()
    return team


async def get_team(session: AsyncSession, team_id: int) -> Team:
    team = (await session.execute(select(Team).where(Team.id == team_id))).scalar_one_or_none()
    if team is None:
        raise NotFound(lazy("There is no such team."))
    return team


async def add_member(
    session: AsyncSession,
    team: Team,
    *,
    position: str,
    name: str,
    duty: str = "",
    user_id: int | None = None,
    party_member: bool = False,
) -> TeamMember:
    if position not in POSITIONS:
        raise InvalidInput(lazy("Choose the member's position in the team."), field="position")
    member = TeamMember(
        team_id=team.id,
        position=position,
        name=clean(name, 100, "name"),
        duty=clean(duty, 100, "duty", required=False),
        user_id=user_id,
        party_member=party_member,
    )
    session.add(member)
    await session.flush()
    return member


async def remove_member(session: AsyncSession, team: Team, member_id: int) -> None:
    done = await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.id == member_id))
    if not done.rowcount:
        raise NotFound(lazy("There is no such member."))


async def members(session: AsyncSession, team: Team) -> list[TeamMember]:
    stmt = select(TeamMember).where(TeamMember.team_id == team.id).order_by(TeamMember.position, TeamMember.name)
    return list((await session.execute(stmt)).scalars())


async def overview(session: AsyncSession, prefixes: list[str], rule: Composition) -> list[TeamView]:
    """Every team in scope with its counts per position and what it lacks (two queries)."""
    teams = (
        await session.execute(
            select(Team, GridNode.name)
            .join(GridNode, GridNode.id == Team.node_id)
            .where(in_scope(Team.node_path, prefixes))
            .order_by(Team.node_path)
        )
    ).all()
    counts: dict[int, Tally[str]] = {}
    rows = await session.execute(
        select(TeamMember.team_id, TeamMember.position, func.count())
        .join(Team, Team.id == TeamMember.team_id)
        .where(in_scope(Team.node_path, prefixes))
        .group_by(TeamMember.team_id, TeamMember.position)
    )
    for team_id, position, n in rows:
        counts.setdefault(team_id, Tally())[position] = n
    views = []
    for team, node_name in teams:
        c = dict(counts.get(team.id, {}))
        views.append(TeamView(team, node_name, c, team_gaps(c, rule)))
    return views
