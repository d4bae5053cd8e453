"""Domain events: a plugin or a service emits one, every enabled plugin's ``on_event`` hears it.

Audit is written by core on flush regardless; events are for notifications and live updates.

Two ways to emit:

- ``emit(session, Event(...))`` queues the event on the caller's session: it is delivered to
  ``on_event`` after that session commits and dropped if it rolls back, so a listener never hears
  of something that did not happen. The shared services emit this way. (Stand-in until the
  kernel's outbox lands: delivery needs ``session.info["app_state"]``; without it the events are
  dropped after commit, as there is no plugin host to tell.)
- ``await emit(app_state, tenant_id, enabled, event)`` delivers at once (the older form).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from core.db.context import Actor
from core.db.engine import TenantSession

log = logging.getLogger("liuzhi.events")
_PENDING = "liuzhi.events.pending"


@dataclass(frozen=True)
class Event:
    name: str  # "<plugin or service>.<thing>.<what happened>", e.g. "ledger.posting.created"
    payload: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None


class _Queued:
    """What ``emit(session, event)`` returns: awaiting it is allowed and does nothing more."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover  (makes this a generator)


def emit(target: Any, *args: Any) -> Any:
    """``emit(session, event)`` queues until commit; ``emit(app_state, tenant_id, enabled, event)`` delivers now."""
    if len(args) == 1 and isinstance(args[0], Event) and isinstance(target, AsyncSession | Session):
        sync = target.sync_session if isinstance(target, AsyncSession) else target
        sync.info.setdefault(_PENDING, {}).setdefault(_innermost(sync), []).append(args[0])
        return _Queued()
    return _deliver_now(target, *args)


def _innermost(sync: Session) -> SessionTransaction:
    """Events belong to the innermost transaction: a rolled-back savepoint drops only its own."""
    return sync.get_nested_transaction() or sync.get_transaction() or sync.begin()


async def _deliver_now(app_state: Any, tenant_id: int, enabled: Any, event: Event) -> list[tuple[str, Any]]:
    """Deliver ``event`` to the tenant's enabled plugins; one failing listener does not stop the rest."""
    return await app_state.plugins.call_safely(
        "on_event", enabled, tenant_id=tenant_id, event=event, app_state=app_state
    )


def pending(session: AsyncSession | Session) -> list[Event]:
    """The events queued on ``session`` and not yet delivered (for tests and the outbox)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    return [ev for queued in sync.info.get(_PENDING, {}).values() for ev in queued]


async def _deliver_after_commit(app_state: Any, tenant_id: int, events: list[Event]) -> None:
    from core.services.notifications.service import _enabled_plugins

    async with app_state.db.session(tenant_id) as s:
        enabled = await _enabled_plugins(s)
    for ev in events:
        await _deliver_now(app_state, tenant_id, enabled, ev)


@sa_event.listens_for(TenantSession, "after_commit")
def _after_commit(session: Session) -> None:
    queues = session.info.get(_PENDING)
    if not queues:
        return
    trans = _innermost(session)
    committed = queues.pop(trans, [])
    if trans.parent is not None:  # a savepoint: its events now wait for the enclosing transaction
        queues.setdefault(trans.parent, []).extend(committed)
        return
    events = committed if committed else [ev for queued in queues.values() for ev in queued]
    session.info.pop(_PENDING, None)
    app_state, tenant_id = session.info.get("app_state"), session.info.get("tenant_id")
    if not events or app_state is None or tenant_id is None:
        return
    try:
        asyncio.get_running_loop().create_task(_deliver_after_commit(app_state, tenant_id, events))
    except RuntimeError:  # no loop (a synchronous caller): nobody to deliver to here
        log.warning("events %s committed outside an event loop; not delivered", [e.name for e in events])


@sa_event.listens_for(TenantSession, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    queues = session.info.get(_PENDING)
    if queues:
        queues.pop(previous_transaction, None)
        if previous_transaction.parent is None:
            session.info.pop(_PENDING, None)
