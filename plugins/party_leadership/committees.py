"""街道大工委 / 社区大党委: the committees, their seats with terms (兼职委员 from 驻区单位), the
联席会议 they call (agenda → held with attendance and minutes) and the decisions they take, each
tracked to done."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services._common import actor_user_id, announce, aware
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.party_leadership import rules
from plugins.party_leadership.members import _clean
from plugins.party_leadership.models import Committee, CommitteeMember, Decision, Meeting, Unit
from plugins.party_leadership.settings import NAME

KIND_FOR_NODE = {"subdistrict": "working", "town": "working", "community": "party", "village": "party"}


async def create_committee(session: AsyncSession, node: GridNode, name: str = "") -> Committee:
    kind = KIND_FOR_NODE.get(node.kind)
    if kind is None:
        raise InvalidInput(lazy("A committee sits at a sub-district or a community."), field="node_id")
    if await session.scalar(select(Committee.id).where(Committee.node_id == node.id)) is not None:
        raise Conflict(lazy("This place has its committee already."))
    default = f"{node.name}大工委" if kind == "working" else f"{node.name}大党委"
    committee = Committee(kind=kind, name=_clean(name or default, "name", 200), node_id=node.id, node_path=node.path)
    session.add(committee)
    await session.flush()
    return committee


async def get_committee(session: AsyncSession, committee_id: int) -> Committee:
    row = (await session.execute(select(Committee).where(Committee.id == committee_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(lazy("There is no such committee."))
    return row


async def committee_at(session: AsyncSession, node_path: str) -> Committee | None:
    """The committee of the node or, failing that, of its nearest ancestor."""
    ancestors = [node_path[: i + 1] for i, ch in enumerate(node_path) if ch == "/" and i > 0]
    stmt = select(Committee).where(Committee.node_path.in_(ancestors)).order_by(func.length(Committee.node_path).desc())
    return (await session.execute(stmt.limit(1))).scalars().first()


async def add_member(
    session: AsyncSession,
    committee: Committee,
    *,
    name: str,
    position: str,
    term_start: date,
    term_years: int,
    unit_id: int | None = None,
    term_end: date | None = None,
) -> CommitteeMember:
    if position not in rules.POSITIONS:
        raise InvalidInput(lazy("Choose a position."), field="position")
    if unit_id is not None:
        unit = (await session.execute(select(Unit).where(Unit.id == unit_id))).scalar_one_or_none()
        if unit is None or not unit.node_path.startswith(committee.node_path):
            raise InvalidInput(lazy("Choose a unit within the committee's area."), field="unit_id")
    if position == "part_time" and unit_id is None:
        raise InvalidInput(lazy("A part-time member comes from a unit: choose it."), field="unit_id")
    end = term_end or _add_years(term_start, term_years)
    if end <= term_start:
        raise InvalidInput(lazy("A term ends after it starts."), field="term_end")
    seat = CommitteeMember(
        committee_id=committee.id,
        name=_clean(name, "name", 50),
        position=position,
        unit_id=unit_id,
        term_start=term_start,
        term_end=end,
    )
    session.add(seat)
    await session.flush()
    return seat


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def seats(session: AsyncSession, committee_id: int, *, today: date | None = None) -> list[CommitteeMember]:
    stmt = select(CommitteeMember).where(CommitteeMember.committee_id == committee_id)
    rows = list((await session.execute(stmt.order_by(CommitteeMember.position, CommitteeMember.name))).scalars())
    if today is not None:
        rows = [r for r in rows if rules.term_active(r.term_start, r.term_end, r.left_on, today)]
    return rows


async def call_meeting(
    session: AsyncSession,
    committee: Committee,
    *,
    title: str,
    agenda: str,
    starts_at: datetime,
    place: str = "",
    urgent: bool = False,
    today: date | None = None,
) -> Meeting:
    meeting = Meeting(
        committee_id=committee.id,
        node_path=committee.node_path,
        title=_clean(title, "title", 200),
        agenda=_clean(agenda, "agenda", 8000),
        starts_at=starts_at,
        place=_clean(place, "place", 200, required=False),
        urgent=urgent,
        expected=len(await seats(session, committee.id, today=today or aware(starts_at).date())),
        created_by=actor_user_id(session),
    )
    session.add(meeting)
    await session.flush()
    await announce(
        session, f"{NAME}.meeting.called", {"meeting_id": meeting.id, "node_path": meeting.node_path, "source": NAME}
    )
    return meeting


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting:
    row = (await session.execute(select(Meeting).where(Meeting.id == meeting_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(lazy("There is no such meeting."))
    return row


async def hold(
    session: AsyncSession, meeting: Meeting, *, present_ids: list[int], minutes: str, at: datetime | None = None
) -> Meeting:
    """Record the meeting as held: who of the committee's seats attended (应到/实到) and the minutes."""
    if meeting.status == "held":
        raise Conflict(lazy("The meeting's record has been kept already."))
    valid = {s.id for s in await seats(session, meeting.committee_id)}
    unknown = [i for i in present_ids if i not in valid]
    if unknown:
        raise InvalidInput(lazy("Tick members of this committee only."), field="present")
    meeting.attendance = sorted(set(present_ids))
    meeting.present = len(meeting.attendance)
    meeting.minutes = _clean(minutes, "minutes", 20000)
    meeting.status, meeting.held_at = "held", at or utcnow()
    await session.flush()
    return meeting


async def decide(
    session: AsyncSession,
    meeting: Meeting,
    *,
    text: str,
    owner: str = "",
    due_on: date | None = None,
    votes: tuple[int, int, int] | None = None,
) -> Decision:
    if meeting.status != "held":
        raise Conflict(lazy("Record the meeting as held before its decisions."))
    if votes is not None and (min(votes) < 0 or sum(votes) > max(meeting.present, 0)):
        raise InvalidInput(lazy("The votes cannot exceed the members present."), field="votes_for")
    decision = Decision(
        meeting_id=meeting.id,
        node_path=meeting.node_path,
        text=_clean(text, "text", 4000),
        owner=_clean(owner, "owner", 100, required=False),
        due_on=due_on,
    )
    if votes is not None:
        decision.votes_for, decision.votes_against, decision.votes_abstain = votes
    session.add(decision)
    await session.flush()
    return decision


def carried(decision: Decision) -> bool | None:
    """A voted decision carries with more votes for than against and abstaining together."""
    if decision.votes_for is None:
        return None
    return (decision.votes_for or 0) > (decision.votes_against or 0) + (decision.votes_abstain or 0)


async def complete_decision(session: AsyncSession, decision_id: int, note: str, at: datetime | None = None) -> Decision:
    decision = (await session.execute(select(Decision).where(Decision.id == decision_id))).scalar_one_or_none()
    if decision is None:
        raise NotFound(lazy("There is no such decision."))
    if decision.status == "done":
        raise Conflict(lazy("This decision is done already."))
    decision.status, decision.done_at = "done", at or utcnow()
    decision.done_note = _clean(note, "note", 2000)
    await session.flush()
    return decision


async def decisions_of(session: AsyncSession, meeting_id: int) -> list[Decision]:
    stmt = select(Decision).where(Decision.meeting_id == meeting_id).order_by(Decision.id)
    return list((await session.execute(stmt)).scalars())


async def open_decisions(session: AsyncSession, prefixes: list[str], limit: int = 100) -> list[Decision]:
    stmt = (
        select(Decision)
        .where(in_scope(Decision.node_path, prefixes), Decision.status == "open")
        .order_by(Decision.due_on.is_(None), Decision.due_on, Decision.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def meetings_of(session: AsyncSession, committee_id: int) -> list[Meeting]:
    stmt = select(Meeting).where(Meeting.committee_id == committee_id).order_by(Meeting.starts_at.desc())
    return list((await session.execute(stmt)).scalars())


def decision_summary(rows: list[Any]) -> dict[str, int]:
    return {"open": sum(1 for d in rows if d.status == "open"), "done": sum(1 for d in rows if d.status == "done")}
