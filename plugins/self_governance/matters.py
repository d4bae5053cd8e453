"""Matters (议题): raise one, move it through its procedure with a record at each step, publish
decisions and results on the notice board (core.services.notices)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services import notices
from core.services._common import actor_user_id, announce, now
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.self_governance import procedures as p
from plugins.self_governance.models import Matter, MatterRecord

SOURCES = ("staff", "resident", "event")
NOTICE_DAYS = 15  # how long a published decision stays on the board before it moves to the archive


def position(matter: Matter) -> p.Position:
    return p.Position(matter.procedure, matter.step, matter.status)


async def raise_matter(
    session: AsyncSession,
    *,
    title: str,
    description: str,
    node: GridNode,
    procedure: str = p.THREE_PARTY,
    source: str = "staff",
    source_ref: str | None = None,
    by_name: str = "",
) -> Matter:
    title, description = title.strip(), description.strip()
    if not title or len(title) > 200:
        raise InvalidInput(lazy("A matter needs a title of at most 200 characters."), field="title")
    if len(description) > 4000:
        raise InvalidInput(lazy("Describe the matter in at most 4000 characters."), field="description")
    if procedure not in p.PROCEDURES:
        raise InvalidInput(lazy("Choose 三方联动 or 四议两公开 as the procedure."), field="procedure")
    if node.kind not in ("community", "estate", "grid", "building"):
        raise InvalidInput(lazy("Raise a matter for a community or an estate."), field="node")
    matter = Matter(
        title=title,
        description=description,
        node_id=node.id,
        node_path=node.path,
        procedure=procedure,
        source=source if source in SOURCES else "staff",
        source_ref=source_ref,
        raised_by=actor_user_id(session),
    )
    session.add(matter)
    await session.flush()
    session.add(
        MatterRecord(
            matter_id=matter.id, step=0, step_key="raised", action="raise", by_user_id=matter.raised_by, by_name=by_name
        )
    )
    await session.flush()
    await announce(session, "self_governance.matter.raised", {"matter_id": matter.id, "node_path": node.path})
    return matter


async def get(session: AsyncSession, matter_id: int) -> Matter:
    found = (await session.execute(select(Matter).where(Matter.id == matter_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no matter %(id)s."), id=matter_id)
    return found


async def history(session: AsyncSession, matter_id: int) -> list[MatterRecord]:
    stmt = select(MatterRecord).where(MatterRecord.matter_id == matter_id).order_by(MatterRecord.at, MatterRecord.id)
    return list((await session.execute(stmt)).scalars())


async def act(
    session: AsyncSession,
    matter: Matter,
    move: str,
    *,
    node: GridNode,
    note: str = "",
    progress: int | None = None,
    photos: list[int] | None = None,
    by_name: str = "",
) -> MatterRecord:
    """Apply ``move`` (the caller has checked ``procedures.needed_action``); record who, what, why.
    A publishing step puts the decision or result on ``node``'s notice board."""
    try:
        moved = p.apply(position(matter), move, note=note, progress=progress)
    except p.TransitionError as e:
        raise Conflict(e.message) from None
    data: dict[str, Any] = {}
    if progress is not None:
        data["progress"] = progress
        matter.progress = progress
    if photos:
        data["photos"] = list(photos)
    if moved.publishes:
        notice = await notices.publish(
            session,
            title=f"{matter.title}（{moved.acted.title_zh}）",
            body=note.strip() or matter.description,
            node=node,
            starts_at=now(),
            ends_at=now() + timedelta(days=NOTICE_DAYS),
            kind="self_governance.matter",
            source="self_governance",
            subject=("self_governance.matter", str(matter.id)),
        )
        data["notice_id"] = notice.id
    entry = MatterRecord(
        matter_id=matter.id,
        step=matter.step,
        step_key=moved.acted.key,
        action=move,
        by_user_id=actor_user_id(session),
        by_name=by_name,
        note=note.strip()[:4000],
        data=data,
    )
    matter.step, matter.status = moved.position.step, moved.position.status
    if matter.status == p.DONE:
        matter.progress = 100
    matter.updated_at = now()
    session.add(entry)
    await session.flush()
    record(session, f"self_governance.matter.{move}", "sg_matters", matter.id, {"step": moved.acted.key})
    await announce(
        session,
        f"self_governance.matter.{move}",
        {"matter_id": matter.id, "node_path": matter.node_path, "step": matter.step, "status": matter.status},
    )
    return entry


@dataclass(frozen=True)
class StageCount:
    key: str
    title_zh: str
    title_en: str
    count: int


async def open_by_stage(session: AsyncSession, prefixes: list[str]) -> list[StageCount]:
    """Open matters by the step they wait at, across both procedures (in procedure order)."""
    rows = await session.execute(
        select(Matter.procedure, Matter.step, func.count())
        .where(in_scope(Matter.node_path, prefixes), Matter.status == p.OPEN)
        .group_by(Matter.procedure, Matter.step)
    )
    counts: Counter[str] = Counter()
    for procedure, step, n in rows:
        steps = p.PROCEDURES.get(procedure)
        if steps:
            counts[steps[min(step, len(steps) - 1)].key] += int(n)
    seen: dict[str, StageCount] = {}
    for steps in p.PROCEDURES.values():
        for s in steps:
            if s.key in counts and s.key not in seen:
                seen[s.key] = StageCount(s.key, s.title_zh, s.title_en, counts[s.key])
    return list(seen.values())


async def count_open(session: AsyncSession, path: str) -> int:
    return int(
        await session.scalar(
            select(func.count(Matter.id)).where(in_scope(Matter.node_path, [path]), Matter.status == p.OPEN)
        )
        or 0
    )
