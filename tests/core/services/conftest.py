"""A small district for the shared services' tests: a fresh tenant with a tree and a few users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.db.context import Actor
from core.db.engine import Database
from core.grids.models import GridNode
from core.identity.models import User


@dataclass
class World:
    tenant: Any
    db: Database
    root: GridNode
    community: GridNode
    grid: GridNode
    users: dict[str, User] = field(default_factory=dict)

    def session(self, as_user: str | None = None) -> AsyncSession:
        user = self.users.get(as_user) if as_user else None
        actor = Actor("user", user.id, user.username) if user else None
        return self.db.session(self.tenant.id, actor)

    def transaction(self, as_user: str | None = None) -> Any:
        user = self.users.get(as_user) if as_user else None
        actor = Actor("user", user.id, user.username) if user else None
        return self.db.transaction(self.tenant.id, actor)


async def add_node(s: AsyncSession, parent: GridNode | None, code: str, kind: str, name: str) -> GridNode:
    node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=parent.id if parent else None)
    node.depth = parent.depth + 1 if parent else 0
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    s.add(node)
    await s.flush()
    return node


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
