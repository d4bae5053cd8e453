"""Moving an event along the lifecycle (lifecycle.py's table): checks, the deadline's clock, the
timeline line, and what a step owes outside the event (an outside work order's reply)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from core.db.base import new_id, utcnow
from core.db.context import Actor
from plugins.smart_service import lifecycle, sla
from plugins.smart_service.lifecycle import (
    Clock,
    lazy,
)
from plugins.smart_service.models import (
    Event,
    EventTransition,
)
from plugins.smart_service.services import effects
from plugins.smart_service.services.common import (
    DATA_KEYS,
    StaleEvent,
    _actor_name,
    _announce,
    _authorise,
    _category,
    _check_photos,
    case_of,
    get_event,
)
from plugins.smart_service.services.dispatch import _dispatch_choice
from plugins.smart_service.services.duplicates import _merge, _merge_target

CALENDAR_CLOCKS = (Clock.START, Clock.PAUSE, Clock.RESUME, Clock.EXTEND)  # steps that read working time


async def transition(
    session: AsyncSession,
    event: Event | int,
    action: str,
    actor: Actor,
    note: str | None = None,
    photos: Iterable[int] = (),
    *,
    version: int | None = None,
    can: Callable[[str, str | None], bool] | None = None,
    app_state: Any = None,
    enabled: Iterable[str] | None = None,
    now: datetime | None = None,
    **data: Any,
) -> EventTransition:
    """Do ``action`` on ``event`` (an Event or its id) as ``actor``; return the new timeline line.

    ``version`` is the version the actor saw (a form's hidden field): if the event has moved on,
    ``StaleEvent``. Inputs by action: ``unit_id`` / ``assignee_user_id`` (dispatch, redispatch;
    neither: the dispatch catalogue decides), ``into`` (merge: the target event or its id),
    ``hours`` (request_extension), ``rating`` (rate; revisit may record one too), photos
    (feedback: StoredFile ids of the "after" photos). The new stage's deadline comes from the
    category's time limits in working time.
    """
    _check_call(action, data)
    now = now or utcnow()
    if not isinstance(event, Event):
        event = await get_event(session, int(event))
    if version is not None and int(version) != event.version:
        raise StaleEvent(lazy("This event was changed by someone else: reload it and try again"))
    rule = lifecycle.rule_for(event.state, action)
    if can is not None and await _works_the_unit(session, rule, event, actor):
        can = None  # membership of the handling unit is the authority for its queue's work
    _authorise(rule, event, actor, can)
    photo_ids = await _check_photos(session, photos)
    target = await _merge_target(session, data.get("into")) if action == "merge" else None
    step = lifecycle.apply(
        case_of(event),
        action,
        note=note,
        photos=photo_ids,
        hours=data.get("hours"),
        target=case_of(target) if target is not None else None,
        rating=data.get("rating"),
    )
    if action == "revisit" and data.get("rating") is not None and not 1 <= int(data["rating"]) <= 5:
        raise lifecycle.MissingInput(lazy("Give a rating from 1 to 5"))

    # Everything that can refuse is decided before the first write.
    assignment = await _assignment(session, event, action, data)
    calendar = await sla.load_calendar(session) if step.clock in CALENDAR_CLOCKS else None
    category = await _category(session, event.category_code) if step.clock is Clock.START else None
    actor_name = await _actor_name(session, actor)
    move = effects.Move(event, step, actor, now, data, calendar)
    # No flush until all changes are made: a stale version must surface below, as StaleEvent.
    with session.no_autoflush:
        from_state = event.state
        effects.note_deadline(move)
        if assignment is not None:
            _assign(move, assignment)
        if target is not None:
            await _merge(session, event, target)
            move.info.update(into=target.id, into_number=target.number)
        effects.apply_effect(move)
        effects.set_clock(move, category)
        effects.settle(move)
        row = EventTransition(
            id=new_id(),
            event_id=event.id,
            from_state=from_state,
            to_state=event.state,
            action=action,
            actor_user_id=actor.id if actor.kind == "user" else None,
            actor_name=actor_name,
            note=step.inputs["note"],
            at=now,
            photos=photo_ids,
            data=move.info,
        )
        session.add(row)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise StaleEvent(lazy("This event was changed by someone else: reload it and try again")) from exc
    await _follow_up(session, event, row)
    await _announce(session, app_state, enabled, action, event, actor, {"from": from_state})
    return row


def _check_call(action: str, data: dict[str, Any]) -> None:
    unknown = set(data) - DATA_KEYS
    if unknown:
        raise TypeError(f"unknown inputs for transition: {sorted(unknown)}")
    if action == "me_too":
        raise ValueError("我也遇到 is counted by services.me_too, which does not move the event's version")


async def _assignment(
    session: AsyncSession, event: Event, action: str, data: dict[str, Any]
) -> tuple[int | None, int, int | None] | None:
    """Who the event goes to on a dispatch or a return (unit id, level, assignee); None otherwise."""
    if action in ("dispatch", "redispatch"):
        return await _dispatch_choice(session, event, data)
    if action == "return":
        return await _return_choice(session, event)
    return None


def _assign(move: effects.Move, assignment: tuple[int | None, int, int | None]) -> None:
    event = move.event
    unit_id, level, assignee = assignment
    move.info.update(
        from_unit_id=event.handling_unit_id,
        from_level=event.level,
        from_assignee_user_id=event.assignee_user_id,
        unit_id=unit_id,
        level=level,
        assignee_user_id=assignee,
    )
    event.handling_unit_id, event.level, event.assignee_user_id = unit_id, level, assignee


# Transitions a member of the event's handling unit may do on the strength of that membership.
UNIT_WORK = frozenset({"sign", "handle", "feedback", "return", "request_extension", "request_park"})


async def _works_the_unit(session: AsyncSession, rule: lifecycle.Rule, event: Event, actor: Actor) -> bool:
    if rule.action not in UNIT_WORK or event.handling_unit_id is None or actor.kind != "user" or actor.id is None:
        return False
    from plugins.smart_service import units

    return await units.is_member(session, event.handling_unit_id, actor.id)


async def _follow_up(session: AsyncSession, event: Event, row: EventTransition) -> None:
    """What a step owes outside the event, in the same transaction: the reply and closure an
    outside work order (12345, 上级交办) is waiting for."""
    from plugins.smart_service import workorders

    await workorders.after_step(session, event, row)


async def _return_choice(session: AsyncSession, event: Event) -> tuple[int | None, int, int | None]:
    """退单 goes back to whoever dispatched: a person it was sent to returns it to their unit; a unit
    (or the member who signed for it) returns it to the unit (or command centre) that dispatched it."""
    last = (
        await session.execute(
            select(EventTransition)
            .where(EventTransition.event_id == event.id, EventTransition.action.in_(("dispatch", "redispatch")))
            .order_by(EventTransition.at.desc(), EventTransition.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if event.assignee_user_id is not None and (last is None or last.data.get("assignee_user_id")):
        return event.handling_unit_id, event.level, None  # sent to a person: back to their unit
    if last is None:
        return event.handling_unit_id, event.level, None
    # Sent to a unit (a member signed for it): back to the unit or centre that dispatched it.
    return last.data.get("from_unit_id"), int(last.data.get("from_level") or event.level), None
