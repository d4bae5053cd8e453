"""A small district for the pillar's service tests: a fresh tenant with a tree, a few users, and
helpers that speak as the pillar's people (a volunteer with hours, an item in the store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugins.co_governance import rules, volunteers
from plugins.co_governance.settings import Settings, of
from tests.core.services.conftest import World, add_user
from tests.core.test_people_pages import _node as add_node

NUMBER_FORMAT = "SL{year}{seq:6}"
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in 承德


def rule(**overrides: Any) -> rules.PointsRule:
    return rules.PointsRule.of({**of(None), **overrides})


@pytest.fixture
async def world(app: Any, fresh_tenant: Any) -> AsyncIterator[World]:
    async with app.state.db.transaction(fresh_tenant.id) as s:
        root = await add_node(s, None, "d", "district", "测试区")
        street = await add_node(s, root, "s1", "subdistrict", "元宝山街道")
        community = await add_node(s, street, "c1", "community", "双安社区")
        grid = await add_node(s, community, "g1", "grid", "第一网格")
        users = {name: await add_user(s, name, name.upper()) for name in ("staff", "ann", "bob", "cat", "dan")}
    yield World(fresh_tenant, app.state.db, root, community, grid, users)


async def volunteer_of(s: Any, app: Any, world: World, who: str) -> Any:
    return await volunteers.register(
        s,
        app.state.vault,
        name=f"志愿者{who}",
        phone="13912345678",
        node=world.community,
        number_format=NUMBER_FORMAT,
        user_id=world.users[who].id,
        skills=["维修"],
        availability="周末",
    )


async def activity(s: Any, world: World, *, category: str = "环境保护", day: int = 0, hours: int = 4) -> Any:
    starts = START + timedelta(days=day)
    return await volunteers.publish_activity(
        s,
        title=f"环境清扫{day}",
        node=world.community,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        category=category,
        organiser="双安社区居委会",
    )


__all__ = ["Settings", "World"]
