"""Demo accounts and plugin demo data for the tenants in tenants/ (``liuzhi demo``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.crypto import Vault
from core.db.engine import Database
from core.grids.models import GridNode
from core.identity.models import Operator
from core.identity.passwords import hash_password
from core.imports.bundle import load_bundle
from core.pluginhost.manager import PluginHost
from core.tenancy.models import Tenant, TenantPlugin
from core.tenancy.service import PLATFORM, TenantDefinition, ensure_user

DEMO_PASSWORD = "liuzhi-demo"  # demo only; `liuzhi demo` says so


async def seed_operator(db: Database, username: str = "operator", password: str = DEMO_PASSWORD) -> bool:
    async with db.transaction(None, PLATFORM) as s:
        if (await s.execute(select(Operator.id).where(Operator.username == username))).first():
            return False
        s.add(Operator(username=username, display_name="平台运维（演示）", password_hash=hash_password(password)))
    return True


async def seed_demo(
    db: Database,
    host: PluginHost,
    d: TenantDefinition,
    password: str = DEMO_PASSWORD,
    vault: Vault | None = None,
    storage: Any = None,
) -> list[str]:
    """Demo accounts, base data and plugin demo data.

    The base data — households, residents, organisations, owners, boundaries — is the definition's
    files (tenants/<slug>/demo/), loaded through the importers; residents need the deployment's
    ``vault``. Idempotent: a second run adds nothing."""
    async with db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == d.slug))).scalar_one()
    created = []
    async with db.transaction(tenant.id, PLATFORM) as s:
        if vault is not None and d.demo_dir is not None:
            await load_bundle(s, vault, d.demo_dir)
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        for u in d.demo_users:
            node = nodes.get(u.get("node", ""))
            user, new = await ensure_user(
                s, u["username"], u.get("display_name") or u["username"], password, u.get("role"), node
            )
            if new:
                created.append(user.username)
        enabled = set((await s.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True)))).scalars())
        for name in host.names:
            if name in enabled:
                await host.call_one(name, "demo_data", tenant=tenant, session=s, nodes=nodes, storage=storage)
    return created
