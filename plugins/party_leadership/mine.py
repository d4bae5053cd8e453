"""What a member does on their phone, shared by the pages (routes/me.py) and the JSON API
(routes/api.py): report in, claim a post, sign up for an activity, claim a project or a building,
and read their hours and 评议 standing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services import activities
from core.services.activities.models import Activity
from core.services.errors import Conflict, NotFound, lazy
from plugins.party_leadership import captains, lists, members, rules
from plugins.party_leadership.models import Member, Project, Review, Unit
from plugins.party_leadership.rules import ProjectState
from plugins.party_leadership.settings import Settings


async def community_choices(session: AsyncSession) -> list[GridNode]:
    stmt = select(GridNode).where(GridNode.kind.in_(members.COMMUNITY_KINDS)).order_by(GridNode.path).limit(1000)
    return list((await session.execute(stmt)).scalars())


async def unit_choices(session: AsyncSession, node_path: str | None = None) -> list[Unit]:
    stmt = select(Unit).order_by(Unit.name)
    if node_path:
        stmt = stmt.where(Unit.node_path == node_path)
    return list((await session.execute(stmt.limit(1000))).scalars())


async def report_in(
    session: AsyncSession, user_id: int, *, node_id: int | None, name: str, unit_id: int | None, branch: str, on: date
) -> Member:
    if node_id is None:
        from core.services.errors import InvalidInput

        raise InvalidInput(lazy("Choose a community."), field="node_id")
    node = await members.community(session, node_id)
    from core.services.accounts import linked_resident

    resident = await linked_resident(session, user_id)
    return await members.report_in(
        session, node, name=name, on=on, user_id=user_id, unit_id=unit_id, branch=branch,
        resident_id=resident.id if resident else None,
    )  # fmt: skip


async def require_member(session: AsyncSession, user_id: int) -> Member:
    member = await members.member_of_user(session, user_id)
    if member is None:
        raise Conflict(lazy("Report to a community first."))
    return member


async def sign_up(session: AsyncSession, member: Member, activity_id: int) -> Any:
    act = await activities.get(session, activity_id)
    if act.source != members.NAME or act.node_path != member.node_path:
        raise NotFound(lazy("There is no such activity in your community."))
    return await activities.sign_up(session, act.id, member.user_id)  # type: ignore[arg-type]


async def claim_project(session: AsyncSession, member: Member, project_id: int) -> Project:
    project = await lists.get_project(session, project_id)
    if project.node_path != member.node_path:
        raise NotFound(lazy("There is no such project in your community."))
    return await lists.step(session, project, "claim", member=member)


async def open_projects(session: AsyncSession, member: Member) -> list[Project]:
    stmt = select(Project).where(Project.node_path == member.node_path, Project.state == ProjectState.LISTED)
    return list((await session.execute(stmt.order_by(Project.created_at.desc()).limit(50))).scalars())


async def my_projects(session: AsyncSession, member: Member) -> list[Project]:
    stmt = select(Project).where(Project.member_id == member.id).order_by(Project.created_at.desc()).limit(50)
    return list((await session.execute(stmt)).scalars())


async def upcoming(session: AsyncSession, member: Member, now: datetime) -> list[tuple[Activity, Any]]:
    """The community's party activities not yet over, with the member's sign-up (or None)."""
    acts = await members.activities_at(session, member.node_path, since=now)
    mine = {a.id: s for a, s in await activities.my_activities(session, member.user_id or 0)} if member.user_id else {}
    return [(a, mine.get(a.id)) for a in acts]


@dataclass(frozen=True)
class Standing:
    """The member's 评议 standing: the recorded result if the year was reviewed, else a preview."""

    year: int
    minutes: int
    target_hours: float
    score: Any
    grade: str
    passed: bool
    hours_met: bool
    reviewed: bool

    @property
    def hours(self) -> Any:
        return rules.hours(self.minutes)


async def standing(session: AsyncSession, member: Member, year: int, settings: Settings) -> Standing:
    card = await members.service_card(session, member, year)
    recorded = (
        await session.execute(
            select(Review).where(Review.year == year, Review.subject == "member", Review.subject_id == member.id)
        )
    ).scalar_one_or_none()
    if recorded is not None:
        return Standing(
            year, recorded.minutes, settings.annual_hours_target, recorded.score, recorded.grade, recorded.passed,
            recorded.hours_met, True,
        )  # fmt: skip
    posts = len(await members.posts_of(session, member.id))
    result = rules.score_member(card.minutes, posts, member.reported_on.year <= year, 0, rules.Scoring.of(settings))
    return Standing(
        year, card.minutes, settings.annual_hours_target, result.score, result.grade, result.passed, result.hours_met,
        False,
    )  # fmt: skip


async def free_buildings(session: AsyncSession, member: Member, limit: int = 50) -> list[Any]:
    rows, _total = await captains.buildings(session, [member.node_path], without_captain=True, limit=limit)
    return rows
