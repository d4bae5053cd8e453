"""RBAC's part of a new tenant: the built-in roles (core's and those plugins declare through
``register_roles``) and their default grants. Contributed through the ``on_tenant_created`` hook
like a plugin's preparation (``RolesOnTenantCreated``, registered by every ``PluginHost``), and
re-run, add-only, when a tenant definition is applied."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.pluginhost.manifest import Action, DeclaredRole
from core.pluginhost.markers import hookimpl
from core.rbac.defaults import BUILTIN_ROLES, CORE_ACTIONS, default_rules
from core.rbac.models import Role, RolePermission

if TYPE_CHECKING:
    from core.pluginhost.manager import PluginHost


class PluginError(RuntimeError):
    """A plugin declared something that is not a role."""


def all_actions(host: PluginHost) -> list[Action]:
    actions = list(CORE_ACTIONS)
    for manifest in host.manifests.values():
        actions.extend(manifest.actions)
    return actions


def declared_roles(host: PluginHost) -> list[DeclaredRole]:
    """Core's built-in roles, then those the installed plugins declare (first declaration wins)."""
    roles = [DeclaredRole(code, zh, en) for code, zh, en in BUILTIN_ROLES]
    seen = {r.code for r in roles}
    for plugin, result in host.call_sync("register_roles"):
        for role in result if isinstance(result, list | tuple) else [result]:
            if not isinstance(role, DeclaredRole):
                raise PluginError(f"{plugin}: register_roles() must return DeclaredRole objects")
            if role.code not in seen:
                seen.add(role.code)
                roles.append(role)
    return roles


async def ensure_roles(session: Any, host: PluginHost) -> None:
    """Built-in roles (core's and the plugins') and their default grants; a tenant's own edits are
    kept (add-only)."""
    roles = declared_roles(host)
    have_roles = set((await session.execute(select(Role.code))).scalars())
    for role in roles:
        if role.code not in have_roles:
            session.add(Role(code=role.code, name_zh=role.title_zh, name_en=role.title_en, builtin=True))
    have_rules = {tuple(r) for r in await session.execute(select(RolePermission.role_code, RolePermission.action))}
    for role, action in sorted(default_rules(all_actions(host), roles) - have_rules):
        session.add(RolePermission(role_code=role, action=action))


class RolesOnTenantCreated:
    """Core's helper plugin: every new tenant gets the built-in roles and their grants before any
    plugin's ``on_tenant_created`` runs (``tryfirst``)."""

    __liuzhi_name__ = "core.rbac.provisioning"

    def __init__(self, host: PluginHost) -> None:
        self.host = host

    @hookimpl(tryfirst=True)
    async def on_tenant_created(self, tenant: Any, session: Any) -> None:
        await ensure_roles(session, self.host)
