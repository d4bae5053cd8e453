"""The demo district: 69 teams (some incomplete), a few hundred disputes, cases in every state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.grids.models import GridNode
from core.tenancy.models import Tenant
from plugins.rule_of_law import demo, indicators
from plugins.rule_of_law.mediation import State
from plugins.rule_of_law.models import Case, CaseEntry, Dispute, Team


async def test_the_demo_district_has_its_teams_disputes_and_cases_in_every_state(app: Any) -> None:
    db = app.state.db
    async with db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    async with db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(Team.id))) == 69
        assert 200 <= (await s.scalar(select(func.count(Dispute.id))) or 0) <= 500
        states = set((await s.execute(select(Case.state).distinct())).scalars())
        assert states == {st.value for st in State}
        root = (await s.execute(select(GridNode).where(GridNode.code == "sl"))).scalar_one()
        f = await indicators.figures(s, [root.path], {})
        assert 0 < f.teams_incomplete < 69 and f.overdue > 0 and f.success_rate is not None
        latest = await s.scalar(select(func.max(CaseEntry.at)))
    from datetime import UTC, datetime

    assert latest is not None and latest <= datetime.now(UTC)
    async with db.transaction(tenant.id) as s:  # idempotent
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        await demo.seed(s, tenant, nodes)
    async with db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(Team.id))) == 69
