"""What a transition does to the event besides moving its state: one small function per action
(an extension's hours, a park's remaining time, a rating, who signed …), and the SLA clock a step
starts or stops. ``transition.py`` calls them while no flush can happen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.db.context import Actor
from plugins.smart_service import lifecycle, sla
from plugins.smart_service.lifecycle import STAGE_OF, Clock, Step
from plugins.smart_service.models import Category, Event
from plugins.smart_service.services.common import _limit, charged_party


@dataclass
class Move:
    """One step being made: the event, the checked step and its inputs, and the timeline's data."""

    event: Event
    step: Step
    actor: Actor
    now: datetime
    data: dict[str, Any]
    calendar: sla.Calendar | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def cal(self) -> sla.Calendar:
        assert self.calendar is not None  # loaded for every clock change (transition.CALENDAR_CLOCKS)
        return self.calendar


def _request_extension(m: Move) -> None:
    m.event.pending_hours = m.step.inputs["hours"]
    m.info["hours"] = m.step.inputs["hours"]


def _approve_extension(m: Move) -> None:
    event, hours = m.event, float(m.event.pending_hours or 0)
    base = max(event.due_at, m.now) if event.due_at is not None else m.now
    event.due_at = sla.add_working_hours(base, hours, m.cal)
    if event.stage == "handle":  # the handling deadline moves, and the case's with it
        event.handle_due_at = event.due_at
        if event.close_due_at is not None:
            event.close_due_at = sla.add_working_hours(event.close_due_at, hours, m.cal)
    event.extension_count = (event.extension_count or 0) + 1
    event.clock_seq = (event.clock_seq or 0) + 1  # a new deadline may be escalated once more
    event.pending_hours = None
    m.info.update(hours=hours, due_at=event.due_at.isoformat())


def _reject_extension(m: Move) -> None:
    m.event.pending_hours = None


def _approve_park(m: Move) -> None:
    event = m.event
    left = sla.working_time_between(m.now, event.due_at, m.cal) if event.due_at is not None else timedelta(0)
    event.sla_remaining_seconds = max(0, int(left.total_seconds()))
    event.due_at = None
    m.info["remaining_seconds"] = event.sla_remaining_seconds


def _resume(m: Move) -> None:
    event = m.event
    left = timedelta(seconds=event.sla_remaining_seconds or 0)
    event.due_at = sla.add_working_hours(m.now, left, m.cal)
    event.sla_remaining_seconds = None
    m.info["due_at"] = event.due_at.isoformat()


def _supervise(m: Move) -> None:
    m.event.supervised = True
    m.event.supervision_count = (m.event.supervision_count or 0) + 1


def _rate(m: Move) -> None:
    m.event.rating = m.step.inputs["rating"]
    m.event.rating_comment = m.step.inputs["note"][:500]
    m.info["rating"] = m.event.rating


def _revisit(m: Move) -> None:
    if m.data.get("rating") is not None and m.event.rating is None:
        m.event.rating = int(m.data["rating"])
        m.info["rating"] = m.event.rating


def _close(m: Move) -> None:
    m.event.closed_at = m.now


def _feedback(m: Move) -> None:
    m.event.handled_at = m.now


def _sign(m: Move) -> None:
    if m.event.assignee_user_id is None and m.actor.kind == "user":
        m.event.assignee_user_id = m.actor.id  # a unit member who signs takes the case
        m.info["assignee_user_id"] = m.actor.id


def _handle_on_spot(m: Move) -> None:
    m.event.closed_at = m.event.handled_at = m.now
    m.event.assignee_user_id = m.actor.id if m.actor.kind == "user" else m.event.assignee_user_id


def _reopen(m: Move) -> None:
    m.event.closed_at = None


EFFECTS: dict[str, Callable[[Move], None]] = {
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "reject_extension": _reject_extension,
    "approve_park": _approve_park,
    "resume": _resume,
    "supervise": _supervise,
    "rate": _rate,
    "revisit": _revisit,
    "close": _close,
    "feedback": _feedback,
    "sign": _sign,
    "handle_on_spot": _handle_on_spot,
    "reopen": _reopen,
}


def apply_effect(m: Move) -> None:
    effect = EFFECTS.get(m.step.rule.action)
    if effect is not None:
        effect(m)
    if m.step.rule.action in lifecycle.REWORKS:
        m.info["rework"] = m.step.after.rework_count


def note_deadline(m: Move) -> None:
    """A step that starts or stops the clock records the deadline it ends, and whether it was late
    (and whose the lateness is)."""
    event = m.event
    if m.step.clock not in (Clock.START, Clock.STOP) or event.due_at is None:
        return
    m.info["due_at"] = event.due_at.isoformat()
    m.info["stage"] = event.stage
    if m.now > event.due_at:  # exactly at the deadline is in time
        m.info["overdue"] = True
        m.info.update(charged_party(event, m.actor))
        event.sla_breached = True


def set_clock(m: Move, category: Category | None) -> None:
    """The new stage's deadline (from the category's limits, in working time), or none when it stops."""
    event, action = m.event, m.step.rule.action
    if m.step.clock is Clock.STOP:
        event.stage, event.due_at = None, None
        return
    if m.step.clock is not Clock.START:
        return
    stage = STAGE_OF[m.step.to_state]
    event.stage, event.stage_started_at = stage, m.now
    event.clock_seq = (event.clock_seq or 0) + 1
    hours = _limit(category, stage, event.urgency, from_dispatch=action != "rework")
    event.due_at = sla.add_working_hours(m.now, hours, m.cal)
    m.info["next_due_at"] = event.due_at.isoformat()
    if action in ("dispatch", "redispatch"):  # the handling clock starts at 派遣
        event.dispatched_at, event.handle_due_at = m.now, event.due_at
        if event.close_due_at is None:  # the case's deadline: set once, at the first 派遣
            inspect = _limit(category, "inspect", event.urgency)
            event.close_due_at = sla.add_working_hours(event.due_at, inspect, m.cal)
        m.info["handle_due_at"] = event.handle_due_at.isoformat()


def settle(m: Move) -> None:
    """The event takes the step's resulting state."""
    after, event = m.step.after, m.event
    event.state = after.state.value
    event.pending = after.pending
    event.parked_from = after.parked_from.value if after.parked_from else None
    event.rework_count = after.rework_count
    event.updated_at = m.now
