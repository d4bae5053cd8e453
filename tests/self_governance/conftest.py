"""Fixtures for the 居民自治 tests: a fresh district (core's services ``world``) with the estate
安顺乐居 — 张 owns three units (300 m²), the developer two unsold ones (150 m²), 李 and 王 co-own one
(120 m²), 赵 one (100 m²): four owners by headcount, 670 m² — and residents for meetings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.grids import people
from core.grids.basedata import Residence, Resident
from core.services._common import now
from core.services.accounts.models import ResidentAccount
from plugins.self_governance.settings import Settings
from tests.core.services.conftest import World, add_node, add_user, world  # noqa: F401  (fixture)


async def _person(
    s: Any, name: str, user: Any | None, home: Any | None = None, born: date | None = None, relation: str = "户主"
) -> Any:
    resident = Resident(
        name=name,
        birth_date=born or date(1970, 5, 1),
        node_id=home.id if home else None,
        node_path=home.path if home else None,
    )
    s.add(resident)
    await s.flush()
    if home is not None:
        s.add(Residence(resident_id=resident.id, node_id=home.id, relation=relation, moved_in=date(2015, 1, 1)))
    if user is not None:
        s.add(
            ResidentAccount(
                user_id=user.id,
                phone_enc=b"x",
                phone_hash=f"h-{name}-{user.id}",
                phone_masked="138****0000",
                resident_id=resident.id,
            )
        )
    await s.flush()
    return resident


@pytest.fixture
async def estate(world: World) -> Any:  # noqa: F811
    async with world.transaction("staff") as s:
        estate = await add_node(s, world.grid, "asly", "estate", "安顺乐居")
        world.users["wang"] = await add_user(s, "wang")
        homes = {}
        for code in ("1-101", "1-102", "1-201", "2-101", "2-102", "3-101", "3-102"):
            homes[code] = await add_node(s, estate, code, "household", code)
        zhang = await _person(s, "张", world.users["ann"], homes["1-101"])
        li = await _person(s, "李", world.users["bob"], homes["3-101"])
        wang = await _person(s, "王", world.users["wang"])
        zhao = await _person(s, "赵", world.users["cat"], homes["3-102"])
        owners = {r.name: await people.owner_for(s, "person", r.name, resident=r) for r in (zhang, li, wang, zhao)}
        dev = await people.owner_for(s, "developer", "承德某房地产开发有限公司")
        layout = {
            "1-101": ("90", [owners["张"]]),
            "1-102": ("110", [owners["张"]]),
            "1-201": ("100", [owners["张"]]),
            "2-101": ("80", [dev]),
            "2-102": ("70", [dev]),
            "3-101": ("120", [owners["李"], owners["王"]]),
            "3-102": ("100", [owners["赵"]]),
        }
        for code, (area, holders) in layout.items():
            hh = await people.ensure_household(s, homes[code])
            hh.floor_area = Decimal(area)
            for o in holders:
                s.add(people.Ownership(household_id=hh.id, owner_id=o.id))
        # a child (not adult) and a tenant family's head, for the meeting lists
        await _person(s, "张小", None, homes["1-101"], born=now().date() - timedelta(days=365 * 10), relation="子女")
        await s.flush()
    world.estate = estate  # type: ignore[attr-defined]
    return estate


@pytest.fixture
def rules() -> Settings:
    return Settings()
