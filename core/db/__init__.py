"""Database: engine and sessions, the declarative Base, the TenantScoped mixin and its filter."""

from core.db.base import Base, TenantScoped, new_id
from core.db.context import current_actor, current_tenant_id, tenant_context

__all__ = ["Base", "TenantScoped", "current_actor", "current_tenant_id", "new_id", "tenant_context"]
