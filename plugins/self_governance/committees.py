"""业主委员会: each estate's committee for a term, its members and posts, the party organisation's
vetting of candidates (红色业委会: the party-member share), 备案 within the tenant's filing days of
the election, and 换届 reminders the tenant's months before the term ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services._common import actor_user_id, announce
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.self_governance.models import Committee, CommitteeMember
from plugins.self_governance.settings import Settings

POSTS: dict[str, tuple[str, str]] = {
    "chair": ("主任", "Chair"),
    "vice_chair": ("副主任", "Vice chair"),
    "member": ("委员", "Member"),
}
VETTING = ("pending", "approved", "rejected")
MAX_TERM_YEARS = 5  # 业主大会议事规则 commonly sets 3–5 years; longer is refused as a typo


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (negative: back), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


async def form(
    session: AsyncSession, *, node: GridNode, name: str, elected_on: date, term_start: date, term_end: date
) -> Committee:
    """A new committee for ``node`` (an estate); the previous one stops being current."""
    name = name.strip()
    if node.kind != "estate":
        raise InvalidInput(lazy("An owners' committee belongs to one estate."), field="node")
    if not name or len(name) > 200:
        raise InvalidInput(lazy("Name the committee (at most 200 characters)."), field="name")
    if term_end <= term_start or term_end > add_months(term_start, 12 * MAX_TERM_YEARS):
        raise InvalidInput(lazy("A term ends after it starts and lasts at most five years."), field="term_end")
    if elected_on > term_start:
        raise InvalidInput(lazy("The term starts on or after the election."), field="term_start")
    await session.execute(
        update(Committee)
        .where(Committee.node_id == node.id, Committee.current.is_(True))
        .values(current=False)
        .execution_options(synchronize_session=False)
    )
    committee = Committee(
        name=name, node_id=node.id, node_path=node.path, elected_on=elected_on, term_start=term_start, term_end=term_end
    )
    session.add(committee)
    await session.flush()
    return committee


async def get(session: AsyncSession, committee_id: int) -> Committee:
    found = (await session.execute(select(Committee).where(Committee.id == committee_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no owners' committee %(id)s."), id=committee_id)
    return found


async def add_member(
    session: AsyncSession,
    committee: Committee,
    *,
    name: str,
    post: str = "member",
    party_member: bool = False,
    resident_id: int | None = None,
) -> CommitteeMember:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(lazy("Give the member's name."), field="name")
    if post not in POSTS:
        raise InvalidInput(lazy("Choose the member's post."), field="post")
    if post == "chair":
        has_chair = await session.scalar(
            select(func.count(CommitteeMember.id)).where(
                CommitteeMember.committee_id == committee.id, CommitteeMember.post == "chair"
            )
        )
        if has_chair:
            raise Conflict(lazy("The committee already has a chair."))
    member = CommitteeMember(
        committee_id=committee.id, name=name, post=post, party_member=party_member, resident_id=resident_id
    )
    session.add(member)
    await session.flush()
    return member


async def members(session: AsyncSession, committee_id: int) -> list[CommitteeMember]:
    order = {"chair": 0, "vice_chair": 1, "member": 2}
    rows = (
        await session.execute(select(CommitteeMember).where(CommitteeMember.committee_id == committee_id))
    ).scalars()
    return sorted(rows, key=lambda m: (order.get(m.post, 3), m.name))


async def vet(session: AsyncSession, member: CommitteeMember, approve: bool, note: str = "") -> CommitteeMember:
    """The community party organisation's vetting of a candidate (a rejection gives reasons)."""
    if not approve and not note.strip():
        raise InvalidInput(lazy("Give the reasons for not approving the candidate."), field="note")
    member.vetting = "approved" if approve else "rejected"
    member.vetting_note, member.vetted_by = note.strip()[:300], actor_user_id(session)
    await session.flush()
    return member


async def file(session: AsyncSession, committee: Committee, filed_on: date, filed_with: str) -> Committee:
    """Record the 备案 (filing with the 街道 / housing department)."""
    if filed_on < committee.elected_on:
        raise InvalidInput(lazy("A committee is filed after it is elected."), field="filed_on")
    if not filed_with.strip():
        raise InvalidInput(lazy("Name the office the committee was filed with."), field="filed_with")
    committee.filed_on, committee.filed_with = filed_on, filed_with.strip()[:200]
    await session.flush()
    await announce(session, "self_governance.committee.filed", {"committee_id": committee.id})
    return committee


@dataclass(frozen=True)
class Standing:
    """What a committee's page and the widget show about it on ``today``."""

    members: int
    party_members: int
    pending_vetting: int
    filing_due: date
    filing_overdue: bool
    renewal_from: date
    renewal_due: bool
    expired: bool

    @property
    def party_share(self) -> str:
        return "—" if not self.members else f"{100 * self.party_members / self.members:.0f}%"

    @property
    def red(self) -> bool:
        """红色业委会: most members are party members, every one vetted by the party organisation."""
        return self.members > 0 and self.party_members * 2 > self.members and self.pending_vetting == 0


def standing(committee: Committee, people: list[CommitteeMember], settings: Settings, today: date) -> Standing:
    filing_due = committee.elected_on + timedelta(days=settings.filing_days)
    renewal_from = add_months(committee.term_end, -settings.renewal_months)
    return Standing(
        members=len(people),
        party_members=sum(1 for m in people if m.party_member),
        pending_vetting=sum(1 for m in people if m.vetting == "pending"),
        filing_due=filing_due,
        filing_overdue=committee.filed_on is None and today > filing_due,
        renewal_from=renewal_from,
        renewal_due=today >= renewal_from,
        expired=today > committee.term_end,
    )


async def current(session: AsyncSession, prefixes: list[str]) -> list[Committee]:
    stmt = (
        select(Committee)
        .where(in_scope(Committee.node_path, prefixes), Committee.current.is_(True))
        .order_by(Committee.term_end)
    )
    return list((await session.execute(stmt)).scalars())


async def due_for_renewal(
    session: AsyncSession, prefixes: list[str], settings: Settings, today: date
) -> list[Committee]:
    """Current committees whose term ends within the reminder months (or has ended)."""
    horizon = add_months(today, settings.renewal_months)
    stmt = (
        select(Committee)
        .where(in_scope(Committee.node_path, prefixes), Committee.current.is_(True), Committee.term_end <= horizon)
        .order_by(Committee.term_end)
    )
    return list((await session.execute(stmt)).scalars())


async def of_member_resident(session: AsyncSession, resident_id: int) -> list[Committee]:
    """Current committees ``resident_id`` sits on (they may record the committee's execution)."""
    stmt = (
        select(Committee)
        .join(CommitteeMember, CommitteeMember.committee_id == Committee.id)
        .where(CommitteeMember.resident_id == resident_id, Committee.current.is_(True))
    )
    return list((await session.execute(stmt)).scalars())
