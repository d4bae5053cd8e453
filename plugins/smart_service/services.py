"""Use cases of the event lifecycle: report, transition, duplicates (我也遇到), the dispatch catalogue
(派单目录) and SLA escalation. Routes, Open311, the board and jobs call these; nothing else writes
events.

Conventions:

- Every function takes an ``AsyncSession`` bound to the tenant and writes in the caller's
  transaction: the caller commits (a route: ``await c.db.commit()``; a job: by returning).
- A refusal is a ``lifecycle.TransitionError`` (``IllegalTransition``, ``MissingInput``, and here
  ``StaleEvent``, ``NotAllowed``, ``InvalidInput``, ``DispatchError``): an English sentence, shown
  translated with ``exc.translated(_)``. Everything is checked before the first write, so a refusal
  leaves nothing behind; roll the transaction back all the same (a stale version is only found
  when the UPDATE runs).
- ``actor`` is ``core.db.context.Actor`` (routes: ``ctx(request).actor``). ``can`` is optional: give
  ``ctx(request).can`` and the service checks the rule's RBAC action at the event's node.
- Given an ``app_state`` (anything with ``.plugins``: ``request.app.state``, a ``JobContext``), each
  change is announced to the tenant's enabled plugins' ``on_event`` as
  ``smart_service.event.<action>`` through core's outbox (``core.services.events.emit``) — once the
  caller's transaction commits, never on rollback.
  Without one nothing is announced, so services are testable without an app.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from core.audit import record
from core.db.base import new_id, utcnow
from core.db.context import Actor
from core.grids import geo, validation
from core.grids.models import GridNode
from core.identity.models import User
from core.services.events import APP_STATE, delivered, emit
from core.services.events import Event as CoreEvent
from core.services.files.models import StoredFile
from plugins.smart_service import lifecycle, sla
from plugins.smart_service.lifecycle import (
    ACTION_LABELS,
    OPEN,
    STAGE_OF,
    Case,
    Clock,
    State,
    TransitionError,
    lazy,
)
from plugins.smart_service.models import (
    MAX_DESCRIPTION,
    SOURCES,
    URGENCIES,
    Category,
    Counter,
    DispatchRule,
    Event,
    EventTransition,
    HandlingUnit,
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


# ---- reporting ---------------------------------------------------------------------------------


async def report_event(
    session: AsyncSession,
    *,
    title: str,
    category_code: str,
    node_id: int,
    source: str,
    actor: Actor | None = None,
    description: str = "",
    lon: float | Decimal | None = None,
    lat: float | Decimal | None = None,
    address: str = "",
    urgency: int | None = None,
    photos: Iterable[int] = (),
    reporter_resident_id: int | None = None,
    reporter_name: str = "",
    reporter_phone: str | None = None,
    vault: Any = None,
    level: int | None = None,
    now: datetime | None = None,
    app_state: Any = None,
    enabled: Iterable[str] | None = None,
    prefix: str = NUMBER_PREFIX,
) -> Event:
    """Create an event in ``reported`` with its number, the 受理 deadline and the first timeline line.

    ``node_id`` is where it happened (the lowest grid node containing it). ``level`` defaults to the
    community (3), or the command centre (1) for hotline and superior sources. A reporter's phone
    is stored encrypted with ``vault`` (``request.app.state.vault``) and shown masked.
    """
    now = now or utcnow()
    title = (title or "").strip()
    if not title:
        raise InvalidInput(lazy("Give the event a title"))
    if len(title) > 200:
        raise InvalidInput(lazy("The title is too long (at most %(max)s characters)"), max=200)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(lazy("The description is too long (at most %(max)s characters)"), max=MAX_DESCRIPTION)
    if source not in SOURCES:
        raise InvalidInput(lazy("Unknown source of the report: %(source)s"), source=source)
    category = await _category(session, category_code)
    if category is None or not category.active:
        raise InvalidInput(lazy("Choose a category"))
    node = (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise InvalidInput(lazy("Choose where the event happened"))
    lon_d, lat_d = _coordinates(lon, lat)
    urgency = category.urgency if urgency is None else int(urgency)
    if urgency not in URGENCIES:
        raise InvalidInput(lazy("Urgency is 1 (normal), 2 (urgent) or 3 (critical)"))
    if level is not None and level not in (1, 2, 3):
        raise InvalidInput(lazy("The handling level is 1, 2 or 3"))
    photo_ids = await _check_photos(session, photos)
    phone_enc, phone_masked = _phone(reporter_phone, vault)

    calendar = await sla.load_calendar(session)
    number = await next_number(session, now, prefix, calendar)
    event = Event(
        id=new_id(),
        number=number,
        title=title,
        description=description,
        category_code=category.code,
        source=source,
        urgency=urgency,
        reporter_user_id=actor.id if actor is not None and actor.kind == "user" else None,
        reporter_resident_id=reporter_resident_id,
        reporter_name=(reporter_name or "").strip()[:100],
        reporter_phone_enc=phone_enc,
        reporter_phone_masked=phone_masked,
        lon=lon_d,
        lat=lat_d,
        address=(address or "").strip()[:300],
        node_id=node.id,
        node_path=node.path,
        state=State.REPORTED.value,
        level=level or (1 if source in TOP_DOWN_SOURCES else 3),
        stage=STAGE_OF[State.REPORTED],
        stage_started_at=now,
        clock_seq=1,
        due_at=sla.add_working_hours(now, _limit(category, STAGE_OF[State.REPORTED], urgency), calendar),
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    session.add(
        EventTransition(
            event_id=event.id,
            from_state=None,
            to_state=event.state,
            action="report",
            actor_user_id=event.reporter_user_id,
            actor_name=await _actor_name(session, actor) or event.reporter_name,
            at=now,
            photos=photo_ids,
            data={"source": source, "number": number},
        )
    )
    await session.flush()
    await _announce(session, app_state, enabled, "report", event, actor, {"from": None})
    return event


def _coordinates(lon: Any, lat: Any) -> tuple[Decimal | None, Decimal | None]:
    if lon is None and lat is None:
        return None, None
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput(lazy("Give both longitude and latitude, or neither")) from None
    if not (-180 <= lon_f <= 180 and -90 <= lat_f <= 90) or math.isnan(lon_f) or math.isnan(lat_f):
        raise InvalidInput(lazy("The location is not on the map"))
    return Decimal(f"{lon_f:.6f}"), Decimal(f"{lat_f:.6f}")


def _phone(raw: str | None, vault: Any) -> tuple[bytes | None, str | None]:
    if not raw or not raw.strip():
        return None, None
    try:
        value = validation.check_phone(raw)
        masked = validation.mask_phone(value)
    except validation.InvalidValue:
        value = re.sub(r"[\s-]", "", raw.strip())
        if not re.fullmatch(r"\+?\d{5,20}", value):
            raise InvalidInput(lazy("The phone number is not valid")) from None
        masked = "*" * (len(value) - 4) + value[-4:]
    if vault is None:
        raise ValueError("a vault is needed to store a reporter's phone")
    return vault.encrypt(value, PHONE_PURPOSE.encode()), masked


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def bump_counter(session: AsyncSession, key: str) -> int:
    """Increment the tenant's counter ``key`` and return the new value; safe under concurrency.

    ``UPDATE … SET value = value + 1 RETURNING value`` serialises concurrent callers on the row
    (PostgreSQL row lock, SQLite write lock); the first use of a key inserts it, and a concurrent
    first use that loses the insert (ON CONFLICT DO NOTHING) goes back to the UPDATE.
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise ValueError("the session is bound to no tenant")
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    for _ in range(5):
        bumped = await session.execute(
            update(Counter)
            .where(Counter.key == key)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
            .execution_options(synchronize_session=False)
        )
        value = bumped.scalar_one_or_none()
        if value is not None:
            return int(value)
        inserted = await session.execute(
            insert(Counter)
            .values(tenant_id=tenant_id, id=new_id(), key=key, value=1)
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
            .returning(Counter.value)
        )
        if inserted.scalar_one_or_none() is not None:
            return 1
    raise RuntimeError(f"could not take a number from counter {key!r}")


async def next_number(
    session: AsyncSession, now: datetime, prefix: str = NUMBER_PREFIX, calendar: sla.Calendar | None = None
) -> str:
    """``SL-20261127-0001``: the local date and that day's sequence, unique per tenant."""
    tz = (calendar or sla.DEFAULT_CALENDAR).tz
    day = now.astimezone(tz).strftime("%Y%m%d")
    n = await bump_counter(session, f"event:{day}")
    return f"{prefix}-{day}-{n:04d}"


# ---- transitions -------------------------------------------------------------------------------


async def transition(  # noqa: C901 (to split: #8)
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
    unknown = set(data) - DATA_KEYS
    if unknown:
        raise TypeError(f"unknown inputs for transition: {sorted(unknown)}")
    now = now or utcnow()
    if not isinstance(event, Event):
        event = await get_event(session, int(event))
    if action == "me_too":
        raise ValueError("我也遇到 is counted by services.me_too, which does not move the event's version")
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
    info: dict[str, Any] = {}
    assignment: tuple[int | None, int, int | None] | None = None
    if action in ("dispatch", "redispatch"):
        assignment = await _dispatch_choice(session, event, data)
    elif action == "return":
        assignment = await _return_choice(session, event)
    calendar = (
        await sla.load_calendar(session)
        if step.clock in (Clock.START, Clock.PAUSE, Clock.RESUME, Clock.EXTEND)
        else None
    )
    category = await _category(session, event.category_code) if step.clock is Clock.START else None

    actor_name = await _actor_name(session, actor)
    # No flush until all changes are made: a stale version must surface below, as StaleEvent.
    with session.no_autoflush:
        from_state = event.state
        if step.clock in (Clock.START, Clock.STOP) and event.due_at is not None:
            info["due_at"] = event.due_at.isoformat()
            info["stage"] = event.stage
            if now > event.due_at:  # exactly at the deadline is in time
                info["overdue"] = True
                info.update(charged_party(event, actor))
                event.sla_breached = True
        if assignment is not None:
            unit_id, level, assignee = assignment
            info.update(
                from_unit_id=event.handling_unit_id,
                from_level=event.level,
                from_assignee_user_id=event.assignee_user_id,
                unit_id=unit_id,
                level=level,
                assignee_user_id=assignee,
            )
            event.handling_unit_id, event.level, event.assignee_user_id = unit_id, level, assignee
        if action == "merge":
            assert target is not None
            await _merge(session, event, target)
            info.update(into=target.id, into_number=target.number)
        elif action == "request_extension":
            event.pending_hours = step.inputs["hours"]
            info["hours"] = step.inputs["hours"]
        elif action == "approve_extension":
            hours = float(event.pending_hours or 0)
            assert calendar is not None
            base = max(event.due_at, now) if event.due_at is not None else now
            event.due_at = sla.add_working_hours(base, hours, calendar)
            if event.stage == "handle":  # the handling deadline moves, and the case's with it
                event.handle_due_at = event.due_at
                if event.close_due_at is not None:
                    event.close_due_at = sla.add_working_hours(event.close_due_at, hours, calendar)
            event.extension_count = (event.extension_count or 0) + 1
            event.clock_seq = (event.clock_seq or 0) + 1  # a new deadline may be escalated once more
            event.pending_hours = None
            info.update(hours=hours, due_at=event.due_at.isoformat())
        elif action == "reject_extension":
            event.pending_hours = None
        elif action == "approve_park":
            assert calendar is not None
            left = sla.working_time_between(now, event.due_at, calendar) if event.due_at is not None else timedelta(0)
            event.sla_remaining_seconds = max(0, int(left.total_seconds()))
            event.due_at = None
            info["remaining_seconds"] = event.sla_remaining_seconds
        elif action == "resume":
            assert calendar is not None
            left = timedelta(seconds=event.sla_remaining_seconds or 0)
            event.due_at = sla.add_working_hours(now, left, calendar)
            event.sla_remaining_seconds = None
            info["due_at"] = event.due_at.isoformat()
        elif action == "supervise":
            event.supervised = True
            event.supervision_count = (event.supervision_count or 0) + 1
        elif action == "rate":
            event.rating = step.inputs["rating"]
            event.rating_comment = step.inputs["note"][:500]
            info["rating"] = event.rating
        elif action == "revisit" and data.get("rating") is not None and event.rating is None:
            event.rating = int(data["rating"])
            info["rating"] = event.rating
        elif action == "close":
            event.closed_at = now
        elif action == "feedback":
            event.handled_at = now
        elif action == "sign" and event.assignee_user_id is None and actor.kind == "user":
            event.assignee_user_id = actor.id  # a unit member who signs takes the case
            info["assignee_user_id"] = actor.id
        elif action == "handle_on_spot":
            event.closed_at = event.handled_at = now
            event.assignee_user_id = actor.id if actor.kind == "user" else event.assignee_user_id
        elif action == "reopen":
            event.closed_at = None
        if action in lifecycle.REWORKS:
            info["rework"] = step.after.rework_count

        if step.clock is Clock.START:
            assert category is not None and calendar is not None
            stage = STAGE_OF[step.to_state]
            event.stage, event.stage_started_at = stage, now
            event.clock_seq = (event.clock_seq or 0) + 1
            hours = _limit(category, stage, event.urgency, from_dispatch=action != "rework")
            event.due_at = sla.add_working_hours(now, hours, calendar)
            info["next_due_at"] = event.due_at.isoformat()
            if action in ("dispatch", "redispatch"):  # the handling clock starts at 派遣
                event.dispatched_at, event.handle_due_at = now, event.due_at
                if event.close_due_at is None:  # the case's deadline: set once, at the first 派遣
                    inspect = _limit(category, "inspect", event.urgency)
                    event.close_due_at = sla.add_working_hours(event.due_at, inspect, calendar)
                info["handle_due_at"] = event.handle_due_at.isoformat()
        elif step.clock is Clock.STOP:
            event.stage, event.due_at = None, None

        after = step.after
        event.state = after.state.value
        event.pending = after.pending
        event.parked_from = after.parked_from.value if after.parked_from else None
        event.rework_count = after.rework_count
        event.updated_at = now
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
            data=info,
        )
        session.add(row)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise StaleEvent(lazy("This event was changed by someone else: reload it and try again")) from exc
    await _follow_up(session, event, row)
    await _announce(session, app_state, enabled, action, event, actor, {"from": from_state})
    return row


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


def _authorise(rule: lifecycle.Rule, event: Event, actor: Actor, can: Callable[[str, str | None], bool] | None) -> None:
    label = ACTION_LABELS[rule.action]
    if can is not None and not can(rule.permission, event.node_path):
        raise NotAllowed(lazy('You may not "%(action)s" this event'), action=label)
    if rule.assignee_only and event.assignee_user_id is not None and actor.id != event.assignee_user_id:
        raise NotAllowed(lazy('Only the person it is assigned to may "%(action)s" this event'), action=label)
    if rule.reporter_only and event.reporter_user_id is not None and actor.id != event.reporter_user_id:
        raise NotAllowed(lazy('Only the person who reported it may "%(action)s" this event'), action=label)


async def _dispatch_choice(
    session: AsyncSession, event: Event, data: dict[str, Any]
) -> tuple[int | None, int, int | None]:
    """(unit id, level, assignee) for a dispatch: as given, else from the catalogue."""
    unit: HandlingUnit | None = None
    if data.get("unit_id") is not None:
        unit = (
            await session.execute(select(HandlingUnit).where(HandlingUnit.id == int(data["unit_id"])))
        ).scalar_one_or_none()
        if unit is None or not unit.active:
            raise InvalidInput(lazy("Choose a handling unit"))
    assignee = data.get("assignee_user_id")
    if assignee is not None:
        user = (await session.execute(select(User).where(User.id == int(assignee)))).scalar_one_or_none()
        if user is None or not user.is_active:
            raise InvalidInput(lazy("Choose the person to handle it"))
        assignee = user.id
    if unit is None and assignee is None:
        target = await dispatch_target(session, event)
        if target is None:
            raise DispatchError(
                lazy("No handling unit is set for this category here: choose one, or add it to the dispatch catalogue")
            )
        unit = target.unit
    if unit is None:  # to a person within the current unit (a community to its grid worker)
        return event.handling_unit_id, event.level, assignee
    return unit.id, unit.level, assignee


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


async def _merge_target(session: AsyncSession, into: Any) -> Event | None:
    if into is None:
        return None
    if isinstance(into, Event):
        return into
    try:
        return await get_event(session, int(into))
    except (EventNotFound, ValueError):
        raise InvalidInput(lazy("The event to merge into was not found")) from None


async def _merge(session: AsyncSession, event: Event, target: Event) -> None:
    """并单: the duplicate points at the target; its supporters and earlier duplicates move with it."""
    event.merged_into_id = target.id
    await session.execute(
        update(Event)
        .where(Event.merged_into_id == event.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Event)
        .where(Event.id == target.id)
        .values(me_too_count=Event.me_too_count + 1 + (event.me_too_count or 0))
        .execution_options(synchronize_session=False)
    )
    await session.refresh(target, ["me_too_count"])


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


# ---- duplicates (我也遇到) -----------------------------------------------------------------------

METRES_PER_DEGREE = 111_320.0
haversine_m = geo.haversine_m  # moved to core/grids/geo.py (issue #8); the old name still works


async def find_nearby_open(
    session: AsyncSession,
    category: str | Category,
    lon: float | Decimal,
    lat: float | Decimal,
    radius_m: float = 100.0,
    *,
    limit: int = 10,
) -> list[tuple[Event, float]]:
    """Open events of the same category within ``radius_m`` metres, nearest first, with distances.

    A bounding box in SQL (indexed on category and latitude) keeps the candidates few; the exact
    great-circle distance is computed on those in Python.
    """
    code = category.code if isinstance(category, Category) else category
    lon_f, lat_f = float(lon), float(lat)
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat_f)), 0.01))

    def d(x: float) -> Decimal:
        return Decimal(f"{x:.6f}")

    rows = await session.execute(
        select(Event).where(
            Event.category_code == code,
            Event.state.in_([s.value for s in OPEN]),
            Event.lat.between(d(lat_f - dlat), d(lat_f + dlat)),
            Event.lon.between(d(lon_f - dlon), d(lon_f + dlon)),
        )
    )
    found = []
    for event in rows.scalars():
        assert event.lon is not None and event.lat is not None
        distance = haversine_m(lon_f, lat_f, float(event.lon), float(event.lat))
        if distance <= radius_m:
            found.append((event, distance))
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found[:limit]


async def me_too(
    session: AsyncSession,
    event: Event | int,
    actor: Actor,
    *,
    note: str | None = None,
    can: Callable[[str, str | None], bool] | None = None,
    app_state: Any = None,
    enabled: Iterable[str] | None = None,
    now: datetime | None = None,
) -> bool:
    """我也遇到: count one more person affected by an open event. Returns False (counting nothing)
    when this user reported it or said so before. The count is an atomic increment that does not
    move the event's version, so it never makes a staff member's form stale."""
    now = now or utcnow()
    if not isinstance(event, Event):
        event = await get_event(session, int(event))
    rule = lifecycle.rule_for(event.state, "me_too")
    _authorise(rule, event, actor, can)
    if actor.kind == "user" and actor.id is not None:
        if event.reporter_user_id == actor.id:
            return False
        before = await session.scalar(
            select(EventTransition.id)
            .where(
                EventTransition.event_id == event.id,
                EventTransition.action == "me_too",
                EventTransition.actor_user_id == actor.id,
            )
            .limit(1)
        )
        if before is not None:
            return False
    await session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(me_too_count=Event.me_too_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.add(
        EventTransition(
            id=new_id(),
            event_id=event.id,
            from_state=event.state,
            to_state=event.state,
            action="me_too",
            actor_user_id=actor.id if actor.kind == "user" else None,
            actor_name=await _actor_name(session, actor),
            note=(note or "").strip()[: lifecycle.MAX_NOTE],
            at=now,
        )
    )
    await session.flush()
    await session.refresh(event, ["me_too_count"])
    await _announce(session, app_state, enabled, "me_too", event, actor, {"from": event.state})
    return True


async def publish_note(
    session: AsyncSession,
    event: Event | int,
    actor: Actor,
    note: str,
    *,
    can: Callable[[str, str | None], bool] | None = None,
    app_state: Any = None,
    now: datetime | None = None,
) -> EventTransition:
    """The status note for residents (Open311 ``status_notes``, their report's page): the only note
    of an event that public outputs show. A timeline line (``public_note``); like 我也遇到 it does
    not move the event's version, so no staff form goes stale."""
    now = now or utcnow()
    if not isinstance(event, Event):
        event = await get_event(session, int(event))
    if can is not None and not can(PUBLISH, event.node_path):
        raise NotAllowed(lazy('You may not "%(action)s" this event'), action=ACTION_LABELS["public_note"])
    note = (note or "").strip()
    if not note:
        raise lifecycle.MissingInput(lazy("Write the note for residents"))
    if len(note) > MAX_PUBLIC_NOTE:
        raise lifecycle.MissingInput(lazy("The note is too long (at most %(max)s characters)"), max=MAX_PUBLIC_NOTE)
    await session.execute(
        update(Event).where(Event.id == event.id).values(public_note=note).execution_options(synchronize_session=False)
    )
    row = EventTransition(
        id=new_id(),
        event_id=event.id,
        from_state=event.state,
        to_state=event.state,
        action="public_note",
        actor_user_id=actor.id if actor.kind == "user" else None,
        actor_name=await _actor_name(session, actor),
        note=note,
        at=now,
    )
    session.add(row)
    await session.flush()
    await session.refresh(event, ["public_note"])
    await _announce(session, app_state, None, "public_note", event, actor, {"from": event.state})
    return row


# ---- the dispatch catalogue (派单目录) -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    unit: HandlingUnit
    rule: DispatchRule

    @property
    def level(self) -> int:
        return self.unit.level


def ancestor_paths(path: str) -> list[str]:
    """``/1/2/3/`` → ``["/1/", "/1/2/", "/1/2/3/"]``: the areas that contain a node."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


async def dispatch_target(session: AsyncSession, event: Event, level: int | None = None) -> Target | None:
    """The handling unit the catalogue gives for ``event``.

    "小事不出网格、大事不出社区": without ``level``, the lowest level (highest number: community
    before sub-district before command centre) that has a rule for the event's category and area.
    With ``level`` (escalation), the nearest level at or above it that has one. Within a level the
    most specific area wins (the longest node path), then the most specific category (the code
    itself, then its class, then any category).
    """
    category = await _category(session, event.category_code)
    codes = [event.category_code]
    if category is not None and category.parent_code:
        codes.append(category.parent_code)
    rows = await session.execute(
        select(DispatchRule, HandlingUnit)
        .join(
            HandlingUnit,
            and_(HandlingUnit.tenant_id == DispatchRule.tenant_id, HandlingUnit.id == DispatchRule.unit_id),
        )
        .where(
            DispatchRule.active.is_(True),
            HandlingUnit.active.is_(True),
            DispatchRule.node_path.in_(ancestor_paths(event.node_path)),
            or_(DispatchRule.category_code.in_(codes), DispatchRule.category_code.is_(None)),
        )
    )
    candidates = [(rule, unit) for rule, unit in rows.all()]
    levels = {unit.level for _rule, unit in candidates}
    if level is not None:
        levels = {lv for lv in levels if lv <= level}
    if not levels:
        return None
    chosen = max(levels)

    def specificity(pair: tuple[DispatchRule, HandlingUnit]) -> tuple[int, int, int]:
        rule = pair[0]
        kind = 2 if rule.category_code == event.category_code else (1 if rule.category_code else 0)
        return (len(rule.node_path), kind, -rule.id)

    rule, unit = max((pair for pair in candidates if pair[1].level == chosen), key=specificity)
    return Target(unit, rule)


# ---- SLA escalation ----------------------------------------------------------------------------


async def escalate_breached(
    session: AsyncSession,
    now: datetime | None = None,
    *,
    app_state: Any = None,
    enabled: Iterable[str] | None = None,
    limit: int = 500,
) -> list[int]:
    """督办 and escalate, one level up, each event whose current deadline has passed. Returns their ids.

    The unit one level above the one watching it (the handling unit's level, or the supervisor's
    after an earlier breach) is added as supervisor (``supervisor_unit_id``, from the dispatch
    catalogue at that level); the handling unit, its level and the assignee stay as they were, so
    nobody loses track of who is doing the work. The timeline line (``escalate``) is the 督办 record.

    Exactly once per deadline: the event's ``escalated_seq`` is set to its ``clock_seq`` by a
    conditional UPDATE on (id, version), so a second run — or another process running at the same
    moment — finds nothing to do. After downtime it catches up with one escalation per breached
    deadline (the breach time is the deadline, recorded in the timeline), not one per missed run.
    Only clock-running states count: parked and final events are left alone.
    """
    now = now or utcnow()
    running = [s.value for s in STAGE_OF]
    rows = await session.execute(
        select(Event)
        .where(
            Event.state.in_(running),
            Event.due_at < now,
            or_(Event.escalated_seq.is_(None), Event.escalated_seq < Event.clock_seq),
        )
        .order_by(Event.due_at, Event.id)
        .limit(limit)
    )
    escalated: list[int] = []
    for event in list(rows.scalars()):
        # The level above whoever watches it now (the handling level, or a supervisor already added).
        watching = event.supervisor_level or event.level
        level = max(1, watching - 1)
        target = await dispatch_target(session, event, level=level) if level < watching else None
        supervisor_id = target.unit.id if target is not None else event.supervisor_unit_id
        supervisor_level = target.level if target is not None else level
        info = {
            "stage": event.stage,
            "breached_at": event.due_at.isoformat() if event.due_at else None,
            "level": event.level,
            "unit_id": event.handling_unit_id,  # who handles it stays as it was
            "assignee_user_id": event.assignee_user_id,
            "from_supervisor_unit_id": event.supervisor_unit_id,
            "supervisor_unit_id": supervisor_id,
            "supervisor_level": supervisor_level,
            **charged_party(event, None),
        }
        done = await session.execute(
            update(Event)
            .where(Event.id == event.id, Event.version == event.version, Event.state == event.state)
            .values(
                version=event.version + 1,
                supervisor_unit_id=supervisor_id,
                supervisor_level=supervisor_level,
                supervised=True,
                supervision_count=(event.supervision_count or 0) + 1,
                sla_breached=True,
                escalated_seq=event.clock_seq,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            continue  # another process escalated it, or someone acted on it, since we looked
        session.add(
            EventTransition(
                id=new_id(),
                event_id=event.id,
                from_state=event.state,
                to_state=event.state,
                action="escalate",
                actor_user_id=None,
                actor_name=SLA_ACTOR.name,
                note="",
                at=now,
                data=info,
            )
        )
        record(session, "smart_service.event.escalate", "ss_events", event.id, info)
        await session.flush()
        await session.refresh(event)
        await _announce(session, app_state, enabled, "escalate", event, SLA_ACTOR, {"from": event.state})
        escalated.append(event.id)
    return escalated


async def sla_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The periodic SLA timer (a ``core.services.jobs`` handler): escalate what has breached in
    the job's tenant, announcing each escalation. Wire it as
    ``JobSpec(SLA_JOB, sla_job, every_seconds=60)`` from ``register_jobs``."""
    from core.tenancy.models import TenantPlugin

    enabled = set(
        (await ctx.session.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True)))).scalars()
    )
    ids = await escalate_breached(ctx.session, utcnow(), app_state=ctx, enabled=enabled)
    return {"escalated": len(ids)}


# ---- announcements (after commit, through core's outbox) ----------------------------------------


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


async def announcements_sent() -> None:
    """Deprecated: ``core.services.events.delivered()``. Wait until committed changes are announced."""
    await delivered()
