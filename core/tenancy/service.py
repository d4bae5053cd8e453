"""Tenant lifecycle: create, apply a definition, switch plugins, suspend/resume, delete.

Each function takes the ``PluginHost`` and a ``Database`` and does its work in transactions
bound to the tenant concerned, so the tenant filter and RLS apply to platform work too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import delete, select

from core.audit import record
from core.db.context import Actor
from core.db.engine import Database
from core.grids.models import GridNode
from core.identity.models import User
from core.identity.passwords import hash_password
from core.pluginhost.manager import PluginHost
from core.rbac.models import RoleAssignment
from core.rbac.provisioning import all_actions, declared_roles, ensure_roles  # noqa: F401  (their old home)
from core.tenancy.models import ACTIVE, SUSPENDED, Tenant, TenantDomain, TenantPlugin

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
PLATFORM = Actor("system", None, "platform")


class TenantError(ValueError):
    """A clear, user-facing reason a tenant operation was refused."""


@dataclass
class NodeDef:
    code: str
    parent: str | None
    kind: str
    name: str
    name_en: str = ""


@dataclass
class TenantDefinition:
    slug: str
    name_zh: str
    name_en: str = ""
    locale: str = "zh_Hans"
    domains: list[str] = field(default_factory=list)
    terminology: dict[str, str] = field(default_factory=dict)
    branding: dict[str, Any] = field(default_factory=dict)
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[NodeDef] = field(default_factory=list)
    demo_users: list[dict[str, str]] = field(default_factory=list)
    demo_dir: Path | None = None  # tenants/<slug>/demo/: base data files the demo loads (core/imports/bundle.py)
    demo_community: str | None = None  # the node code where the shared services' demo data goes


def validate_settings(host: PluginHost, plugin: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate against the plugin's declared schema; raises TenantError with msgspec's reason."""
    manifest = host.manifests.get(plugin)
    if manifest is None:
        raise TenantError(f"plugin {plugin!r} is not installed")
    if manifest.settings is None:
        return {}
    try:
        value = msgspec.convert(data, manifest.settings, strict=False)
    except msgspec.ValidationError as exc:
        raise TenantError(str(exc)) from exc
    return msgspec.to_builtins(value)


def _check_slug(slug: str) -> None:
    if not SLUG.match(slug):
        raise TenantError("slug: 2–63 characters, lower-case letters, digits and '-'")


async def get_tenant(db: Database, slug: str) -> Tenant:
    async with db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
    if tenant is None:
        raise TenantError(f"no tenant {slug!r}")
    return tenant


async def create_tenant(
    db: Database,
    host: PluginHost,
    slug: str,
    name_zh: str,
    name_en: str = "",
    locale: str = "zh_Hans",
    actor: Actor = PLATFORM,
) -> Tenant:
    _check_slug(slug)
    if not name_zh.strip():
        raise TenantError("name_zh is required")
    async with db.transaction(None, actor) as s:
        if (await s.execute(select(Tenant.id).where(Tenant.slug == slug))).first():
            raise TenantError(f"a tenant {slug!r} exists already")
        tenant = Tenant(slug=slug, name_zh=name_zh.strip(), name_en=name_en.strip(), locale=locale)
        s.add(tenant)
    async with db.transaction(tenant.id, actor) as s:
        record(s, "tenant.create", "tenants", tenant.id, {"slug": slug, "name_zh": name_zh})
        # Core's own contributions (the built-in roles and their grants: core.rbac.provisioning)
        # come through this hook too, first, as a plugin's would.
        await host.run("on_tenant_created", tenant=tenant, session=s)
    return tenant


async def set_plugin(
    db: Database,
    host: PluginHost,
    tenant: Tenant,
    plugin: str,
    enabled: bool,
    settings: dict[str, Any] | None = None,
    actor: Actor = PLATFORM,
) -> bool:
    """Switch a plugin on/off (and set its settings); returns True if anything changed."""
    async with db.transaction(tenant.id, actor) as s:
        return await switch_plugin(s, host, tenant, plugin, enabled, settings)


async def switch_plugin(
    s: Any, host: PluginHost, tenant: Tenant, plugin: str, enabled: bool, settings: dict[str, Any] | None = None
) -> bool:
    """``set_plugin`` in the caller's transaction (bound to ``tenant``)."""
    if plugin not in host.manifests:
        raise TenantError(f"plugin {plugin!r} is not installed")
    clean = validate_settings(host, plugin, settings or {}) if settings is not None else None
    row = (await s.execute(select(TenantPlugin).where(TenantPlugin.plugin == plugin))).scalar_one_or_none()
    was = bool(row and row.enabled)
    changed = row is None or was != enabled
    if row is None:
        row = TenantPlugin(plugin=plugin, enabled=enabled, settings=clean or validate_settings(host, plugin, {}))
        s.add(row)
    else:
        if was != enabled:
            row.enabled = enabled
        if clean is not None and clean != row.settings:
            row.settings = clean
            changed = True
            _wake_periodic_jobs(s, host, plugin)
    await s.flush()
    if enabled and not was:
        await host.call_one(plugin, "on_plugin_enabled", tenant=tenant, session=s)
    elif was and not enabled:
        await host.call_one(plugin, "on_plugin_disabled", tenant=tenant, session=s)
    return changed


def _wake_periodic_jobs(s: Any, host: PluginHost, plugin: str) -> None:
    """New settings (a period, a reminder time) may bring a job's next due moment forward: the
    plugin's periodic jobs that wait for their next due moment run once the change commits."""
    from core.db.base import utcnow
    from core.services.jobs import slots

    now = utcnow()
    for owner, specs in host.call_sync("register_jobs"):
        if owner == plugin:
            for spec in specs:
                if getattr(spec, "every_seconds", None):
                    slots.wake_after_commit(s, spec.name, now)


async def set_status(db: Database, tenant: Tenant, status: str, actor: Actor = PLATFORM) -> None:
    if status not in (ACTIVE, SUSPENDED):
        raise TenantError(f"unknown status {status!r}")
    async with db.transaction(None, actor) as s:
        row = await s.get(Tenant, tenant.id)
        assert row is not None
        row.status = status
    async with db.transaction(tenant.id, actor) as s:
        record(s, f"tenant.{'resume' if status == ACTIVE else 'suspend'}", "tenants", tenant.id)


async def bump_policy(session: Any, tenant_id: int) -> None:
    """Every process reloads the tenant's role → action table when this counter moves."""
    from core.rbac.subjects import version_bump

    await session.execute(version_bump(tenant_id))


async def apply_definition(db: Database, host: PluginHost, d: TenantDefinition, actor: Actor = PLATFORM) -> list[str]:
    """Bring the database in line with a definition (core/tenancy/plan.py): all of it or, when a
    part is refused, nothing (TenantError with the reasons). Returns what changed."""
    from core.tenancy.plan import apply_plan

    plan = await apply_plan(db, host, d, actor)
    return [f"{c.sign} {c.text}" for c in plan.changes]


async def ensure_user(
    s: Any, username: str, display_name: str, password: str, role: str | None, node: GridNode | None
) -> tuple[User, bool]:
    user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
    created = user is None
    if user is None:
        user = User(username=username, display_name=display_name, password_hash=hash_password(password))
        s.add(user)
        await s.flush()
    if role and node is not None:
        exists = (
            await s.execute(
                select(RoleAssignment.id).where(
                    RoleAssignment.user_id == user.id,
                    RoleAssignment.role_code == role,
                    RoleAssignment.node_id == node.id,
                )
            )
        ).first()
        if not exists:
            s.add(RoleAssignment(user_id=user.id, role_code=role, node_id=node.id, node_path=node.path))
    return user, created


async def delete_tenant(db: Database, owner_db: Database, tenant: Tenant, storage: Any = None) -> dict[str, int]:
    """Remove every row of the tenant (as the owner role: the audit log is not deletable by the app)."""
    from core.db.base import Base, is_tenant_scoped

    counts: dict[str, int] = {}
    async with owner_db.transaction(tenant.id, no_audit=True) as s:
        for table in reversed(Base.metadata.sorted_tables):
            cls = next((m.class_ for m in Base.registry.mappers if m.local_table is table), None)
            if cls is not None and is_tenant_scoped(cls):
                res = await s.execute(delete(cls))
                counts[table.name] = res.rowcount or 0
        from core.services.jobs.models import Job, PeriodicRun

        await s.execute(delete(Job).where(Job.tenant_id == tenant.id))
        await s.execute(delete(PeriodicRun).where(PeriodicRun.tenant_id == tenant.id))
        await s.execute(delete(TenantDomain).where(TenantDomain.tenant_id == tenant.id))
        await s.execute(delete(Tenant).where(Tenant.id == tenant.id))
    if storage is not None:
        storage.delete_tenant(tenant.id)
    return counts
