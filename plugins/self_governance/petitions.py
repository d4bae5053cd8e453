"""Requests to call a meeting: a 居民会议 when the tenant's share of adult residents asks (1/5 by
城市居民委员会组织法 第十条), an extraordinary 业主大会 when its share of owners does (20%,
物业管理条例 第十三条). The page counts signatures against the base from the register."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services import accounts, ballots
from core.services._common import actor_user_id, atomic, now
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.self_governance.meetings import expected_people
from plugins.self_governance.models import Petition, Signature
from plugins.self_governance.settings import Settings, petition_reached

KINDS: dict[str, tuple[str, str]] = {
    "residents_meeting": ("提议召开居民会议", "Request a residents' meeting"),
    "owners_assembly": ("提议召开临时业主大会", "Request an extraordinary owners' assembly"),
}


async def start(session: AsyncSession, *, kind: str, node: GridNode, title: str) -> Petition:
    title = title.strip()
    if kind not in KINDS:
        raise InvalidInput(lazy("Choose what the request is for."), field="kind")
    if kind == "owners_assembly" and node.kind != "estate":
        raise InvalidInput(lazy("An extraordinary owners' assembly is requested for one estate."), field="node")
    if not title or len(title) > 200:
        raise InvalidInput(lazy("Say what the meeting should decide (at most 200 characters)."), field="title")
    petition = Petition(kind=kind, title=title, node_id=node.id, node_path=node.path, created_by=actor_user_id(session))
    session.add(petition)
    await session.flush()
    return petition


async def get(session: AsyncSession, petition_id: int) -> Petition:
    found = (await session.execute(select(Petition).where(Petition.id == petition_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no request %(id)s."), id=petition_id)
    return found


async def _may_sign(session: AsyncSession, petition: Petition, node: GridNode, user_id: int) -> bool:
    if petition.kind == "owners_assembly":
        return any(user_id in e.members for e in await ballots.electorate.owners(session, node.path))
    resident = await accounts.linked_resident(session, user_id)
    return resident is not None and (resident.node_path or "").startswith(node.path)


async def sign(session: AsyncSession, petition: Petition, node: GridNode, user_id: int) -> Signature:
    if not await _may_sign(session, petition, node, user_id):
        raise Conflict(
            lazy("Only the owners of this estate can sign.")
            if petition.kind == "owners_assembly"
            else lazy("Only residents living here, with a linked account, can sign.")
        )
    row = Signature(petition_id=petition.id, user_id=user_id, signed_at=now())
    try:
        async with atomic(session):
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise Conflict(lazy("You have already signed this request.")) from None
    return row


@dataclass(frozen=True)
class Count:
    signatures: int
    base: int
    percent: int
    reached: bool


async def count(session: AsyncSession, petition: Petition, node: GridNode, settings: Settings) -> Count:
    signed = int(
        await session.scalar(select(func.count(Signature.id)).where(Signature.petition_id == petition.id)) or 0
    )
    if petition.kind == "owners_assembly":
        base = len(await ballots.electorate.owners(session, node.path))
        percent = settings.extraordinary_share_percent
    else:
        base = len(await expected_people(session, node, "adults", now().date()))
        percent = settings.meeting_petition_percent
    return Count(signed, base, percent, petition_reached(signed, base, percent))
