"""党建领治's lines of the worklist dashboard: 吹哨 matters not yet resolved, needs on the 需求清单
not yet matched, and buildings still without a 网络楼长 — each in the scope of the action it needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.pluginhost.manifest import WorkItem
from core.rbac.scope import in_scope
from core.web.context import ctx
from plugins.party_leadership import captains
from plugins.party_leadership.models import Matter, Need


async def items(request: Any, session: Any, actions: dict[str, str]) -> list[WorkItem]:
    c = ctx(request)
    if c.user is None:
        return []
    out = []
    if c.can(actions["matters"]):
        routed = await session.scalar(
            select(func.count())
            .select_from(Matter)
            .where(Matter.status == "routed", in_scope(Matter.node_path, c.scope_prefixes(actions["matters"])))
        )
        out.append(WorkItem("待办结报到事项", "Matters to resolve", int(routed or 0), "/party/matters", order=30))
    if c.can(actions["lists"]):
        needs = await session.scalar(
            select(func.count())
            .select_from(Need)
            .where(Need.status == "open", in_scope(Need.node_path, c.scope_prefixes(actions["lists"])))
        )
        out.append(WorkItem("待对接需求", "Needs to match", int(needs or 0), "/party/lists", order=31))
    if c.can(actions["view"]) and c.can(actions["lists"]):
        _with, without = await captains.counts(session, c.scope_prefixes(actions["view"]))
        out.append(
            WorkItem("无网络楼长楼栋", "Buildings without a captain", without, "/party/buildings?without=1", order=32)
        )
    return out
