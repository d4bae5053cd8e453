"""居民自治's lines of the worklist dashboard: 议题 under way and 议题 sent back, in the user's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.pluginhost.manifest import WorkItem
from core.rbac.scope import in_scope
from core.web.context import ctx
from plugins.self_governance import procedures as p
from plugins.self_governance.actions import RAISE, VIEW
from plugins.self_governance.models import Matter

MATTERS = "/self-governance/matters/"


async def items(request: Any, session: Any) -> list[WorkItem]:
    c = ctx(request)
    if c.user is None or not c.can(VIEW) or not c.can(RAISE):
        return []
    rows = await session.execute(
        select(Matter.status, func.count())
        .where(Matter.status.in_((p.OPEN, p.RETURNED)), in_scope(Matter.node_path, c.scope_prefixes(VIEW)))
        .group_by(Matter.status)
    )
    by = {status: int(n) for status, n in rows.all()}
    return [
        WorkItem("进行中议题", "Matters under way", by.get(p.OPEN, 0), f"{MATTERS}?status={p.OPEN}", order=50),
        WorkItem("被退回议题", "Matters sent back", by.get(p.RETURNED, 0), f"{MATTERS}?status={p.RETURNED}", order=51),
    ]
