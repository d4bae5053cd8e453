"""Domain events and core's after-commit outbox: a plugin or a service emits an event, every
enabled plugin's ``on_event`` hears it once the change is committed.

Audit is written by core on flush regardless; events are for notifications and live updates.

- ``emit(session, Event(...))`` queues the event on the caller's session. After that session
  commits, the outbox delivers it to the ``on_event`` of the plugins the tenant has enabled, with an
  ``EventContext``; if it rolls back (or a savepoint is rolled back) the event is dropped, so a
  listener never hears of something that did not happen. Sessions of the app's ``Database`` carry
  ``info["app_state"]`` (set by the app, and by the job runner to the job's context): delivery goes
  through its ``plugins``. ``await delivered()`` waits for deliveries under way (tests, jobs).
- ``await emit(app_state, tenant_id, enabled, event)`` delivers at once (the older form).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from core.db.context import Actor
from core.db.engine import TenantSession

log = logging.getLogger("liuzhi.events")
_PENDING = "liuzhi.events.pending"
APP_STATE = "app_state"  # session.info key: what deliveries go through (the app's state, a job's context)
# session.info key: the tenant's enabled plugins when the session's opener knows them (a request's
# tenant config); deliveries then read nothing more from the database.
ENABLED = "liuzhi.events.enabled"
# Deliveries under way. asyncio keeps only weak references to tasks: without this a delivery could
# be collected half-way; ``delivered()`` awaits them.
_IN_FLIGHT: set[asyncio.Task[Any]] = set()


@dataclass(frozen=True)
class Event:
    name: str  # "<plugin or service>.<thing>.<what happened>", e.g. "ledger.posting.created"
    payload: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None


@dataclass(frozen=True)
class EventContext:
    """What ``on_event`` gets besides the event: the tenant, its enabled plugins, and the services
    of whoever delivers it (the app, or a job's context)."""

    tenant_id: int
    enabled: frozenset[str]
    plugins: Any  # the PluginHost
    channels: Any = None  # litestar ChannelsPlugin for live updates; None where there is none
    db: Any = None  # core.db.engine.Database

    @classmethod
    def of(cls, app_state: Any, tenant_id: int, enabled: Iterable[str] | None) -> EventContext:
        return cls(
            tenant_id,
            frozenset(enabled if enabled is not None else getattr(app_state.plugins, "manifests", ())),
            app_state.plugins,
            getattr(app_state, "channels", None),
            getattr(app_state, "db", None),
        )


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
    context = EventContext.of(app_state, tenant_id, enabled)
    return await app_state.plugins.run(
        "on_event", enabled, tenant_id=tenant_id, event=event, context=context, app_state=app_state
    )


def pending(session: AsyncSession | Session) -> list[Event]:
    """The events queued on ``session`` and not yet delivered (for tests and the outbox)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    return [ev for queued in sync.info.get(_PENDING, {}).values() for ev in queued]


async def _deliver_after_commit(
    app_state: Any, tenant_id: int, events: list[Event], enabled: frozenset[str] | None = None
) -> None:
    try:
        db = getattr(app_state, "db", None)
        if enabled is None and db is not None:
            enabled = frozenset(await enabled_plugins(db, tenant_id))
        for ev in events:
            await _deliver_now(app_state, tenant_id, enabled, ev)
    except Exception:  # an announcement is a nicety: the committed change stands regardless
        log.exception("events %s of tenant %s not delivered", [e.name for e in events], tenant_id)


async def enabled_plugins(db: Any, tenant_id: int) -> set[str]:
    """The plugins ``tenant_id`` has switched on, read in a session of its own."""
    from sqlalchemy import select

    from core.tenancy.models import TenantPlugin

    async with db.session(tenant_id) as s:
        return set((await s.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True)))).scalars())


async def delivered() -> None:
    """Wait until the events of committed transactions have reached their listeners."""
    while _IN_FLIGHT:
        await asyncio.gather(*list(_IN_FLIGHT), return_exceptions=True)


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
    app_state, tenant_id = session.info.get(APP_STATE), session.info.get("tenant_id")
    if not events or app_state is None or tenant_id is None:
        return
    try:
        enabled = session.info.get(ENABLED)
        task = asyncio.get_running_loop().create_task(_deliver_after_commit(app_state, tenant_id, events, enabled))
        _IN_FLIGHT.add(task)
        task.add_done_callback(_IN_FLIGHT.discard)
    except RuntimeError:  # no loop (a synchronous caller): nobody to deliver to here
        log.warning("events %s committed outside an event loop; not delivered", [e.name for e in events])


@sa_event.listens_for(TenantSession, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    queues = session.info.get(_PENDING)
    if queues:
        queues.pop(previous_transaction, None)
        if previous_transaction.parent is None:
            session.info.pop(_PENDING, None)
