"""The demo district 双滦区 at the seed's sizes, every project state present, and idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.grids.models import GridNode
from core.tenancy.service import get_tenant
from plugins.party_leadership import demo
from plugins.party_leadership.models import Agreement, Captain, Member, Project, Review, Unit


async def _counts(db: Any, tenant_id: int) -> dict[str, Any]:
    async with db.session(tenant_id) as s:
        states = dict((await s.execute(select(Project.state, func.count()).group_by(Project.state))).all())
        return {
            "units": await s.scalar(select(func.count(Unit.id))),
            "members": await s.scalar(select(func.count(Member.id))),
            "projects": sum(states.values()),
            "states": states,
            "agreements": await s.scalar(select(func.count(Agreement.id))),
            "captains": await s.scalar(select(func.count(Captain.id))),
            "reviews": await s.scalar(select(func.count(Review.id))),
        }


async def test_the_demo_has_the_seeds_sizes_and_is_seeded_once(app: Any) -> None:
    tenant = await get_tenant(app.state.db, "shuangluan")
    got = await _counts(app.state.db, tenant.id)
    assert (got["units"], got["members"], got["projects"], got["agreements"], got["captains"]) == (
        52,
        1580,
        75,
        78,
        1188,
    )
    assert got["states"]["done"] == 42
    assert set(got["states"]) == {"listed", "claimed", "in_progress", "done", "cancelled"}
    assert got["reviews"] == 1580 + 52  # last year's 评议 of every member and unit
    async with app.state.db.transaction(tenant.id) as s:
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        await demo.seed(s, tenant, nodes)
    assert await _counts(app.state.db, tenant.id) == got


async def test_the_second_district_has_the_pillar_off_and_no_demo_rows(app: Any) -> None:
    tenant = await get_tenant(app.state.db, "luanping")
    got = await _counts(app.state.db, tenant.id)
    assert (got["units"], got["members"], got["projects"]) == (0, 0, 0)
