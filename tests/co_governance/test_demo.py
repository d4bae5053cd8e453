"""The demo district at the seed's sizes: 684 trained, 473 employed, 26 property companies (7 with
a party organisation, 19 with an instructor), volunteers across the star levels, every state of a
redemption and a booking, books that balance; loading it again adds nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.services import ledger
from core.tenancy.models import Tenant
from plugins.co_governance import demo, rules
from plugins.co_governance.models import Booking, Enrolment, PropertyCompany, Redemption, Volunteer


async def test_the_demo_has_the_seeds_figures_and_every_state(app: Any) -> None:
    async with app.state.db.session(None) as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "shuangluan"))
    async with app.state.db.session(tenant.id) as s:
        trained = await s.scalar(select(func.count(Enrolment.id)).where(Enrolment.state == "completed"))
        employed = await s.scalar(select(func.count(Enrolment.id)).where(Enrolment.employed.is_(True)))
        assert (trained, employed) == (684, 473)
        modes = dict(
            (
                await s.execute(
                    select(PropertyCompany.party_mode, func.count())
                    .where(PropertyCompany.name.like("承德%物业服务有限公司"))
                    .group_by(PropertyCompany.party_mode)
                )
            ).all()
        )
        assert sum(modes.values()) == 26 and modes["instructor"] == 19
        assert modes["own"] + modes["joint"] + modes["affiliated"] == 7
        stars = {rules.star_level(m) for m in (await s.execute(select(Volunteer.minutes_total))).scalars()}
        assert stars >= {0, 1, 2, 3, 4, 5}
        assert set((await s.execute(select(Redemption.state).distinct())).scalars()) >= {
            "reserved",
            "handed_over",
            "cancelled",
        }
        assert set((await s.execute(select(Booking.state).distinct())).scalars()) == {
            "requested",
            "confirmed",
            "done",
            "cancelled",
        }
        assert (await ledger.check(s)).problems == []
        demo_volunteer = await s.scalar(select(Volunteer).where(Volunteer.name == "志愿者（演示）"))
        assert demo_volunteer.minutes_total >= 96 * 60  # other tests may have added hours since


async def test_loading_the_demo_again_adds_nothing(app: Any) -> None:
    from core.grids.models import GridNode

    async with app.state.db.session(None) as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "shuangluan"))
    async with app.state.db.transaction(tenant.id) as s:
        before = await s.scalar(select(func.count(Volunteer.id)))
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        await demo.seed(s, tenant, nodes)
        assert await s.scalar(select(func.count(Volunteer.id))) == before
