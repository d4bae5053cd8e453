"""社会共治's lines of the worklist dashboard: home-service bookings to arrange and points-store
redemptions to hand over, in the user's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.pluginhost.manifest import WorkItem
from core.rbac.scope import in_scope
from core.web.context import ctx
from plugins.co_governance.models import Booking, Redemption


async def items(request: Any, session: Any, actions: dict[str, str]) -> list[WorkItem]:
    c = ctx(request)
    if c.user is None:
        return []
    out = []
    if c.can(actions["service"]):
        booked = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.state == "requested", in_scope(Booking.node_path, c.scope_prefixes(actions["service"])))
        )
        out.append(
            WorkItem(
                "待安排家政预约",
                "Home-service bookings to arrange",
                int(booked or 0),
                "/co-governance/services/manage/",
                order=60,
            )
        )
    if c.can(actions["store"]):
        reserved = await session.scalar(
            select(func.count())
            .select_from(Redemption)
            .where(Redemption.state == "reserved", in_scope(Redemption.node_path, c.scope_prefixes(actions["store"])))
        )
        out.append(
            WorkItem(
                "待兑付积分兑换",
                "Redemptions to hand over",
                int(reserved or 0),
                "/co-governance/store/manage/",
                order=61,
            )
        )
    return out
