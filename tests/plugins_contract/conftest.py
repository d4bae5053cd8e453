"""Helpers for the plugin-contract tests: an app of our own with extra plugins, and throwaway
districts (a tenant with a root node and signed-in-able accounts) that are deleted afterwards."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from core.app import create_app
from core.config import Settings
from core.db.base import Base
from core.db.engine import Database
from core.grids.models import GridNode
from core.tenancy.demo import seed_demo
from core.tenancy.models import Tenant
from core.tenancy.service import NodeDef, TenantDefinition, TenantError, apply_definition, delete_tenant, get_tenant

KINDS = [{"code": "district", "name_zh": "区", "name_en": "District", "level": 0}]


@contextlib.asynccontextmanager
async def running(settings: Settings, *plugins: Any, load_entry_points: bool = True) -> AsyncIterator[Any]:
    """``create_app`` with extra plugin objects, through its start-up and shut-down hooks."""
    app = create_app(settings, extra_plugins=plugins, load_entry_points=load_entry_points)
    # Not app.lifespan(): its cancel scope cannot span pytest-asyncio's tasks (see tests/conftest.py).
    for hook in app.on_startup:
        await hook(app)
    try:
        yield app
    finally:
        for hook in app.on_shutdown:
            await hook(app)


@dataclass
class District:
    tenant: Tenant
    root: GridNode
    definition: TenantDefinition

    @property
    def slug(self) -> str:
        return self.tenant.slug


def definition(slug: str, enable: Iterable[str] = (), users: Iterable[tuple[str, str]] = ()) -> TenantDefinition:
    return TenantDefinition(
        slug=slug,
        name_zh="契约测试区",
        name_en="Contract District",
        plugins={name: {"enabled": True} for name in enable},
        kinds=KINDS,
        nodes=[NodeDef("root", None, "district", "契约测试区", "Contract District")],
        demo_users=[{"username": u, "display_name": u, "role": role, "node": "root"} for u, role in users],
    )


@pytest.fixture
async def districts() -> AsyncIterator[Any]:
    """``await districts(app, enable=["x"], users=[("admin", "district_admin")])`` → a new District.

    Built the way ``liuzhi tenants apply`` + ``liuzhi demo`` build one (so the app's plugins see
    on_tenant_created, on_plugin_enabled and demo_data); every row is removed afterwards.
    """
    made: list[tuple[Settings, str]] = []

    async def make(
        app: Any, enable: Iterable[str] = (), users: Iterable[tuple[str, str]] = (("admin", "district_admin"),)
    ) -> District:
        d = definition("pc-" + secrets.token_hex(4), enable, users)
        made.append((app.state.settings, d.slug))
        await apply_definition(app.state.db, app.state.plugins, d)
        await seed_demo(app.state.db, app.state.plugins, d)
        tenant = await get_tenant(app.state.db, d.slug)
        async with app.state.db.session(tenant.id) as s:
            root = (await s.execute(select(GridNode).where(GridNode.code == "root"))).scalar_one()
        app.state.tenant_cache.clear()
        return District(tenant, root, d)

    yield make
    for settings, slug in made:
        await drop_tenant(settings, slug)


async def drop_tenant(settings: Settings, slug: str) -> None:
    """Delete a tenant and all its rows (as the owner role, like ``liuzhi tenants delete``)."""
    db, owner = Database(settings.database_url), Database(settings.owner_url)
    try:
        with contextlib.suppress(TenantError):
            tenant = await get_tenant(db, slug)
            # delete_tenant removes grid_nodes in one DELETE, which the parent key's ON DELETE RESTRICT
            # refuses while a node has children (reported); detach the tree first.
            async with owner.transaction(tenant.id, no_audit=True) as s:
                await s.execute(update(GridNode).values(parent_id=None))
            await delete_tenant(db, owner, tenant)
    finally:
        await db.dispose()
        await owner.dispose()


def forget_tables(*names: str) -> None:
    """Take tables a test's plugin registered out of the shared metadata again, so later apps,
    tenant deletion and export do not look for them."""
    for name in names:
        table = Base.metadata.tables.get(name)
        if table is not None:
            Base.metadata.remove(table)
