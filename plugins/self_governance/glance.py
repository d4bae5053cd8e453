"""What 居民自治 shows elsewhere: the dashboard widget, a node's panel and figures, and the
resident's 我的 page. A few cheap queries each, filtered by the node's path or the user's scope."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.pluginhost.manifest import Figure, MySection
from core.rbac.scope import in_scope
from core.services import ballots
from core.services._common import now
from plugins.self_governance import assemblies, committees, matters, meetings
from plugins.self_governance.models import Assembly, Matter
from plugins.self_governance.settings import Settings


def year_start() -> datetime:
    return datetime(now().year, 1, 1, tzinfo=UTC)


async def participation_share(session: AsyncSession, a: Assembly) -> str:
    """The share of owners who voted on the first item (headcount)."""
    items = await assemblies.items_of(session, a.id)
    if not items:
        return "—"
    p = await ballots.participation(session, await ballots.get(session, items[0].ballot_id))
    return "—" if not p.electorate_heads else f"{100 * p.cast_heads / p.electorate_heads:.0f}%"


async def widget_context(session: AsyncSession, prefixes: list[str], settings: Settings) -> dict[str, object]:
    open_matters = int(
        await session.scalar(
            select(func.count(Matter.id)).where(in_scope(Matter.node_path, prefixes), Matter.status == "open")
        )
        or 0
    )
    running = [(a, await participation_share(session, a)) for a in await assemblies.running(session, prefixes)]
    held = 0
    for p in prefixes:
        held += await meetings.count_held(session, p, since=year_start())
    due = len(await committees.due_for_renewal(session, prefixes, settings, now().date()))
    return {"open_matters": open_matters, "running": running, "held": held, "due": due}


async def figures(session: AsyncSession, node: GridNode, settings: Settings) -> list[Figure]:
    href = "/self-governance/"
    return [
        Figure(
            "进行中议题", "Open matters", await matters.count_open(session, node.path), "件", "", href + "matters/", 10
        ),
        Figure(
            "今年召开会议",
            "Meetings held this year",
            await meetings.count_held(session, node.path, since=year_start()),
            "次",
            "",
            href + "meetings/",
            11,
        ),
        Figure(
            "业主大会表决",
            "Owners' votes counted",
            await assemblies.count_closed(session, node.path),
            "次",
            "",
            href + "assemblies/",
            12,
        ),
        Figure(
            "待换届业委会",
            "Committees due for renewal",
            len(await committees.due_for_renewal(session, [node.path], settings, now().date())),
            "个",
            "",
            href + "committees/",
            13,
        ),
    ]


async def my_section(session: AsyncSession, user_id: int) -> MySection | None:
    votes = await assemblies.for_voter(session, user_id)
    raised = int(await session.scalar(select(func.count(Matter.id)).where(Matter.raised_by == user_id)) or 0)
    if not votes and not raised:
        return None
    to_vote = sum(1 for a in votes if assemblies.phase(a) == "open")
    return MySection(
        "居民自治",
        "Self-governance",
        figures=(
            Figure("待投票", "Votes open to me", to_vote, "项", "", "/self-governance/my/", 1),
            Figure("我提出的议题", "Matters I raised", raised, "件", "", "/self-governance/my/", 2),
        ),
        href="/self-governance/my/",
        order=20,
    )
