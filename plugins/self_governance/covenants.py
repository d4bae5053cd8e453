"""居民公约 (a community's) and 管理规约 (an estate's): versions filed with what adopted each."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services import ballots
from core.services._common import actor_user_id
from core.services.errors import InvalidInput, lazy
from plugins.self_governance.models import Covenant, Meeting

KINDS: dict[str, tuple[str, str]] = {
    "residents": ("居民公约", "Residents' covenant"),
    "management": ("管理规约", "Management covenant"),
}


async def file(
    session: AsyncSession,
    *,
    node: GridNode,
    kind: str,
    title: str,
    body: str,
    adopted_on: date,
    ballot_id: int | None = None,
    meeting_id: int | None = None,
) -> Covenant:
    """File the next version. A 管理规约 is adopted by an owners' vote (art. 278 item 2), a 居民公约
    by a residents' meeting: name the one that adopted it."""
    title, body = title.strip(), body.strip()
    if kind not in KINDS:
        raise InvalidInput(lazy("Choose 居民公约 or 管理规约."), field="kind")
    if not title or len(title) > 200:
        raise InvalidInput(lazy("A covenant needs a title of at most 200 characters."), field="title")
    if not body:
        raise InvalidInput(lazy("Paste the covenant's text."), field="body")
    if ballot_id is None and meeting_id is None:
        raise InvalidInput(lazy("Name the vote or the meeting that adopted this version."), field="adopted_by")
    if ballot_id is not None:
        ballot = await ballots.get(session, ballot_id)
        if not (ballot.result or {}).get("outcome", {}).get("passed"):
            raise InvalidInput(
                lazy("That vote did not adopt anything: it has not closed or did not pass."), field="adopted_by"
            )
    if (
        meeting_id is not None
        and (
            await session.execute(select(Meeting.id).where(Meeting.id == meeting_id, Meeting.status == "held"))
        ).first()
        is None
    ):
        raise InvalidInput(lazy("That meeting has not been held."), field="adopted_by")
    last = await session.scalar(
        select(func.max(Covenant.version)).where(Covenant.node_id == node.id, Covenant.kind == kind)
    )
    covenant = Covenant(
        kind=kind,
        node_id=node.id,
        node_path=node.path,
        version=int(last or 0) + 1,
        title=title,
        body=body[:50000],
        adopted_on=adopted_on,
        ballot_id=ballot_id,
        meeting_id=meeting_id,
        filed_by=actor_user_id(session),
    )
    session.add(covenant)
    await session.flush()
    return covenant


async def listing(session: AsyncSession, prefixes: list[str]) -> list[Covenant]:
    stmt = (
        select(Covenant)
        .where(in_scope(Covenant.node_path, prefixes))
        .order_by(Covenant.node_path, Covenant.kind, Covenant.version.desc())
    )
    return list((await session.execute(stmt)).scalars())
