"""三项清单: needs (需求清单), resources (资源清单) and projects (项目清单). Staff match a need with a
resource into a project; a unit or member claims it (认领), reports progress with photos and
completes it with a summary. The lists go on the community's notice board (core.services.notices).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services import notices
from core.services._common import actor_user_id, announce
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.party_leadership import rules
from plugins.party_leadership.members import _clean
from plugins.party_leadership.models import Member, Need, Project, ProjectUpdate, Resource, Unit
from plugins.party_leadership.rules import IllegalTransition, ProjectState
from plugins.party_leadership.settings import NAME


async def add_need(
    session: AsyncSession,
    node: GridNode,
    *,
    title: str,
    description: str = "",
    source: str = "staff",
    source_ref: str | None = None,
) -> Need:
    if source not in rules.NEED_SOURCES:
        raise InvalidInput(lazy("Unknown source of a need."), field="source")
    if source_ref is not None:
        existing = (await session.execute(select(Need).where(Need.source_ref == source_ref))).scalar_one_or_none()
        if existing is not None:
            return existing  # the same event turned into a need twice is one need
    need = Need(
        node_id=node.id,
        node_path=node.path,
        title=_clean(title, "title", 200),
        description=_clean(description, "description", 4000, required=False),
        source=source,
        source_ref=source_ref,
        created_by=actor_user_id(session),
    )
    session.add(need)
    await session.flush()
    return need


async def add_resource(
    session: AsyncSession, node: GridNode, *, kind: str, title: str, description: str = "", unit_id: int | None = None
) -> Resource:
    if kind not in rules.RESOURCE_KINDS:
        raise InvalidInput(lazy("Choose what kind of resource it is."), field="kind")
    if unit_id is not None:
        unit = (await session.execute(select(Unit).where(Unit.id == unit_id))).scalar_one_or_none()
        if unit is None:
            raise InvalidInput(lazy("Choose a unit of this community."), field="unit_id")
    resource = Resource(
        node_id=node.id,
        node_path=node.path,
        unit_id=unit_id,
        kind=kind,
        title=_clean(title, "title", 200),
        description=_clean(description, "description", 4000, required=False),
    )
    session.add(resource)
    await session.flush()
    return resource


async def _one(session: AsyncSession, model: Any, row_id: int | None) -> Any:
    if row_id is None:
        return None
    return (await session.execute(select(model).where(model.id == row_id))).scalar_one_or_none()


async def create_project(
    session: AsyncSession,
    node: GridNode,
    *,
    title: str,
    description: str = "",
    need_id: int | None = None,
    resource_id: int | None = None,
) -> Project:
    """Match a need (and optionally a resource) of the same community into a project on the list."""
    need = await _one(session, Need, need_id)
    if need_id is not None and (need is None or need.node_path != node.path):
        raise InvalidInput(lazy("Choose a need of this community."), field="need_id")
    if need is not None and need.status != "open":
        raise Conflict(lazy("This need has been matched already."))
    resource = await _one(session, Resource, resource_id)
    if resource_id is not None and (resource is None or resource.node_path != node.path or not resource.active):
        raise InvalidInput(lazy("Choose a resource of this community."), field="resource_id")
    project = Project(
        node_id=node.id,
        node_path=node.path,
        title=_clean(title or (need.title if need else ""), "title", 200),
        description=_clean(description, "description", 4000, required=False),
        need_id=need_id,
        resource_id=resource_id,
        state=ProjectState.LISTED,
    )
    session.add(project)
    if need is not None:
        need.status = "matched"
    await session.flush()
    session.add(ProjectUpdate(project_id=project.id, action="create", by_user_id=actor_user_id(session)))
    await session.flush()
    return project


async def get_project(session: AsyncSession, project_id: int) -> Project:
    project = await _one(session, Project, project_id)
    if project is None:
        raise NotFound(lazy("There is no such project."))
    return project


async def step(
    session: AsyncSession,
    project: Project,
    action: str,
    *,
    note: str = "",
    progress: int | None = None,
    summary: str = "",
    unit_id: int | None = None,
    member: Member | None = None,
    photo_file_id: int | None = None,
    at: datetime | None = None,
) -> Project:
    """Move a project one step (rules.PROJECT_TRANSITIONS) and write the line of its record."""
    try:
        target = rules.next_project_state(project.state, action, progress=progress, summary=summary)
    except IllegalTransition:
        if action == "complete" and project.state == ProjectState.IN_PROGRESS:
            raise InvalidInput(lazy("Say what was done before completing the project."), field="summary") from None
        if action == "progress" and project.state == ProjectState.IN_PROGRESS:
            raise InvalidInput(lazy("Progress is a percentage from 0 to 100."), field="progress") from None
        raise Conflict(lazy("The project cannot take this step now.")) from None
    moment = at or utcnow()
    if action == "claim":
        if (unit_id is None) == (member is None):
            raise InvalidInput(lazy("A project is claimed by one unit or one member."), field="unit_id")
        if unit_id is not None:
            unit = await _one(session, Unit, unit_id)
            if unit is None or unit.node_path != project.node_path:
                raise InvalidInput(lazy("Choose a unit of this community."), field="unit_id")
        if member is not None and member.node_path != project.node_path:
            raise NotFound(lazy("There is no such project in your community."))
        project.unit_id, project.member_id = unit_id, member.id if member else None
        project.claimed_at = moment
    elif action == "release":
        project.unit_id = project.member_id = project.claimed_at = None
    elif action == "progress":
        project.progress = progress or 0
    elif action == "complete":
        project.progress, project.summary, project.done_at = 100, summary.strip(), moment
    project.state = target
    session.add(
        ProjectUpdate(
            project_id=project.id,
            action=action,
            note=_clean(note or summary, "note", 4000, required=False),
            progress=progress if action == "progress" else None,
            photo_file_id=photo_file_id,
            by_user_id=actor_user_id(session),
            created_at=moment,
        )
    )
    await session.flush()
    await announce(
        session,
        f"{NAME}.project.{action}",
        {"project_id": project.id, "state": str(target), "node_path": project.node_path, "source": NAME},
    )
    return project


async def history(session: AsyncSession, project_id: int) -> list[ProjectUpdate]:
    stmt = select(ProjectUpdate).where(ProjectUpdate.project_id == project_id).order_by(ProjectUpdate.created_at)
    return list((await session.execute(stmt)).scalars())


async def project_counts(session: AsyncSession, prefixes: list[str]) -> dict[str, int]:
    stmt = select(Project.state, func.count()).where(in_scope(Project.node_path, prefixes)).group_by(Project.state)
    return {state: int(n) for state, n in await session.execute(stmt)}


async def publish_lists(session: AsyncSession, node: GridNode, *, days: int = 14, at: datetime | None = None) -> Any:
    """Put the community's three lists on its notice board (公开栏) for ``days``."""
    start = at or utcnow()
    needs = (await session.execute(select(Need).where(Need.node_path == node.path, Need.status == "open"))).scalars()
    resources = (
        await session.execute(select(Resource).where(Resource.node_path == node.path, Resource.active.is_(True)))
    ).scalars()
    projects = (
        await session.execute(
            select(Project).where(Project.node_path == node.path, Project.state != ProjectState.CANCELLED)
        )
    ).scalars()
    lines = ["【需求清单】"]
    lines += [f"· {n.title}" for n in needs] or ["（暂无）"]
    lines.append("【资源清单】")
    lines += [f"· {r.title}" for r in resources] or ["（暂无）"]
    lines.append("【项目清单】")
    labels = {"listed": "待认领", "claimed": "已认领", "in_progress": "实施中", "done": "已完成"}
    lines += [f"· {p.title}（{labels.get(p.state, p.state)}）" for p in projects] or ["（暂无）"]
    if len(lines) == 6 and all(line == "（暂无）" for line in lines[1::2]):
        raise Conflict(lazy("The lists are empty: there is nothing to publish."))
    return await notices.publish(
        session,
        title=f"{node.name}三项清单公示",
        body="\n".join(lines),
        node=node,
        starts_at=start,
        ends_at=start + timedelta(days=days),
        kind="three_lists",
        source=NAME,
        subject=(f"{NAME}.lists", str(node.id)),
    )
