"""双滦区's demo: the seed's sizes, one campaign awarded with winners in the gallery, one in its
public vote, the 邻里节 with 20,000+ participants, 19 themed stairwells and 2 parks; again adds nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.grids.models import GridNode
from core.tenancy.models import Tenant
from plugins.civic_virtue import campaigns, demo, voting
from plugins.civic_virtue.models import (
    FESTIVAL,
    PARK,
    STAIRWELL,
    WINNER,
    Campaign,
    CommunityEvent,
    Nomination,
    ThemedPlace,
)
from plugins.civic_virtue.stages import Stage
from tests.conftest import main_text, make_client


async def _tenant_id(app: Any, slug: str = "shuangluan") -> int:
    async with app.state.db.session(None) as s:
        return int((await s.execute(select(Tenant.id).where(Tenant.slug == slug))).scalar_one())


async def _counts(s: Any) -> dict[str, int]:
    return {
        m.__tablename__: int(await s.scalar(select(func.count()).select_from(m)) or 0)
        for m in (Campaign, Nomination, CommunityEvent, ThemedPlace)
    }


async def test_the_demo_district_has_the_seeds_sizes(app: Any) -> None:
    async with app.state.db.session(await _tenant_id(app)) as s:
        festivals = await s.scalar(select(func.count()).where(CommunityEvent.kind == FESTIVAL))
        people = await s.scalar(select(func.sum(CommunityEvent.headcount)).where(CommunityEvent.kind == FESTIVAL))
        assert festivals >= 62 and people > 20_000
        assert await s.scalar(select(func.count()).where(CommunityEvent.kind == "co_building")) >= 500
        communities = await s.scalar(select(func.count(func.distinct(CommunityEvent.node_path))))
        assert communities > 25
        assert await s.scalar(select(func.count()).where(ThemedPlace.kind == STAIRWELL)) == 19
        assert await s.scalar(select(func.count()).where(ThemedPlace.kind == PARK)) == 2
        stages = {c.title: campaigns.stage(c) for c in (await s.execute(select(Campaign))).scalars()}
        assert stages[demo.FINISHED] == Stage.AWARDED and stages[demo.VOTING] == Stage.VOTING
        finished = (await s.execute(select(Campaign).where(Campaign.title == demo.FINISHED))).scalar_one()
        assert all((await voting.verify(s, finished)).values())
        winners = (await s.execute(select(Nomination).where(Nomination.status == WINNER))).scalars().all()
        assert len(winners) == 5 and all(w.certificate_id for w in winners)


async def test_the_gallery_shows_the_demo_winners(app: Any) -> None:
    async with make_client(app) as c:
        r = await c.get("/t/shuangluan/civic-virtue/gallery/")
        assert r.status_code == 200
        assert main_text(r.text).count("2025年度双滦区道德模范评选") == 5


async def test_seeding_the_demo_again_adds_nothing(app: Any) -> None:
    tenant_id = await _tenant_id(app)
    async with app.state.db.transaction(tenant_id) as s:
        before = await _counts(s)
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        tenant = await s.get(Tenant, tenant_id)
        await demo.seed(s, tenant, nodes, storage=app.state.storage)
        assert await _counts(s) == before
