"""A small district for the shared services' tests: a fresh tenant with a tree and a few users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.context import Actor
from core.db.engine import Database
from core.grids.models import GridNode
from core.identity.models import User
from tests.core.test_people_pages import _node as add_node


@dataclass
class World:
    tenant: Any
    db: Database
    root: GridNode
    community: GridNode
    grid: GridNode
    users: dict[str, User] = field(default_factory=dict)

    def _actor(self, as_user: str | None) -> Actor | None:
        user = self.users.get(as_user) if as_user else None
        return Actor("user", user.id, user.username) if user else None

    def session(self, as_user: str | None = None) -> AsyncSession:
        return self.db.session(self.tenant.id, self._actor(as_user))

    def transaction(self, as_user: str | None = None) -> Any:
        """Commits on success, rolls back on error — as a request does."""
        return self.db.transaction(self.tenant.id, self._actor(as_user))


async def add_user(s: AsyncSession, username: str, display_name: str = "") -> User:
    user = User(username=username, display_name=display_name or username, password_hash="x")
    s.add(user)
    await s.flush()
    return user


@pytest.fixture
async def world(app: Any, fresh_tenant: Any) -> AsyncIterator[World]:
    async with app.state.db.transaction(fresh_tenant.id) as s:
        root = await add_node(s, None, "d", "district", "测试区")
        street = await add_node(s, root, "s1", "subdistrict", "元宝山街道")
        community = await add_node(s, street, "c1", "community", "双安社区")
        grid = await add_node(s, community, "g1", "grid", "第一网格")
        users = {name: await add_user(s, name) for name in ("staff", "ann", "bob", "cat", "dan")}
    yield World(fresh_tenant, app.state.db, root, community, grid, users)
