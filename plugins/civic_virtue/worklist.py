"""文化德治's line of the worklist dashboard: nominations submitted and waiting for review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.pluginhost.manifest import WorkItem
from core.rbac.scope import in_scope
from core.web.context import ctx
from plugins.civic_virtue.models import SUBMITTED, Nomination


async def items(request: Any, session: Any, review: str) -> list[WorkItem]:
    c = ctx(request)
    if c.user is None or not c.can(review):
        return []
    waiting = await session.scalar(
        select(func.count())
        .select_from(Nomination)
        .where(Nomination.status == SUBMITTED, in_scope(Nomination.node_path, c.scope_prefixes(review)))
    )
    return [WorkItem("待审核提名", "Nominations to review", int(waiting or 0), "/civic-virtue/", order=70)]
