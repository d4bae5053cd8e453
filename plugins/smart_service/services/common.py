"""What every use case of the event lifecycle shares: the refusals, the lifecycle's view of an event,
reading events and their timeline, checks of photos and categories, the stage limits, and the
announcement of a change through core's outbox (after commit, never on rollback)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.context import Actor
from core.identity.models import User
from core.services.events import APP_STATE, delivered, emit
from core.services.events import Event as CoreEvent
from core.services.files.models import StoredFile
from plugins.smart_service import lifecycle, sla
from plugins.smart_service.lifecycle import (
    ACTION_LABELS,
    Case,
    State,
    TransitionError,
    lazy,
)
from plugins.smart_service.models import (
    Category,
    Event,
    EventTransition,
)

log = logging.getLogger("liuzhi.smart_service")


NUMBER_PREFIX = "SL"
SLA_ACTOR = Actor("system", None, "SLA")
PHONE_PURPOSE = "smart_service.reporter_phone"
TOP_DOWN_SOURCES = ("hotline_12345", "superior")  # arrive at the command centre (level 1)
DATA_KEYS = frozenset({"hours", "rating", "into", "unit_id", "assignee_user_id"})
SLA_JOB = "smart_service.sla"  # suggested JobSpec name for ``sla_job``
PUBLISH = lifecycle.PERMISSION_PREFIX + "publish"  # write the status note for residents
MAX_PUBLIC_NOTE = 500


class StaleEvent(TransitionError):
    """Someone changed the event since it was loaded."""


class NotAllowed(TransitionError):
    """The actor may not do this to this event (RBAC, or not the assignee / reporter)."""


class InvalidInput(TransitionError):
    """A value given to a service is missing or wrong (title, category, unit, photo …)."""


class DispatchError(TransitionError):
    """No handling unit could be found for the event."""


class EventNotFound(LookupError):
    """No such event in this tenant (routes answer 404)."""


def case_of(event: Event) -> Case:
    """The lifecycle's view of an event."""
    return Case(
        state=State(event.state),
        id=event.id,
        pending=event.pending,
        parked_from=State(event.parked_from) if event.parked_from else None,
        rework_count=event.rework_count or 0,
        rated=event.rating is not None,
    )


def allowed_actions(event: Event) -> list[str]:
    """Actions possible on ``event`` now (before permissions and inputs): for its buttons."""
    return lifecycle.allowed(case_of(event))


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = (await session.execute(select(Event).where(Event.id == int(event_id)))).scalar_one_or_none()
    if event is None:
        raise EventNotFound(event_id)
    return event


async def get_by_number(session: AsyncSession, number: str) -> Event:
    event = (await session.execute(select(Event).where(Event.number == number))).scalar_one_or_none()
    if event is None:
        raise EventNotFound(number)
    return event


async def timeline(session: AsyncSession, event_id: int) -> list[EventTransition]:
    """The event's transitions, oldest first."""
    rows = await session.execute(
        select(EventTransition)
        .where(EventTransition.event_id == event_id)
        .order_by(EventTransition.at, EventTransition.id)
    )
    return list(rows.scalars())


def _authorise(rule: lifecycle.Rule, event: Event, actor: Actor, can: Callable[[str, str | None], bool] | None) -> None:
    label = ACTION_LABELS[rule.action]
    if can is not None and not can(rule.permission, event.node_path):
        raise NotAllowed(lazy('You may not "%(action)s" this event'), action=label)
    if rule.assignee_only and event.assignee_user_id is not None and actor.id != event.assignee_user_id:
        raise NotAllowed(lazy('Only the person it is assigned to may "%(action)s" this event'), action=label)
    if rule.reporter_only and event.reporter_user_id is not None and actor.id != event.reporter_user_id:
        raise NotAllowed(lazy('Only the person who reported it may "%(action)s" this event'), action=label)


async def _check_photos(session: AsyncSession, photos: Iterable[int]) -> list[int]:
    ids = [int(p) for p in photos]
    if not ids:
        return ids
    found = set(
        (
            await session.execute(
                select(StoredFile.id).where(StoredFile.id.in_(ids), StoredFile.content_type.startswith("image/"))
            )
        ).scalars()
    )
    missing = [p for p in ids if p not in found]
    if missing:
        raise InvalidInput(lazy("Photo %(id)s was not found"), id=missing[0])
    return ids


async def _category(session: AsyncSession, code: str) -> Category | None:
    return (await session.execute(select(Category).where(Category.code == code))).scalar_one_or_none()


def _limit(category: Category | None, stage: str, urgency: int, *, from_dispatch: bool = True) -> float:
    if category is None:
        return sla.limit_hours(stage, urgency, from_dispatch=from_dispatch)
    return sla.limit_hours(
        stage,
        urgency,
        category.time_limits,
        category.urgent_time_limits,
        category.critical_time_limits,
        from_dispatch=from_dispatch,
    )


def charged_party(event: Event, actor: Actor | None) -> dict[str, Any]:
    """Who a late stage is charged to: the handling clock (派遣 → 反馈) to the unit (and person) it
    was dispatched to; a stage before or after it (受理, 立案/派遣, 核查) to whoever ended it late —
    a late 受理 is the accepter's, not the handling unit's."""
    if event.stage == "handle":
        return {"charged_unit_id": event.handling_unit_id, "charged_user_id": event.assignee_user_id}
    user_id = actor.id if actor is not None and actor.kind == "user" else None
    return {"charged_unit_id": None, "charged_user_id": user_id}


async def _actor_name(session: AsyncSession, actor: Actor | None) -> str:
    if actor is None:
        return ""
    if actor.kind == "user" and actor.id is not None:
        name = await session.scalar(select(User.display_name).where(User.id == actor.id))
        if name:
            return str(name)
    return actor.name


async def _announce(
    session: AsyncSession,
    app_state: Any,
    enabled: Iterable[str] | None,
    action: str,
    event: Event,
    actor: Actor | None,
    extra: dict[str, Any],
) -> None:
    """Queue ``smart_service.event.<action>`` on the session: core delivers it to the tenant's
    enabled plugins once the transaction commits, never on rollback. (``enabled`` is kept for
    callers; core reads the tenant's enabled plugins when it delivers.)"""
    if app_state is None:
        return
    payload = {
        "id": event.id,
        "number": event.number,
        "action": action,
        "from": extra.get("from"),
        "state": event.state,
        "node_path": event.node_path,
        "level": event.level,
        "handling_unit_id": event.handling_unit_id,
        "assignee_user_id": event.assignee_user_id,
        "due_at": event.due_at.isoformat() if event.due_at else None,
        "version": event.version,
    }
    session.info[APP_STATE] = app_state  # the emitter's host and channels deliver it
    emit(session, CoreEvent(f"smart_service.event.{action}", payload, actor))
    from plugins.smart_service import notifications  # (it reads the services: imported late)

    await notifications.queue_telling(session, session.info["tenant_id"], action, event.id, actor)


async def announcements_sent() -> None:
    """Deprecated: ``core.services.events.delivered()``. Wait until committed changes are announced."""
    await delivered()
