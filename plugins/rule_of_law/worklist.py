"""平安法治's lines of the worklist dashboard: cases to accept, cases in mediation and overdue cases
among those the user sees, agreements to follow up, and petitions to hand to a lawyer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.pluginhost.manifest import WorkItem
from core.rbac.scope import in_scope
from core.web.context import ctx
from plugins.rule_of_law import cases
from plugins.rule_of_law.mediation import State
from plugins.rule_of_law.models import Petition

CASES = "/rule-of-law/cases/"


async def _count(session: Any, stmt: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


async def items(request: Any, session: Any, actions: dict[str, str]) -> list[WorkItem]:
    c = ctx(request)
    if c.user is None or not any(c.can(a) for a in (actions["view"], actions["accept"], actions["read"])):
        return []
    prefixes = sorted({p for a in (actions["view"], actions["accept"], actions["read"]) for p in c.scope_prefixes(a)})
    out = []
    if c.can(actions["accept"]):
        pending = await _count(session, cases.listing(prefixes, c.user.id, state=State.PENDING.value))
        out.append(WorkItem("待受理调解", "Cases to accept", pending, f"{CASES}?state=pending", order=40))
    mediating = await _count(session, cases.listing(prefixes, c.user.id, state=State.MEDIATING.value))
    out.append(WorkItem("调解中案件", "Cases in mediation", mediating, f"{CASES}?state=mediating", order=41))
    agreed = await _count(session, cases.listing(prefixes, c.user.id, state=State.AGREED.value))
    out.append(WorkItem("待回访协议", "Agreements to follow up", agreed, f"{CASES}?state=agreed", order=42))
    late = await _count(session, cases.listing(prefixes, c.user.id, overdue=True))
    out.append(WorkItem("超期调解案件", "Overdue cases", late, f"{CASES}?overdue=true", "overdue", 7))
    if c.can(actions["petition"]):
        waiting = await session.scalar(
            select(func.count())
            .select_from(Petition)
            .where(Petition.state == "received", in_scope(Petition.node_path, c.scope_prefixes(actions["petition"])))
        )
        out.append(
            WorkItem("待分派信访", "Petitions to assign", int(waiting or 0), "/rule-of-law/petitions/", order=43)
        )
    return out
