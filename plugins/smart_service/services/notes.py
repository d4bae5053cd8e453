"""The status note for residents (Open311 ``status_notes``, their report's page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.context import Actor
from plugins.smart_service import lifecycle
from plugins.smart_service.lifecycle import (
    ACTION_LABELS,
    lazy,
)
from plugins.smart_service.models import (
    Event,
    EventTransition,
)
from plugins.smart_service.services.common import (
    MAX_PUBLIC_NOTE,
    PUBLISH,
    NotAllowed,
    _actor_name,
    _announce,
    get_event,
)


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
