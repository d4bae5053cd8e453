"""网络楼长: a reported member claims a building of their community as its online captain, paired
with the building's resident head (楼栋长, the building_head role of the grid); the building's
group link and contact are shown to its residents; buildings without a captain are listed for
the community."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.models import RoleAssignment
from core.rbac.scope import in_scope
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.party_leadership.members import _clean
from plugins.party_leadership.models import Captain, Member

BUILDING = "building"
HEAD_ROLE = "building_head"


def _link(value: str) -> str:
    link = _clean(value, "group_link", 300, required=False)
    if link and not link.startswith(("https://", "http://", "weixin://")):
        raise InvalidInput(lazy("A group link starts with https:// or weixin://."), field="group_link")
    return link


async def claim(
    session: AsyncSession, member: Member, node_id: int, *, group_link: str = "", contact: str = ""
) -> Captain:
    node = (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None or node.kind != BUILDING or not node.path.startswith(member.node_path):
        raise NotFound(lazy("There is no such building in your community."))
    taken = (await session.execute(select(Captain).where(Captain.node_id == node.id))).scalar_one_or_none()
    if taken is not None:
        raise Conflict(lazy("This building has an online captain already."))
    captain = Captain(
        node_id=node.id,
        node_path=node.path,
        member_id=member.id,
        group_link=_link(group_link),
        contact=_clean(contact, "contact", 100, required=False),
    )
    session.add(captain)
    await session.flush()
    return captain


async def update_links(session: AsyncSession, captain: Captain, *, group_link: str, contact: str) -> Captain:
    captain.group_link = _link(group_link)
    captain.contact = _clean(contact, "contact", 100, required=False)
    await session.flush()
    return captain


async def release(session: AsyncSession, captain: Captain) -> None:
    await session.delete(captain)
    await session.flush()


async def of_member(session: AsyncSession, member_id: int) -> list[tuple[Captain, GridNode]]:
    stmt = (
        select(Captain, GridNode)
        .join(GridNode, GridNode.id == Captain.node_id)
        .where(Captain.member_id == member_id)
        .order_by(GridNode.path)
    )
    return [(c, n) for c, n in (await session.execute(stmt)).all()]


async def get(session: AsyncSession, captain_id: int) -> Captain:
    row = (await session.execute(select(Captain).where(Captain.id == captain_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(lazy("There is no such captain."))
    return row


@dataclass(frozen=True)
class BuildingRow:
    node: GridNode
    captain: Captain | None
    captain_name: str
    head_names: list[str]


async def buildings(
    session: AsyncSession, prefixes: list[str], *, without_captain: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[BuildingRow], int]:
    """Buildings in scope with their captain (if any) and resident building heads; a page of them."""
    base = (
        select(GridNode, Captain)
        .outerjoin(Captain, Captain.node_id == GridNode.id)
        .where(GridNode.kind == BUILDING, in_scope(GridNode.path, prefixes))
    )
    if without_captain:
        base = base.where(Captain.id.is_(None))
    total = int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = (await session.execute(base.order_by(GridNode.path).limit(limit).offset(offset))).all()
    member_ids = {c.member_id for _n, c in rows if c is not None}
    names = (
        dict((await session.execute(select(Member.id, Member.name).where(Member.id.in_(member_ids)))).all())
        if member_ids
        else {}
    )
    heads: dict[int, list[str]] = {}
    node_ids = [n.id for n, _c in rows]
    if node_ids:
        stmt = (
            select(RoleAssignment.node_id, User.display_name)
            .join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.role_code == HEAD_ROLE, RoleAssignment.node_id.in_(node_ids))
        )
        for node_id, name in await session.execute(stmt):
            heads.setdefault(node_id, []).append(name)
    return [BuildingRow(n, c, names.get(c.member_id, "") if c else "", heads.get(n.id, [])) for n, c in rows], total


async def counts(session: AsyncSession, prefixes: list[str]) -> tuple[int, int]:
    """(buildings with a captain, buildings without) in scope."""
    total = int(
        await session.scalar(
            select(func.count())
            .select_from(GridNode)
            .where(GridNode.kind == BUILDING, in_scope(GridNode.path, prefixes))
        )
        or 0
    )
    with_captain = int(
        await session.scalar(select(func.count()).select_from(Captain).where(in_scope(Captain.node_path, prefixes)))
        or 0
    )
    return with_captain, max(0, total - with_captain)


async def for_resident_paths(session: AsyncSession, paths: list[str]) -> list[tuple[Captain, GridNode]]:
    """The captains of the buildings a resident lives in (their households' paths lie under them)."""
    ancestors: set[str] = set()
    for p in paths:
        ancestors.update(p[: i + 1] for i, ch in enumerate(p) if ch == "/" and i > 0)
    if not ancestors:
        return []
    stmt = (
        select(Captain, GridNode).join(GridNode, GridNode.id == Captain.node_id).where(Captain.node_path.in_(ancestors))
    )
    return [(c, n) for c, n in (await session.execute(stmt)).all()]
