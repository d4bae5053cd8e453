"""Act on the tenants whose rows of one model a flush wrote, whoever wrote them.

``watch_model(session_class, Model, act)``: before each flush the tenants of new, changed or deleted
``Model`` rows are noted; after the flush, still inside its transaction, ``act(session, tenant_id)``
runs once per tenant. Used where a derived value must follow every write path (a policy version, a
mirror on the tenant row), not only the callers someone remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_INSTALLED: set[tuple[type[Session], type, Callable[..., Any]]] = set()


def watch_model(session_class: type[Session], model: type, act: Callable[[Session, int], None]) -> None:
    key = (session_class, model, act)
    if key in _INSTALLED:
        return
    _INSTALLED.add(key)
    slot = f"liuzhi.flush_watch.{model.__name__}.{act.__qualname__}"

    @event.listens_for(session_class, "before_flush")
    def _note(session: Session, flush_context: Any, instances: Any) -> None:
        tenants = {
            obj.tenant_id or session.info.get("tenant_id")  # a new row is stamped later in the flush
            for objs in (session.new, session.dirty, session.deleted)
            for obj in objs
            if isinstance(obj, model)
        } - {None}
        if tenants:
            session.info.setdefault(slot, set()).update(tenants)

    @event.listens_for(session_class, "after_flush")
    def _act(session: Session, flush_context: Any) -> None:
        for tenant_id in sorted(session.info.pop(slot, ())):
            act(session, tenant_id)
