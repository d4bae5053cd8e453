"""双报到: units and in-service members register (报到) with a community, claim posts, sign up for
the community's activities; every service lands on the member's 服务记录卡 — activity check-in/out
through ``core.services.activities`` or a line staff type in — and the community sends each
employer a quarterly feedback.

Party membership is sensitive personal information: callers show these rows only to party roles
(``members.view`` in scope), to the member themself, and to the member's employer's contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.models import Role, RoleAssignment
from core.rbac.scope import in_scope
from core.services import activities, documents
from core.services._common import actor_user_id, announce
from core.services.activities.models import Activity, ActivitySignup
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.party_leadership import rules
from plugins.party_leadership.models import Feedback, Member, Post, PostClaim, ServiceRecord, Unit
from plugins.party_leadership.settings import NAME

MEMBER_ROLE = "party_member"  # a tenant role (not a built-in): lets members join party activities
ACTIVITY_RULE = f"role:{MEMBER_ROLE}"
MAX_SERVICE_MINUTES = 24 * 60

COMMUNITY_KINDS = ("community", "village")  # where units and members report

RECEIPT = documents.DocumentTemplate(
    kind="receipt",
    title="在职党员到社区报到回执",
    fields=(("姓名", "{name}"), ("工作单位", "{unit}"), ("报到社区", "{community}"), ("报到日期", "{date}")),
    paragraphs=(
        "{name}同志已于{date}到{community}报到，参加社区组织的志愿服务和党组织活动。",
        "服务情况将记入服务记录卡，按季度向所在单位反馈，年终评议结果供单位考核参考。",
    ),
    closing="特此回执。",
    signatures=("社区党组织（盖章）",),
)
UNIT_RECEIPT = documents.DocumentTemplate(
    kind="receipt",
    title="驻区单位党组织到社区报到回执",
    fields=(("单位", "{unit}"), ("党组织", "{party_org}"), ("报到社区", "{community}"), ("报到日期", "{date}")),
    paragraphs=("{party_org}已于{date}到{community}报到，与社区党组织结对共建。",),
    closing="特此回执。",
    signatures=("社区党组织（盖章）",),
)


def _clean(value: str | None, field: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(lazy("This field is required."), field=field)
    if len(text) > limit:
        raise InvalidInput(lazy("At most %(n)s characters."), field=field, n=limit)
    return text


async def community(session: AsyncSession, node_id: int) -> GridNode:
    """A community (or village) node: where units and members report and posts are kept."""
    node = (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None or node.kind not in COMMUNITY_KINDS:
        raise InvalidInput(lazy("Choose a community."), field="node_id")
    return node


async def ensure_member_role(session: AsyncSession) -> None:
    if (await session.execute(select(Role.id).where(Role.code == MEMBER_ROLE))).first() is None:
        session.add(Role(code=MEMBER_ROLE, name_zh="在职党员", name_en="In-service party member", builtin=False))
        await session.flush()


# ---- units -------------------------------------------------------------------------------------


async def register_unit(
    session: AsyncSession,
    node: GridNode,
    *,
    name: str,
    party_org: str = "",
    contact_name: str = "",
    contact_user_id: int | None = None,
    organisation_id: int | None = None,
    on: date,
) -> Unit:
    name = _clean(name, "name", 200)
    exists = await session.scalar(select(Unit.id).where(Unit.node_id == node.id, Unit.name == name))
    if exists is not None:
        raise Conflict(lazy("%(name)s has already reported to this community."), name=name)
    unit = Unit(
        name=name,
        party_org=_clean(party_org, "party_org", 200, required=False),
        contact_name=_clean(contact_name, "contact_name", 50, required=False),
        contact_user_id=contact_user_id,
        organisation_id=organisation_id,
        node_id=node.id,
        node_path=node.path,
        reported_on=on,
    )
    session.add(unit)
    await session.flush()
    await announce(session, f"{NAME}.unit.reported", {"unit_id": unit.id, "node_path": node.path, "source": NAME})
    return unit


async def get_unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = (await session.execute(select(Unit).where(Unit.id == unit_id))).scalar_one_or_none()
    if unit is None:
        raise NotFound(lazy("There is no such unit."))
    return unit


async def units_in(session: AsyncSession, prefixes: list[str]) -> list[Unit]:
    stmt = select(Unit).where(in_scope(Unit.node_path, prefixes)).order_by(Unit.node_path, Unit.name)
    return list((await session.execute(stmt)).scalars())


# ---- members -----------------------------------------------------------------------------------


async def report_in(
    session: AsyncSession,
    node: GridNode,
    *,
    name: str,
    on: date,
    user_id: int | None = None,
    unit_id: int | None = None,
    resident_id: int | None = None,
    branch: str = "",
) -> Member:
    """An in-service member reports to ``node``'s community (报到). One community per member; with an
    account, the member gets the party_member role there so they may join its party activities."""
    name = _clean(name, "name", 50)
    if user_id is not None:
        mine = await session.scalar(select(Member.id).where(Member.user_id == user_id))
        if mine is not None:
            raise Conflict(lazy("You have already reported to a community."))
    if unit_id is not None:
        await get_unit(session, unit_id)
    member = Member(
        name=name,
        user_id=user_id,
        unit_id=unit_id,
        resident_id=resident_id,
        branch=_clean(branch, "branch", 200, required=False),
        node_id=node.id,
        node_path=node.path,
        reported_on=on,
    )
    session.add(member)
    if user_id is not None:
        await ensure_member_role(session)
        session.add(RoleAssignment(user_id=user_id, role_code=MEMBER_ROLE, node_id=node.id, node_path=node.path))
    await session.flush()
    await announce(session, f"{NAME}.member.reported", {"member_id": member.id, "node_path": node.path, "source": NAME})
    return member


async def get_member(session: AsyncSession, member_id: int) -> Member:
    member = (await session.execute(select(Member).where(Member.id == member_id))).scalar_one_or_none()
    if member is None:
        raise NotFound(lazy("There is no such member."))
    return member


async def member_of_user(session: AsyncSession, user_id: int) -> Member | None:
    return (await session.execute(select(Member).where(Member.user_id == user_id))).scalar_one_or_none()


async def issue_receipt(
    session: AsyncSession,
    storage: Any,
    tenant: Any,
    base_url: str,
    member: Member | None = None,
    unit: Unit | None = None,
) -> Any:
    """The 报到单 receipt for the employer: a PDF with a verification QR code (core.services.documents)."""
    if member is not None:
        node = await community(session, member.node_id)
        employer = await get_unit(session, member.unit_id) if member.unit_id else None
        values = {
            "name": member.name,
            "unit": employer.name if employer else "—",
            "community": node.name,
            "date": member.reported_on.isoformat(),
        }
        doc = await documents.issue(
            session,
            storage,
            tenant=tenant,
            template=RECEIPT,
            values=values,
            base_url=base_url,
            subject=(f"{NAME}.member", str(member.id)),
            node_path=member.node_path,
            source=NAME,
        )
        member.receipt_document_id = doc.id
    elif unit is not None:
        node = await community(session, unit.node_id)
        values = {
            "unit": unit.name,
            "party_org": unit.party_org or unit.name,
            "community": node.name,
            "date": unit.reported_on.isoformat(),
        }
        doc = await documents.issue(
            session,
            storage,
            tenant=tenant,
            template=UNIT_RECEIPT,
            values=values,
            base_url=base_url,
            subject=(f"{NAME}.unit", str(unit.id)),
            node_path=unit.node_path,
            source=NAME,
        )
        unit.receipt_document_id = doc.id
    else:
        raise ValueError("a receipt is for a member or a unit")
    await session.flush()
    return doc


# ---- posts -------------------------------------------------------------------------------------


async def create_post(
    session: AsyncSession,
    node: GridNode,
    *,
    category: str,
    title: str,
    categories: list[str],
    description: str = "",
    capacity: int = 5,
) -> Post:
    if category not in categories:
        raise InvalidInput(lazy("Choose one of the post categories."), field="category")
    if not 1 <= capacity <= 500:
        raise InvalidInput(lazy("A post takes between 1 and 500 members."), field="capacity")
    post = Post(
        node_id=node.id,
        node_path=node.path,
        category=category,
        title=_clean(title, "title", 200),
        description=_clean(description, "description", 2000, required=False),
        capacity=capacity,
    )
    session.add(post)
    await session.flush()
    return post


async def claim_post(session: AsyncSession, post_id: int, member: Member) -> PostClaim:
    """A member claims a post of their community; a full post refuses (one conditional UPDATE, so
    two members racing for the last place get one place and one refusal)."""
    post = (await session.execute(select(Post).where(Post.id == post_id))).scalar_one_or_none()
    if post is None or not post.active or post.node_path != member.node_path:
        raise NotFound(lazy("There is no such post in your community."))
    taken = await session.scalar(
        select(PostClaim.id).where(PostClaim.post_id == post_id, PostClaim.member_id == member.id)
    )
    if taken is not None:
        raise Conflict(lazy("You hold this post already."))
    res = await session.execute(
        update(Post)
        .where(Post.id == post_id, Post.claimed < Post.capacity)
        .values(claimed=Post.claimed + 1)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        raise Conflict(lazy("This post has all the members it needs."))
    claim = PostClaim(post_id=post_id, member_id=member.id)
    session.add(claim)
    await session.flush()
    await session.refresh(post)
    return claim


async def posts_of(session: AsyncSession, member_id: int) -> list[Post]:
    stmt = (
        select(Post)
        .join(PostClaim, PostClaim.post_id == Post.id)
        .where(PostClaim.member_id == member_id)
        .order_by(Post.category, Post.title)
    )
    return list((await session.execute(stmt)).scalars())


async def posts_at(session: AsyncSession, node_path: str) -> list[Post]:
    stmt = select(Post).where(Post.node_path == node_path, Post.active.is_(True)).order_by(Post.category, Post.title)
    return list((await session.execute(stmt)).scalars())


# ---- activities --------------------------------------------------------------------------------


async def publish_activity(
    session: AsyncSession,
    node: GridNode,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    category: str,
    categories: list[str],
    capacity: int | None = None,
    place: str = "",
    description: str = "",
) -> Activity:
    """A party service activity of the community, open to its reported members (core.services.activities)."""
    if category not in categories:
        raise InvalidInput(lazy("Choose one of the post categories."), field="category")
    return await activities.publish(
        session,
        title=title,
        node=node,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        eligibility_rule=ACTIVITY_RULE,
        place=place,
        description=description,
        category=category,
        source=NAME,
    )


async def activities_at(session: AsyncSession, node_path: str, *, since: datetime, limit: int = 50) -> list[Activity]:
    stmt = (
        select(Activity)
        .where(Activity.source == NAME, Activity.node_path == node_path, Activity.ends_at >= since)
        .order_by(Activity.starts_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


# ---- 服务记录卡 ------------------------------------------------------------------------------------


async def record_service(
    session: AsyncSession,
    member: Member,
    *,
    served_on: date,
    minutes: int,
    description: str,
    today: date,
    post_id: int | None = None,
) -> ServiceRecord:
    """Staff write a line on the member's card (a paper sign-in sheet, a post's duty); audited."""
    if not 1 <= minutes <= MAX_SERVICE_MINUTES:
        raise InvalidInput(lazy("Served time is between 1 minute and 24 hours."), field="minutes")
    if served_on > today:
        raise InvalidInput(lazy("The service date cannot be in the future."), field="served_on")
    if post_id is not None:
        held = await session.scalar(
            select(PostClaim.id).where(PostClaim.post_id == post_id, PostClaim.member_id == member.id)
        )
        if held is None:
            raise InvalidInput(lazy("The member does not hold this post."), field="post_id")
    row = ServiceRecord(
        member_id=member.id,
        post_id=post_id,
        served_on=served_on,
        minutes=minutes,
        description=_clean(description, "description", 300),
        entered_by=actor_user_id(session),
    )
    session.add(row)
    await session.flush()
    record(
        session,
        "party_leadership.service.record",
        "pl_service_records",
        row.id,
        {"member_id": member.id, "minutes": minutes},
    )
    return row


@dataclass(frozen=True)
class CardLine:
    day: date
    title: str
    minutes: int
    source: str  # activity | staff
    category: str = ""


@dataclass(frozen=True)
class Card:
    member: Member
    year: int
    lines: list[CardLine]

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def hours(self) -> Any:
        return rules.hours(self.minutes)


async def service_card(session: AsyncSession, member: Member, year: int) -> Card:
    """The member's 服务记录卡 for ``year``: party activities attended (minutes from check-in/out or a
    staff correction) and the lines staff recorded, newest first."""
    lines: list[CardLine] = []
    start, end = rules.year_bounds(year)
    if member.user_id is not None:
        stmt = (
            select(Activity.title, Activity.starts_at, Activity.category, ActivitySignup.minutes)
            .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
            .where(
                ActivitySignup.user_id == member.user_id,
                ActivitySignup.minutes.is_not(None),
                Activity.source == NAME,
                Activity.starts_at >= start,
                Activity.starts_at < end,
            )
        )
        for title, starts_at, category, minutes in await session.execute(stmt):
            lines.append(CardLine(starts_at.date(), title, int(minutes), "activity", category))
    stmt2 = select(ServiceRecord).where(
        ServiceRecord.member_id == member.id,
        ServiceRecord.served_on >= date(year, 1, 1),
        ServiceRecord.served_on < date(year + 1, 1, 1),
    )
    for r in (await session.execute(stmt2)).scalars():
        lines.append(CardLine(r.served_on, r.description, r.minutes, "staff"))
    lines.sort(key=lambda line: line.day, reverse=True)
    return Card(member, year, lines)


async def minutes_by_member(
    session: AsyncSession, *, start: date, end: date, prefixes: list[str] | None = None, unit_id: int | None = None
) -> dict[int, int]:
    """Minutes served between ``start`` and ``end`` (exclusive) by each member in scope (or of one
    unit): two grouped queries, one over activity sign-ups and one over staff lines."""

    def members_where(stmt: Any) -> Any:
        if prefixes is not None:
            stmt = stmt.where(in_scope(Member.node_path, prefixes))
        if unit_id is not None:
            stmt = stmt.where(Member.unit_id == unit_id)
        return stmt

    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end, time.min, tzinfo=UTC)
    out: dict[int, int] = {}
    acts = members_where(
        select(Member.id, func.sum(ActivitySignup.minutes))
        .join(ActivitySignup, ActivitySignup.user_id == Member.user_id)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(
            ActivitySignup.minutes.is_not(None),
            Activity.source == NAME,
            Activity.starts_at >= since,
            Activity.starts_at < until,
        )
        .group_by(Member.id)
    )
    for member_id, minutes in await session.execute(acts):
        out[member_id] = out.get(member_id, 0) + int(minutes or 0)
    staff = members_where(
        select(Member.id, func.sum(ServiceRecord.minutes))
        .join(ServiceRecord, ServiceRecord.member_id == Member.id)
        .where(ServiceRecord.served_on >= start, ServiceRecord.served_on < end)
        .group_by(Member.id)
    )
    for member_id, minutes in await session.execute(staff):
        out[member_id] = out.get(member_id, 0) + int(minutes or 0)
    return out


# ---- quarterly feedback to the employer ---------------------------------------------------------


async def send_feedback(
    session: AsyncSession, app_state: Any, unit: Unit, year: int, quarter: int, note: str = ""
) -> Feedback:
    """The community's quarterly feedback to a unit: each of its members' hours in the quarter.
    Once per unit and quarter; the unit's contact is notified in-app."""
    start, end = rules.quarter_bounds(year, quarter)
    exists = await session.scalar(
        select(Feedback.id).where(Feedback.unit_id == unit.id, Feedback.year == year, Feedback.quarter == quarter)
    )
    if exists is not None:
        raise Conflict(lazy("The feedback for this quarter has been sent already."))
    members = list(
        (await session.execute(select(Member).where(Member.unit_id == unit.id).order_by(Member.name))).scalars()
    )
    minutes = await minutes_by_member(session, start=start, end=end, unit_id=unit.id)
    summary = {
        "members": len(members),
        "minutes": sum(minutes.values()),
        "rows": [{"name": m.name, "minutes": minutes.get(m.id, 0)} for m in members],
    }
    row = Feedback(
        unit_id=unit.id,
        year=year,
        quarter=quarter,
        summary=summary,
        note=_clean(note, "note", 2000, required=False),
        sent_by=actor_user_id(session),
    )
    session.add(row)
    await session.flush()
    if unit.contact_user_id is not None and app_state is not None:
        from core.pluginhost.manifest import Notification
        from core.services.notifications import notify

        await notify(
            app_state,
            session,
            Notification(
                session.sync_session.info["tenant_id"],
                unit.contact_user_id,
                f"{year}年第{quarter}季度在职党员服务情况反馈",
                f"{unit.name}：{len(members)} 名党员，本季度服务 {rules.hours(summary['minutes'])} 小时。",
                f"/party/units/{unit.id}/results",
            ),
            enabled=(NAME,),
        )
    return row


def members_page_query(prefixes: list[str], q: str = "", unit_id: int | None = None) -> Any:
    stmt = select(Member).where(in_scope(Member.node_path, prefixes))
    if q:
        stmt = stmt.where(Member.name.contains(q))
    if unit_id is not None:
        stmt = stmt.where(Member.unit_id == unit_id)
    return stmt.order_by(Member.node_path, Member.name, Member.id)


async def user_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {i: n for i, n in rows.all()}
