"""居民会议, 居民代表会议 and 民主议事 meetings: notice, who should attend (应到) from the register,
attendance (实到) by roll or the resident's own check-in, quorum, motions, minutes, and the
decisions on the notice board. Quorum and majority: 城市居民委员会组织法 第十条 through the
tenant's settings and core's ``majority_present`` ballot rule (encoded once, in core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.basedata import Residence, Resident
from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services import notices
from core.services._common import actor_user_id, announce, aware, now
from core.services.ballots.rules import Counts, OptionCount, majority_present
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.self_governance.models import Attendee, Meeting, Motion
from plugins.self_governance.settings import Settings, quorate

KINDS: dict[str, tuple[str, str]] = {
    "residents_meeting": ("居民会议", "Residents' meeting"),
    "representatives_meeting": ("居民代表会议", "Residents' representatives' meeting"),
    "deliberation": ("民主议事会", "Deliberation meeting"),
}
BASES = ("adults", "households")
SCHEDULED, HELD, CANCELLED = "scheduled", "held", "cancelled"
ADULT_YEARS = 18


def _adult_born_before(on: date) -> date:
    try:
        return on.replace(year=on.year - ADULT_YEARS)
    except ValueError:  # 29 February
        return on.replace(year=on.year - ADULT_YEARS, day=28)


async def expected_people(session: AsyncSession, node: GridNode, basis: str, on: date) -> list[tuple[int, str, str]]:
    """(resident id, name, household path) of those who should attend: adults living under the
    node, or one representative (the 户主) per household."""
    stmt = select(Resident.id, Resident.name, Resident.node_path).where(
        in_scope(Resident.node_path, [node.path]), Resident.status == "active"
    )
    if basis == "households":
        heads = select(Residence.resident_id).where(Residence.relation == "户主", Residence.moved_out.is_(None))
        stmt = stmt.where(Resident.id.in_(heads))
    else:
        stmt = stmt.where((Resident.birth_date.is_(None)) | (Resident.birth_date <= _adult_born_before(on)))
    return [
        (rid, name, path or "")
        for rid, name, path in await session.execute(stmt.order_by(Resident.node_path, Resident.name))
    ]


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    node: GridNode,
    title: str,
    starts_at: datetime,
    place: str = "",
    basis: str = "adults",
    matter_id: int | None = None,
) -> Meeting:
    title = title.strip()
    if kind not in KINDS:
        raise InvalidInput(lazy("Choose the kind of meeting."), field="kind")
    if basis not in BASES:
        raise InvalidInput(lazy("Those who should attend are the adult residents or one per household."), field="basis")
    if not title or len(title) > 200:
        raise InvalidInput(lazy("A meeting needs a title of at most 200 characters."), field="title")
    if aware(starts_at) < now() - timedelta(days=1):
        raise InvalidInput(lazy("A meeting is scheduled for the future."), field="starts_at")
    people = await expected_people(session, node, basis, aware(starts_at).date())
    if not people:
        raise InvalidInput(
            lazy("Nobody on the register lives under this node: there is no one to invite."), field="node"
        )
    meeting = Meeting(
        kind=kind,
        title=title,
        node_id=node.id,
        node_path=node.path,
        basis=basis,
        place=place.strip()[:200],
        starts_at=aware(starts_at),
        matter_id=matter_id,
        created_by=actor_user_id(session),
    )
    session.add(meeting)
    await session.flush()
    rows = [
        {
            "tenant_id": meeting.tenant_id,
            "id": new_id(),
            "meeting_id": meeting.id,
            "resident_id": rid,
            "name": name,
            "household_label": path,
            "present": False,
        }
        for rid, name, path in people
    ]
    for chunk in range(0, len(rows), 1000):
        await session.execute(insert(Attendee), rows[chunk : chunk + 1000])
    notice = await notices.publish(
        session,
        title=f"{KINDS[kind][0]}通知：{title}",
        body=f"时间：{aware(starts_at):%Y-%m-%d %H:%M}\n地点：{meeting.place or '另行通知'}\n应到 {len(rows)} 人。",
        node=node,
        starts_at=now(),
        ends_at=aware(starts_at) + timedelta(days=1),
        kind="self_governance.meeting",
        source="self_governance",
        subject=("self_governance.meeting", str(meeting.id)),
    )
    meeting.notice_id = notice.id
    await session.flush()
    return meeting


async def get(session: AsyncSession, meeting_id: int) -> Meeting:
    found = (await session.execute(select(Meeting).where(Meeting.id == meeting_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no meeting %(id)s."), id=meeting_id)
    return found


@dataclass(frozen=True)
class Attendance:
    expected: int  # 应到
    present: int  # 实到
    quorate: bool
    percent: int  # the tenant's quorum: more than this percentage

    @property
    def share(self) -> str:
        return "—" if not self.expected else f"{100 * self.present / self.expected:.1f}%"


async def attendance(session: AsyncSession, meeting: Meeting, settings: Settings) -> Attendance:
    expected, present = (
        await session.execute(
            select(func.count(Attendee.id), func.coalesce(func.sum(case((Attendee.present, 1), else_=0)), 0)).where(
                Attendee.meeting_id == meeting.id
            )
        )
    ).one()
    pct = settings.meeting_quorum_percent
    return Attendance(int(expected), int(present), quorate(int(present), int(expected), pct), pct)


async def attendees(session: AsyncSession, meeting_id: int, *, limit: int = 500, offset: int = 0) -> list[Attendee]:
    stmt = (
        select(Attendee)
        .where(Attendee.meeting_id == meeting_id)
        .order_by(Attendee.household_label, Attendee.name)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.execute(stmt)).scalars())


def _check_open(meeting: Meeting) -> None:
    if meeting.status != SCHEDULED:
        raise Conflict(lazy("This meeting is over: attendance and motions are closed."))


async def mark(
    session: AsyncSession, meeting: Meeting, resident_id: int, present: bool, method: str = "roll"
) -> Attendee:
    """Tick someone present (or not) on the roll; ``method`` "self" when a resident checks in."""
    _check_open(meeting)
    row = (
        await session.execute(
            select(Attendee).where(Attendee.meeting_id == meeting.id, Attendee.resident_id == resident_id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(lazy("That person is not on this meeting's list."))
    if method == "self" and row.present:
        raise Conflict(lazy("You have already checked in."))
    row.present, row.method, row.checked_at = present, method if present else None, now() if present else None
    await session.flush()
    await announce(session, "self_governance.meeting.attendance", {"meeting_id": meeting.id})
    return row


async def mark_all(session: AsyncSession, meeting: Meeting, present_ids: set[int]) -> None:
    """Take the whole roll at once: those ticked are present, the others not."""
    _check_open(meeting)
    await session.execute(
        update(Attendee)
        .where(Attendee.meeting_id == meeting.id)
        .values(present=False, method=None, checked_at=None)
        .execution_options(synchronize_session=False)
    )
    if present_ids:
        await session.execute(
            update(Attendee)
            .where(Attendee.meeting_id == meeting.id, Attendee.resident_id.in_(list(present_ids)))
            .values(present=True, method="roll", checked_at=now())
            .execution_options(synchronize_session=False)
        )


async def motion(
    session: AsyncSession, meeting: Meeting, settings: Settings, *, title: str, yes: int, no: int, abstain: int
) -> Motion:
    """Record a motion's vote by those present and decide it: valid only with a quorum, carried
    by more than half of those present (abstentions and those who did not raise a hand count
    among those present)."""
    _check_open(meeting)
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput(lazy("A motion needs a title of at most 200 characters."), field="title")
    if min(yes, no, abstain) < 0:
        raise InvalidInput(lazy("Votes are counted from zero up."), field="yes")
    att = await attendance(session, meeting, settings)
    if yes + no + abstain > att.present:
        raise InvalidInput(
            lazy("%(n)s votes, but only %(present)s people are present."),
            field="yes",
            n=yes + no + abstain,
            present=att.present,
        )
    counts = Counts(
        0,
        att.expected,
        0,
        att.present,
        (
            OptionCount(1, "同意", "yes", 0, yes),
            OptionCount(2, "反对", "no", 0, no),
            OptionCount(3, "弃权", "abstain", 0, abstain),
        ),
    )
    outcome = majority_present(counts, {"quorum": f"{settings.meeting_quorum_percent}/100"})
    row = Motion(
        meeting_id=meeting.id,
        title=title,
        yes=yes,
        no=no,
        abstain=abstain,
        present=att.present,
        expected=att.expected,
        valid=outcome.valid,
        passed=bool(outcome.passed),
        reason=outcome.reason,
    )
    session.add(row)
    await session.flush()
    return row


async def motions(session: AsyncSession, meeting_id: int) -> list[Motion]:
    stmt = select(Motion).where(Motion.meeting_id == meeting_id).order_by(Motion.decided_at, Motion.id)
    return list((await session.execute(stmt)).scalars())


async def conclude(session: AsyncSession, meeting: Meeting, settings: Settings, minutes: str) -> Meeting:
    """Keep the minutes, close the meeting and publish its decisions (决议公开)."""
    _check_open(meeting)
    minutes = minutes.strip()
    if not minutes:
        raise InvalidInput(lazy("Write the minutes before closing the meeting."), field="minutes")
    att = await attendance(session, meeting, settings)
    decided = await motions(session, meeting.id)
    meeting.minutes, meeting.status = minutes[:20000], HELD
    lines = [f"应到 {att.expected} 人，实到 {att.present} 人（{att.share}）。"]
    for m in decided:
        verdict = "通过" if m.passed else ("不足法定人数，表决无效" if not m.valid else "未通过")
        lines.append(f"{m.title}：同意 {m.yes}，反对 {m.no}，弃权 {m.abstain}，{verdict}。")
    node = (await session.execute(select(GridNode).where(GridNode.id == meeting.node_id))).scalar_one()
    await notices.publish(
        session,
        title=f"{KINDS[meeting.kind][0]}决议公开：{meeting.title}",
        body="\n".join(lines),
        node=node,
        starts_at=now(),
        ends_at=now() + timedelta(days=15),
        kind="self_governance.meeting_result",
        source="self_governance",
        subject=("self_governance.meeting", str(meeting.id)),
    )
    await session.flush()
    await announce(session, "self_governance.meeting.held", {"meeting_id": meeting.id, "node_path": meeting.node_path})
    return meeting


async def count_held(session: AsyncSession, path: str, since: datetime | None = None) -> int:
    stmt = select(func.count(Meeting.id)).where(in_scope(Meeting.node_path, [path]), Meeting.status == HELD)
    if since is not None:
        stmt = stmt.where(Meeting.starts_at >= since)
    return int(await session.scalar(stmt) or 0)
