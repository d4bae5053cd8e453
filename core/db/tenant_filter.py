"""The one rule that keeps tenants apart in the ORM: filter every query, stamp every insert.

A session is bound to one tenant (``session.info["tenant_id"]``); with none bound, tenant-owned
rows are invisible and cannot be written. PostgreSQL row-level security is the second wall for
what the ORM cannot see (Core ``text()``, raw SQL): see ``rls.py``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import event, false
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from core.db.base import TenantScoped, new_id


class TenantViolation(RuntimeError):
    """A write for another tenant, or a tenant-owned write with no tenant bound."""


def session_tenant(session: Session) -> int | None:
    return session.info.get("tenant_id")


@lru_cache(maxsize=4096)
def _criteria(tenant_id: int | None) -> Any:
    """One option object per tenant, reused: building it per statement costs more than the query."""
    if tenant_id is None:
        return with_loader_criteria(TenantScoped, lambda cls: false(), include_aliases=True)
    return with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)


def install(session_class: type[Session]) -> None:
    event.listen(session_class, "do_orm_execute", _filter)
    event.listen(session_class, "before_flush", _stamp)


def _filter(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return  # criteria were already added to the parent statement
    if state.execution_options.get("all_tenants"):
        return  # platform export/purge; RLS still applies on PostgreSQL
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(_criteria(session_tenant(state.session)))


def _stamp(session: Session, flush_context: Any, instances: Any) -> None:
    tenant_id = session_tenant(session)
    allow_any = session.info.get("all_tenants", False)
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            _stamp_tenant_owned(obj, tenant_id, allow_any)
        else:
            _stamp_shared(obj)
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id and not allow_any:
            raise TenantViolation(f"{type(obj).__name__}: change to another tenant's row")


def _stamp_tenant_owned(obj: TenantScoped, tenant_id: int | None, allow_any: bool) -> None:
    """A new tenant-owned row takes the session's tenant and an id; another tenant's is refused."""
    if obj.tenant_id is None:
        if tenant_id is None:
            raise TenantViolation(f"{type(obj).__name__}: no tenant bound to session")
        obj.tenant_id = tenant_id
    elif obj.tenant_id != tenant_id and not allow_any:
        raise TenantViolation(f"{type(obj).__name__}: insert for another tenant")
    if obj.id is None:
        obj.id = new_id()


def _stamp_shared(obj: Any) -> None:
    """A new platform row gets an id only if its table declares an id column with a default."""
    if getattr(obj, "id", 1) is None and hasattr(type(obj), "__table__"):
        col = type(obj).__table__.c.get("id")
        if col is not None and col.default is not None:
            obj.id = new_id()
