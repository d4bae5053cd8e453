"""业主大会 by e-vote: an estate's owners vote on items, each marked with its 民法典 第278条 category.

Each item is one ballot of core's ballots service with the ``owners_278`` rule (the statute is
encoded there, once) and the owners' electorate from the household register (area, one owner of
several units once, the developer's unsold units as one owner, co-owners one vote). The assembly
adds what the 物业管理条例 asks around the vote: notice days before voting opens (tenant
setting, 15 by default), the period, and the result on the estate's notice board.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.services import ballots, notices
from core.services._common import actor_user_id, announce, atomic, aware, now
from core.services.ballots.models import Ballot, BallotCast, BallotChoice, BallotElector, BallotOption
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.self_governance.models import Assembly, AssemblyItem
from plugins.self_governance.settings import Settings

RULE = "owners_278"
# 民法典 第二百七十八条第一款 (1)–(9); (6)–(8) need 3/4 (the rule in core decides, this is the label).
CATEGORIES: dict[int, tuple[str, str]] = {
    1: ("制定和修改业主大会议事规则", "Make or amend the assembly's rules of procedure"),
    2: ("制定和修改管理规约", "Make or amend the management covenant"),
    3: ("选举业主委员会或者更换业主委员会成员", "Elect or replace owners' committee members"),
    4: ("选聘和解聘物业服务企业或者其他管理人", "Hire or dismiss the property manager"),
    5: ("使用建筑物及其附属设施的维修资金", "Use the maintenance fund"),
    6: ("筹集建筑物及其附属设施的维修资金", "Raise the maintenance fund"),
    7: ("改建、重建建筑物及其附属设施", "Rebuild or reconstruct buildings and facilities"),
    8: ("改变共有部分的用途或者利用共有部分从事经营活动", "Change the use of common parts or run a business on them"),
    9: ("有关共有和共同管理权利的其他重大事项", "Other major matters of common ownership and management"),
}
SPECIAL = frozenset({6, 7, 8})
NOTICED, OPEN, CLOSED = "noticed", "open", "closed"


def phase(assembly: Assembly, at: datetime | None = None) -> str:
    """noticed (before voting) · open (in the period) · closing (period over, not yet counted) · closed."""
    if assembly.status == CLOSED:
        return CLOSED
    moment = at or now()
    if moment < aware(assembly.opens_at):
        return NOTICED
    return OPEN if moment < aware(assembly.closes_at) else "closing"


async def create(
    session: AsyncSession,
    settings: Settings,
    *,
    node: GridNode,
    title: str,
    items: Sequence[tuple[str, int]],
    opens_at: datetime,
    closes_at: datetime,
    description: str = "",
    extraordinary: bool = False,
    noticed_at: datetime | None = None,
) -> Assembly:
    """Notice an assembly: the items' ballots are made with the owners' electorate frozen now, the
    notice goes on the estate's board, and votes are accepted from ``opens_at`` to ``closes_at``."""
    title = title.strip()
    if node.kind != "estate":
        raise InvalidInput(lazy("An owners' assembly is held for one estate."), field="node")
    if not title or len(title) > 200:
        raise InvalidInput(lazy("An assembly needs a title of at most 200 characters."), field="title")
    cleaned = [(t.strip(), int(c)) for t, c in items if t.strip()]
    if not cleaned:
        raise InvalidInput(lazy("Put at least one item to the owners."), field="items")
    for t, c in cleaned:
        if len(t) > 200:
            raise InvalidInput(lazy("An item's title has at most 200 characters."), field="items")
        if c not in CATEGORIES:
            raise InvalidInput(lazy("Mark each item with its category of Civil Code art. 278 (1 to 9)."), field="items")
    noticed = aware(noticed_at or now())
    opens_at, closes_at = aware(opens_at), aware(closes_at)
    if opens_at < noticed + timedelta(days=settings.notice_days):
        raise InvalidInput(
            lazy("Voting opens at least %(days)s days after the assembly is noticed."),
            field="opens_at",
            days=settings.notice_days,
        )
    if closes_at <= opens_at:
        raise InvalidInput(lazy("Voting closes after it opens."), field="closes_at")
    electors = await ballots.electorate.owners(session, node.path)  # refuses an incomplete register
    assembly = Assembly(
        title=title,
        description=description.strip(),
        node_id=node.id,
        node_path=node.path,
        extraordinary=extraordinary,
        noticed_at=noticed,
        opens_at=opens_at,
        closes_at=closes_at,
        status=NOTICED,
        open_votes=settings.open_votes,
        created_by=actor_user_id(session),
    )
    session.add(assembly)
    await session.flush()
    for position, (item_title, category) in enumerate(cleaned, 1):
        ballot = await ballots.create(
            session,
            title=item_title,
            node=node,
            rule=RULE,
            rule_params={"item": category},
            opens_at=opens_at,
            closes_at=closes_at,
            description=title,
            source="self_governance",
        )
        await ballots.add_electors(session, ballot, electors)
        await ballots.open_ballot(session, ballot)  # casting is refused before opens_at by the service
        session.add(
            AssemblyItem(
                assembly_id=assembly.id, position=position, title=item_title, category=category, ballot_id=ballot.id
            )
        )
    lines = [
        f"{i}. {t}（第278条第{c}项{'，须双四分之三' if c in SPECIAL else ''}）" for i, (t, c) in enumerate(cleaned, 1)
    ]
    notice = await notices.publish(
        session,
        title=f"{node.name}{'临时' if extraordinary else ''}业主大会公告：{title}",
        body="\n".join(
            [description.strip(), f"表决时间：{opens_at:%Y-%m-%d %H:%M} 至 {closes_at:%Y-%m-%d %H:%M}", *lines]
        ).strip(),
        node=node,
        starts_at=noticed,
        ends_at=closes_at,
        kind="self_governance.assembly",
        source="self_governance",
        subject=("self_governance.assembly", str(assembly.id)),
    )
    assembly.notice_id = notice.id
    await session.flush()
    await announce(session, "self_governance.assembly.noticed", {"assembly_id": assembly.id, "node_path": node.path})
    return assembly


async def get(session: AsyncSession, assembly_id: int) -> Assembly:
    found = (await session.execute(select(Assembly).where(Assembly.id == assembly_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no owners' assembly %(id)s."), id=assembly_id)
    return found


async def items_of(session: AsyncSession, assembly_id: int) -> list[AssemblyItem]:
    stmt = select(AssemblyItem).where(AssemblyItem.assembly_id == assembly_id).order_by(AssemblyItem.position)
    return list((await session.execute(stmt)).scalars())


async def options(session: AsyncSession, items: Sequence[AssemblyItem]) -> dict[int, dict[str, int]]:
    """Per ballot: meaning (yes/no/abstain) → option id."""
    ids = [i.ballot_id for i in items if i.ballot_id]
    out: dict[int, dict[str, int]] = {b: {} for b in ids}
    for ballot_id, meaning, option_id in await session.execute(
        select(BallotOption.ballot_id, BallotOption.meaning, BallotOption.id).where(BallotOption.ballot_id.in_(ids))
    ):
        out[ballot_id][meaning] = option_id
    return out


def _choices(raw: Mapping[Any, str], items: Sequence[AssemblyItem]) -> dict[AssemblyItem, str]:
    by_id = {i.id: i for i in items}
    chosen: dict[AssemblyItem, str] = {}
    for key, meaning in raw.items():
        try:
            item = by_id[int(key)]
        except (KeyError, ValueError):
            raise InvalidInput(lazy("That item is not on this assembly's agenda."), field="choices") from None
        if meaning not in (ballots.YES, ballots.NO, ballots.ABSTAIN):
            raise InvalidInput(lazy("Vote 同意, 反对 or 弃权 on each item."), field="choices")
        chosen[item] = meaning
    if not chosen:
        raise InvalidInput(lazy("Vote on at least one item."), field="choices")
    return chosen


async def vote(
    session: AsyncSession,
    assembly: Assembly,
    user_id: int,
    raw: Mapping[Any, str],
    *,
    elector_key: str | None = None,
    at: datetime | None = None,
) -> int:
    """An owner votes online on the items in ``raw`` ({item id: yes|no|abstain}). All or nothing:
    a refusal on one item (already voted, not an owner) writes none. Returns how many were cast."""
    items = await items_of(session, assembly.id)
    chosen = _choices(raw, items)
    opts = await options(session, items)
    async with atomic(session):
        for item, meaning in chosen.items():
            elector_id = await _elector_id(session, item, elector_key) if elector_key else None
            await ballots.cast(
                session, item.ballot_id, user_id, [opts[item.ballot_id][meaning]], elector_id=elector_id, at=at
            )
    return len(chosen)


async def _elector_id(session: AsyncSession, item: AssemblyItem, key: str) -> int:
    found = await session.scalar(
        select(BallotElector.id).where(BallotElector.ballot_id == item.ballot_id, BallotElector.key == key)
    )
    if found is None:
        raise NotFound(lazy("That owner is not in this assembly's electorate."))
    return int(found)


async def enter_paper(
    session: AsyncSession,
    assembly: Assembly,
    elector_key: str,
    raw: Mapping[Any, str],
    *,
    proxy_name: str | None = None,
    proxy_document_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Staff enter an owner's paper ballot — or a proxy vote with the proxy's name and the signed
    proxy document — for the items in ``raw``."""
    items = await items_of(session, assembly.id)
    chosen = _choices(raw, items)
    opts = await options(session, items)
    async with atomic(session):
        for item, meaning in chosen.items():
            await ballots.enter_paper(
                session,
                item.ballot_id,
                await _elector_id(session, item, elector_key),
                [opts[item.ballot_id][meaning]],
                proxy_name=proxy_name,
                proxy_document_id=proxy_document_id,
                at=at,
            )
    return len(chosen)


@dataclass(frozen=True)
class ItemView:
    item: AssemblyItem
    participation: ballots.Participation
    result: dict[str, Any] | None  # the stored tally once closed

    @property
    def special(self) -> bool:
        return self.item.category in SPECIAL


async def overview(session: AsyncSession, assembly: Assembly) -> list[ItemView]:
    """Each item with its live participation (area and headcount) and, once closed, its result."""
    out = []
    for item in await items_of(session, assembly.id):
        ballot = await ballots.get(session, item.ballot_id)
        out.append(ItemView(item, await ballots.participation(session, ballot), ballot.result))
    return out


async def electors(session: AsyncSession, assembly: Assembly) -> list[tuple[BallotElector, bool]]:
    """The owners (of the first item's electorate, the same for all) and whether each has voted on it."""
    items = await items_of(session, assembly.id)
    if not items:
        return []
    first = items[0].ballot_id
    voted = set((await session.execute(select(BallotCast.elector_id).where(BallotCast.ballot_id == first))).scalars())
    rows = (
        await session.execute(select(BallotElector).where(BallotElector.ballot_id == first).order_by(BallotElector.key))
    ).scalars()
    return [(e, e.id in voted) for e in rows]


async def choices_by_owner(session: AsyncSession, assembly: Assembly) -> dict[str, dict[int, str]]:
    """How each owner voted ({elector key: {item id: meaning}}) — for the owners' committee, and
    only when the assembly was held under open votes; the caller checks both."""
    if not assembly.open_votes:
        raise Conflict(lazy("This assembly's votes are not open: how each owner voted is not shown."))
    items = {i.ballot_id: i.id for i in await items_of(session, assembly.id)}
    rows = await session.execute(
        select(BallotElector.key, BallotCast.ballot_id, BallotOption.meaning)
        .join(BallotCast, BallotCast.elector_id == BallotElector.id)
        .join(BallotChoice, BallotChoice.cast_id == BallotCast.id)
        .join(BallotOption, BallotOption.id == BallotChoice.option_id)
        .where(BallotCast.ballot_id.in_(list(items)))
    )
    out: dict[str, dict[int, str]] = {}
    for key, ballot_id, meaning in rows:
        out.setdefault(key, {})[items[ballot_id]] = meaning
    return out


def _pct(part: int, whole: int) -> str:
    return "—" if not whole else f"{100 * part / whole:.2f}%"


async def close(session: AsyncSession, assembly: Assembly, *, early: str | None = None) -> list[ballots.Tally]:
    """Count every item by art. 278, store the tallies and put the result on the estate's board."""
    if assembly.status == CLOSED:
        raise Conflict(lazy("This assembly has already been counted."))
    if now() < aware(assembly.opens_at) and not (early or "").strip():
        raise Conflict(lazy("Voting has not opened yet."))
    tallies = []
    lines = []
    for item in await items_of(session, assembly.id):
        ballot = await ballots.get(session, item.ballot_id)
        result = await ballots.close(session, ballot, early=early)
        tallies.append(result)
        c, o = result.counts, result.outcome
        yes = next(x for x in c.options if x.meaning == ballots.YES)
        verdict = "通过" if o.passed else ("未达参与表决人数要求" if not o.valid else "未通过")
        lines.append(
            f"{item.position}. {item.title}（第278条第{item.category}项）：{verdict}。"
            f"参与表决面积 {c.cast_weight / 100:.2f}㎡/{c.electorate_weight / 100:.2f}㎡"
            f"（{_pct(c.cast_weight, c.electorate_weight)}），"
            f"人数 {c.cast_heads}/{c.electorate_heads}（{_pct(c.cast_heads, c.electorate_heads)}）；"
            f"同意面积 {yes.weight / 100:.2f}㎡（{_pct(yes.weight, c.cast_weight)}），"
            f"同意人数 {yes.heads}（{_pct(yes.heads, c.cast_heads)}）。校验码 {result.digest[:12]}"
        )
    assembly.status = CLOSED
    node = (await session.execute(select(GridNode).where(GridNode.id == assembly.node_id))).scalar_one()
    notice = await notices.publish(
        session,
        title=f"{node.name}业主大会表决结果公告：{assembly.title}",
        body="\n".join(lines),
        node=node,
        starts_at=now(),
        ends_at=now() + timedelta(days=30),
        kind="self_governance.assembly_result",
        source="self_governance",
        subject=("self_governance.assembly", str(assembly.id)),
    )
    assembly.result_notice_id = notice.id
    await session.flush()
    await announce(session, "self_governance.assembly.closed", {"assembly_id": assembly.id, "node_path": node.path})
    return tallies


async def verify(session: AsyncSession, assembly: Assembly) -> bool:
    """Recount every item from the stored ballots: True when all give the published results."""
    for item in await items_of(session, assembly.id):
        if not await ballots.verify(session, await ballots.get(session, item.ballot_id)):
            return False
    return True


async def running(session: AsyncSession, prefixes: list[str]) -> list[Assembly]:
    stmt = (
        select(Assembly)
        .where(in_scope(Assembly.node_path, prefixes), Assembly.status != CLOSED)
        .order_by(Assembly.closes_at)
    )
    return list((await session.execute(stmt)).scalars())


async def for_voter(session: AsyncSession, user_id: int) -> list[Assembly]:
    """Assemblies not yet counted in which ``user_id`` may cast an owner's ballot."""
    from core.services.ballots.models import BallotElectorMember

    ballot_ids = select(BallotElectorMember.ballot_id).where(BallotElectorMember.user_id == user_id)
    stmt = (
        select(Assembly)
        .join(AssemblyItem, AssemblyItem.assembly_id == Assembly.id)
        .where(AssemblyItem.ballot_id.in_(ballot_ids))
        .distinct()
        .order_by(Assembly.opens_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def count_closed(session: AsyncSession, path: str) -> int:
    return int(
        await session.scalar(
            select(func.count(Assembly.id)).where(in_scope(Assembly.node_path, [path]), Assembly.status == CLOSED)
        )
        or 0
    )


async def ballot_of(session: AsyncSession, ballot_id: int) -> Ballot:
    return await ballots.get(session, ballot_id)
