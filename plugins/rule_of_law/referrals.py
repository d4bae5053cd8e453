"""Links with the smart-service pillar, both ways, through core events only (it is never imported
and may be switched off; with it off, nothing here is ever heard).

- A dispute handed on as an event (``screening.hand_to_event``) is answered by
  ``smart_service.referral.event_created``: a job records the event's id, number and page on the
  dispute (``link_event``).
- An event referred to mediation (``smart_service.referral.to_mediation``, 转人民调解) becomes a
  dispute handed to mediation, with its case awaiting 受理, linked to the event; the answer
  ``DISPUTE_OPENED`` lets smart_service link back. Heard twice, it opens one dispute (found by
  the event's id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services.events import APP_STATE, Event, emit
from core.services.jobs import JobSpec, enqueue
from plugins.rule_of_law import screening
from plugins.rule_of_law.common import NotFound, lazy, next_number, utcnow
from plugins.rule_of_law.models import Dispute

EVENT_CREATED = "smart_service.referral.event_created"
TO_MEDIATION = "smart_service.referral.to_mediation"
DISPUTE_OPENED = "rule_of_law.dispute.opened_from_event"
LINK_JOB = "rule_of_law.referral.link_event"
OPEN_JOB = "rule_of_law.referral.open_from_event"
RISK_OF_URGENCY = {1: "low", 2: "medium", 3: "high"}


def dispute_href(dispute_id: int) -> str:
    return f"/rule-of-law/disputes/{dispute_id}"


async def link_event(session: AsyncSession, payload: dict[str, Any]) -> Dispute | None:
    """Record the event on the dispute it came from; None when the dispute is gone."""
    try:
        dispute = await screening.get_dispute(session, int(payload["dispute_id"]))
    except NotFound:
        return None
    dispute.event_ref = str(payload["event_id"])[:64]
    dispute.event_number = str(payload.get("number") or "")[:64] or None
    dispute.event_href = str(payload.get("href") or "")[:300] or None
    await session.flush()
    return dispute


async def open_from_event(session: AsyncSession, payload: dict[str, Any], app_state: Any) -> Dispute:
    """The dispute (and its case, awaiting 受理) for a referred event, made once."""
    event_ref = str(payload["event_id"])
    dispute = (await session.execute(select(Dispute).where(Dispute.event_ref == event_ref))).scalar_one_or_none()
    if dispute is None:
        node = (
            await session.execute(select(GridNode).where(GridNode.id == int(payload["node_id"])))
        ).scalar_one_or_none()
        if node is None:
            raise NotFound(lazy("There is no such grid."))
        summary = "\n".join(
            part for part in (str(payload.get("title") or ""), str(payload.get("description") or "")) if part.strip()
        ) or str(payload.get("number") or "")
        if payload.get("note"):
            summary += "\n" + str(payload["note"])
        reporter = str(payload.get("reporter_name") or "").strip()[:50]
        dispute = Dispute(
            number=await next_number(session, "JF"),
            node_id=node.id,
            node_path=node.path,
            kind="other",
            risk=RISK_OF_URGENCY.get(int(payload.get("urgency") or 1), "low"),
            summary=summary[:2000],
            parties=[{"name": reporter}] if reporter else [],
            reported_by=payload.get("actor_id"),
            reported_at=utcnow(),
            event_ref=event_ref[:64],
            event_number=str(payload.get("number") or "")[:64] or None,
            event_href=str(payload.get("href") or "")[:300] or None,
        )
        session.add(dispute)
        await session.flush()
        await screening.hand_to_mediation(session, dispute)
    session.info[APP_STATE] = app_state
    emit(
        session,
        Event(
            DISPUTE_OPENED,
            {
                "event_id": int(event_ref),
                "dispute_id": dispute.id,
                "number": dispute.number,
                "case_id": dispute.case_id,
                "href": dispute_href(dispute.id),
            },
        ),
    )
    return dispute


async def hear(tenant_id: int, event: Any, context: Any) -> None:
    """Queue the work a heard core event asks for; the listener itself writes nothing else."""
    if event.name == EVENT_CREATED:
        payload, name = dict(event.payload), LINK_JOB
    elif event.name == TO_MEDIATION:
        payload, name = dict(event.payload), OPEN_JOB
        if event.actor is not None and event.actor.kind == "user":
            payload["actor_id"] = event.actor.id
    else:
        return
    db = getattr(context, "db", None)
    if db is None:
        return
    async with db.transaction(tenant_id) as s:
        await enqueue(s, tenant_id, name, payload)


async def link_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return {"linked": await link_event(ctx.session, payload) is not None}


async def open_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    dispute = await open_from_event(ctx.session, payload, ctx)
    return {"dispute_id": dispute.id}


JOBS = (JobSpec(LINK_JOB, link_job), JobSpec(OPEN_JOB, open_job))
