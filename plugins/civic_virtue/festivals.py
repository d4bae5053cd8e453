"""邻里节 and community activities: published through ``core.services.activities`` (calendar,
sign-up, check-in, attendance), plus what this pillar keeps about them — the headcount (people
walk in at a 邻里节 without signing up), the co-building units (共建单位) and a summary after
the event. Photos are stored files owned by the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services import activities
from core.services.activities.models import SIGNED_UP, Activity, ActivitySignup
from core.services.errors import InvalidInput, NotFound, lazy
from plugins.civic_virtue.models import ACTIVITY_KINDS, CommunityEvent

PHOTO_OWNER = "civic_virtue.event"
KIND_LABELS = {
    "festival": lazy("Neighbourhood festival"),
    "co_building": lazy("Co-building"),
    "culture": lazy("Culture"),
}


@dataclass(frozen=True)
class EventInput:
    title: str
    kind: str
    node: GridNode
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    description: str = ""
    capacity: int | None = None
    signup_closes_at: datetime | None = None
    units: tuple[str, ...] = ()


def clean_units(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Units typed one per line or separated by 、，, — kept distinct and short."""
    parts = (
        raw
        if isinstance(raw, list | tuple)
        else raw.replace("、", "\n").replace("，", "\n").replace(",", "\n").split("\n")
    )
    return tuple(dict.fromkeys(p.strip()[:100] for p in parts if p.strip()))[:50]


async def publish(session: AsyncSession, data: EventInput) -> CommunityEvent:
    if data.kind not in ACTIVITY_KINDS:
        raise InvalidInput(lazy("Choose the kind of activity."), field="kind")
    activity = await activities.publish(
        session,
        title=data.title,
        node=data.node,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        capacity=data.capacity,
        signup_closes_at=data.signup_closes_at,
        place=data.place,
        description=data.description,
        category=data.kind,
        source="civic_virtue",
    )
    event = CommunityEvent(
        activity_id=activity.id,
        kind=data.kind,
        node_path=data.node.path,
        starts_at=data.starts_at,
        units=list(data.units),
    )
    session.add(event)
    await session.flush()
    return event


async def get(session: AsyncSession, event_id: int) -> tuple[CommunityEvent, Activity]:
    row = (
        await session.execute(
            select(CommunityEvent, Activity)
            .join(Activity, Activity.id == CommunityEvent.activity_id)
            .where(CommunityEvent.id == event_id)
        )
    ).first()
    if row is None:
        raise NotFound(lazy("There is no activity %(id)s."), id=event_id)
    return row[0], row[1]


async def record_after(
    session: AsyncSession, event: CommunityEvent, *, headcount: int, units: tuple[str, ...], summary: str
) -> None:
    """After the event: how many came (at least those checked in), which units, what happened."""
    if not 0 <= headcount <= 100_000:
        raise InvalidInput(lazy("The headcount is between 0 and 100000."), field="headcount")
    attended = await attended_count(session, event.activity_id)
    if headcount < attended:
        raise InvalidInput(
            lazy("The headcount cannot be below the %(n)s people checked in."), field="headcount", n=attended
        )
    event.headcount, event.units, event.summary = headcount, list(units), summary.strip()[:5000]
    await session.flush()


async def attended_count(session: AsyncSession, activity_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.status == SIGNED_UP,
            ActivitySignup.checked_in_at.is_not(None),
        )
    )
    return int(await session.scalar(stmt) or 0)


def participants(event: CommunityEvent, attended: int) -> int:
    """Participants of an event: the headcount recorded after it, never fewer than checked in."""
    return max(event.headcount, attended)


@dataclass(frozen=True)
class AreaFigures:
    events: int
    participants: int
    festivals: int
    units: int


async def figures(
    session: AsyncSession, prefixes: list[str], *, since: datetime | None = None, until: datetime | None = None
) -> AreaFigures:
    """Events, participants (headcounts), 邻里节 and distinct co-building units under ``prefixes``."""
    stmt = select(CommunityEvent.kind, CommunityEvent.headcount, CommunityEvent.units).where(
        in_scope(CommunityEvent.node_path, prefixes)
    )
    if since is not None:
        stmt = stmt.where(CommunityEvent.starts_at >= since)
    if until is not None:
        stmt = stmt.where(CommunityEvent.starts_at < until)
    rows = (await session.execute(stmt)).all()
    units = {u for _k, _h, us in rows for u in (us or [])}
    return AreaFigures(
        len(rows), sum(h for _k, h, _u in rows), sum(1 for k, _h, _u in rows if k == "festival"), len(units)
    )


async def by_community(
    session: AsyncSession, prefixes: list[str], *, since: datetime | None = None
) -> list[tuple[GridNode, int, int]]:
    """(community, events, participants) for each community or village under ``prefixes``."""
    communities = list(
        (
            await session.execute(
                select(GridNode)
                .where(in_scope(GridNode.path, prefixes), GridNode.kind.in_(("community", "village")))
                .order_by(GridNode.path)
            )
        ).scalars()
    )
    stmt = select(CommunityEvent.node_path, CommunityEvent.headcount).where(
        in_scope(CommunityEvent.node_path, prefixes)
    )
    if since is not None:
        stmt = stmt.where(CommunityEvent.starts_at >= since)
    rows = (await session.execute(stmt)).all()
    out = []
    for node in communities:
        mine = [h for p, h in rows if p.startswith(node.path)]
        if mine:
            out.append((node, len(mine), sum(mine)))
    return out
