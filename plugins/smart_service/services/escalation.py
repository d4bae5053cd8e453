"""SLA escalation: 督办 one level up when a stage's deadline has passed, once per deadline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.db.base import new_id, utcnow
from plugins.smart_service.lifecycle import (
    STAGE_OF,
)
from plugins.smart_service.models import (
    Event,
    EventTransition,
)
from plugins.smart_service.services.common import SLA_ACTOR, _announce, charged_party
from plugins.smart_service.services.dispatch import dispatch_target


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
