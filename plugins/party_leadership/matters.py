"""五事联办: a matter is filed as one of the five kinds and routed (rules.MATTER_ROUTE) to the joint
process it needs — a 联席会议 of the nearest committee, a project on the 项目清单, a vote at a joint
meeting, or an urgent consultation called within the tenant's hours — and resolved with its record."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.grids.models import GridNode
from core.services._common import actor_user_id
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.party_leadership import committees, lists, rules
from plugins.party_leadership.members import _clean
from plugins.party_leadership.models import Matter


async def file(
    session: AsyncSession,
    node: GridNode,
    *,
    kind: str,
    title: str,
    description: str = "",
    meeting_at: datetime | None = None,
    urgent_hours: int = 24,
    at: datetime | None = None,
) -> Matter:
    """File a matter and open its joint process at once, in the same transaction."""
    if kind not in rules.MATTER_KINDS:
        raise InvalidInput(lazy("Choose which of the five kinds the matter is."), field="kind")
    title = _clean(title, "title", 200)
    description = _clean(description, "description", 4000, required=False)
    route = rules.route_for(kind)
    now = at or utcnow()
    matter = Matter(
        node_id=node.id,
        node_path=node.path,
        kind=kind,
        title=title,
        description=description,
        route=route,
        created_by=actor_user_id(session),
    )
    if route == "project":
        project = await lists.create_project(session, node, title=title, description=description)
        matter.project_id = project.id
    else:
        committee = await committees.committee_at(session, node.path)
        if committee is None:
            raise Conflict(lazy("There is no joint committee here to take the matter: set one up first."))
        if route == "consultation":
            starts_at = now + timedelta(hours=urgent_hours)
            if meeting_at is not None and meeting_at < starts_at:
                starts_at = meeting_at
        else:
            if meeting_at is None:
                raise InvalidInput(lazy("Say when the joint meeting takes place."), field="meeting_at")
            starts_at = meeting_at
        prefix = {"meeting": "议题", "vote": "表决事项", "consultation": "急事会商"}[route]
        meeting = await committees.call_meeting(
            session,
            committee,
            title=f"{prefix}：{title}",
            agenda=description or title,
            starts_at=starts_at,
            urgent=route == "consultation",
        )
        matter.meeting_id = meeting.id
    session.add(matter)
    await session.flush()
    return matter


async def get(session: AsyncSession, matter_id: int) -> Matter:
    row = (await session.execute(select(Matter).where(Matter.id == matter_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(lazy("There is no such matter."))
    return row


async def resolve(session: AsyncSession, matter: Matter, resolution: str, at: datetime | None = None) -> Matter:
    if matter.status == "resolved":
        raise Conflict(lazy("This matter is resolved already."))
    matter.resolution = _clean(resolution, "resolution", 4000)
    matter.status, matter.resolved_at = "resolved", at or utcnow()
    await session.flush()
    return matter
