"""Per-task context: the current tenant and actor, set once per request or job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit log."""

    kind: str  # "user" | "operator" | "system" | "token"
    id: int | None
    name: str


_tenant: ContextVar[int | None] = ContextVar("liuzhi_tenant", default=None)
_actor: ContextVar[Actor | None] = ContextVar("liuzhi_actor", default=None)
# Platform work (operators, migrations) that must see no tenant's rows through the ORM filter
# sets no tenant at all; the filter then matches nothing.


def current_tenant_id() -> int | None:
    return _tenant.get()


def current_actor() -> Actor | None:
    return _actor.get()


@contextmanager
def tenant_context(tenant_id: int | None, actor: Actor | None = None) -> Iterator[None]:
    t_token = _tenant.set(tenant_id)
    a_token = _actor.set(actor) if actor is not None else None
    try:
        yield
    finally:
        _tenant.reset(t_token)
        if a_token is not None:
            _actor.reset(a_token)


def set_tenant(tenant_id: int | None) -> None:
    _tenant.set(tenant_id)


def set_actor(actor: Actor | None) -> None:
    _actor.set(actor)
