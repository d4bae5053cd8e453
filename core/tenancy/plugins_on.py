"""The tenant row's mirror of its switched-on plugins (``tenants.plugins_on``, ",a,b,").

``tenant_plugins`` is tenant-owned and behind row-level security, so nothing can read it across
districts — but the job scheduler must know, in one statement over all districts, which ones have a
plugin on. The platform-owned tenant row carries the list instead, kept in step by a flush watch
(every ORM write of a ``TenantPlugin``) and by ``refresh`` for writes that bypass the ORM (restore).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from core.tenancy.models import Tenant, TenantPlugin

_TOUCHED = "liuzhi.tenancy.plugins_touched"
_WATCHED: set[type[Session]] = set()


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
    if session_class in _WATCHED:
        return
    _WATCHED.add(session_class)

    @event.listens_for(session_class, "before_flush")
    def _note(session: Session, flush_context: Any, instances: Any) -> None:
        tenants = {
            obj.tenant_id or session.info.get("tenant_id")  # a new row is stamped later in the flush
            for objs in (session.new, session.dirty, session.deleted)
            for obj in objs
            if isinstance(obj, TenantPlugin)
        } - {None}
        if tenants:
            session.info.setdefault(_TOUCHED, set()).update(tenants)

    @event.listens_for(session_class, "after_flush")
    def _mirror(session: Session, flush_context: Any) -> None:
        for tenant_id in sorted(session.info.pop(_TOUCHED, ())):
            refresh(session.connection(), tenant_id)
