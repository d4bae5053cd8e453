"""三项清单: needs and resources matched by a project in every state, then open needs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from plugins.party_leadership.demo.common import DONE, PROJECTS, Demo, at, workday
from plugins.party_leadership.demo.texts import NEEDS, RESOURCES
from plugins.party_leadership.models import Need, Project, ProjectUpdate, Resource, Unit


async def add_lists(session: AsyncSession, d: Demo) -> None:
    """三项清单: matched needs and resources with a project in every state, then open needs."""
    rng, today = d.rng, d.today
    needs, resources, updates = [], [], []
    states = (["done"] * DONE + ["in_progress"] * 13 + ["claimed"] * 9 + ["listed"] * 9 + ["cancelled"] * 2)[:PROJECTS]
    for i, state in enumerate(states):
        node = d.communities[i % len(d.communities)]
        title, text = NEEDS[i % len(NEEDS)]
        created = at(workday(rng, today - timedelta(days=300), today - timedelta(days=20)), 10, 30)
        need = Need(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            title=title,
            description=text,
            source=rng.choice(("staff", "resident", "resident")),
            status="matched",
            created_at=created,
        )
        kind, offer = RESOURCES[i % len(RESOURCES)]
        here = d.units_at.get(node.path) or d.units
        unit = rng.choice(here)
        resource = Resource(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            unit_id=unit.id,
            kind=kind,
            title=f"{unit.name}：{offer}",
            created_at=created,
        )
        project = Project(
            id=new_id(),
            node_id=node.id,
            node_path=node.path,
            title=title,
            description=text,
            need_id=need.id,
            resource_id=resource.id,
            state=state,
            created_at=created,
        )
        steps = _walk_project(d, project, unit, title)
        for n, action in enumerate(steps):
            updates.append(
                ProjectUpdate(
                    project_id=project.id,
                    action=action,
                    created_at=created + timedelta(days=3 * n),
                    progress=project.progress if action == "progress" else None,
                    note=project.summary if action == "complete" else "",
                )
            )
        needs.append(need)
        resources.append(resource)
        d.projects.append(project)
    for i in range(20):  # open needs and spare resources still waiting to be matched
        node = d.communities[(i * 3) % len(d.communities)]
        title, text = NEEDS[(i + 5) % len(NEEDS)]
        needs.append(
            Need(
                id=new_id(),
                node_id=node.id,
                node_path=node.path,
                title=title,
                description=text,
                source="resident",
                status="open",
                created_at=at(workday(rng, today - timedelta(days=40), today), 15),
            )
        )
    session.add_all(needs)
    session.add_all(resources)
    await session.flush()
    session.add_all(d.projects)
    await session.flush()
    session.add_all(updates)


def _walk_project(d: Demo, project: Project, unit: Unit, title: str) -> list[str]:
    """Fill in what reaching its state leaves on the project; returns the actions, in order."""
    rng, state, created = d.rng, project.state, project.created_at
    steps = ["create"]
    if state in ("claimed", "in_progress", "done"):
        people = d.by_community.get(project.node_path) or []
        if people and rng.random() < 0.3:
            project.member_id = rng.choice(people).id
        else:
            project.unit_id = unit.id
        project.claimed_at = created + timedelta(days=3)
        steps.append("claim")
    if state in ("in_progress", "done"):
        steps += ["start", "progress"]
        project.progress = 100 if state == "done" else rng.choice((20, 40, 60, 80))
    if state == "done":
        project.done_at = created + timedelta(days=rng.randint(20, 60))
        project.summary = f"{title}已完成，居民满意度调查满意率 9{rng.randint(0, 9)}%。"
        steps.append("complete")
    if state == "cancelled":
        steps.append("cancel")
    return steps
