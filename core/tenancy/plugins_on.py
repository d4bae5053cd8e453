"""The tenant row's mirror of its switched-on plugins (``tenants.plugins_on``, ",a,b,").

``tenant_plugins`` is tenant-owned and behind row-level security, so nothing can read it across
districts — but the job scheduler must know, in one statement over all districts, which ones have a
plugin on. The platform-owned tenant row carries the list instead, kept in step by a flush watch
(every ORM write of a ``TenantPlugin``) and by ``refresh`` for writes that bypass the ORM (restore).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db.flush_watch import watch_model
from core.tenancy.models import Tenant, TenantPlugin


def encode(plugins: set[str] | list[str]) -> str:
    return "".join(f",{p}" for p in sorted(plugins)) + "," if plugins else ""


def has(plugin: str) -> Any:
    """SQL condition: the tenant row says ``plugin`` is on."""
    return Tenant.plugins_on.contains(f",{plugin},", autoescape=True)


def refresh(connection: Any, tenant_id: int) -> None:
    """Re-read the tenant's switched-on plugins (in its own RLS scope) onto its tenant row."""
    on = connection.execute(
        select(TenantPlugin.plugin).where(TenantPlugin.tenant_id == tenant_id, TenantPlugin.enabled.is_(True))
    ).scalars()
    connection.execute(update(Tenant).where(Tenant.id == tenant_id).values(plugins_on=encode(list(on))))


def watch(session_class: type[Session]) -> None:
    watch_model(session_class, TenantPlugin, _plugins_changed)


def _plugins_changed(session: Session, tenant_id: int) -> None:
    refresh(session.connection(), tenant_id)
