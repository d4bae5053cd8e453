"""Referrals between this pillar and the mediation committee (平安法治), both ways, through core
events only — the other pillar is never imported and may be switched off.

- A dispute handed on as an event (core event ``rule_of_law.dispute.referred``) becomes an event:
  ``on_event`` only queues a job (``FROM_DISPUTE_JOB``), which creates the event, links it and
  announces ``EVENT_CREATED`` (``dispute_id``, the event's id, number and page) for the other side
  to link back. Heard twice, it creates one event (the link is unique on the dispute's id).
- Staff refer an event to mediation (转人民调解, ``refer_to_mediation``): a timeline line and the
  core event ``TO_MEDIATION``; the mediation pillar, when on, opens a dispute and case and answers
  ``DISPUTE_OPENED`` (``event_id``, the dispute's id, number and page), which a job links here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.context import Actor
from core.services.events import APP_STATE, emit
from core.services.events import Event as CoreEvent
from core.services.jobs import JobSpec, enqueue
from plugins.smart_service.lifecycle import FINAL, State, lazy
from plugins.smart_service.models import Category, Event, EventLink, EventTransition
from plugins.smart_service.services import InvalidInput, get_event, report_event

PEER = "rule_of_law"  # the pillar on the other side (by name only)
DISPUTE = "dispute"
# Heard from the mediation pillar.
DISPUTE_REFERRED = "rule_of_law.dispute.referred"
DISPUTE_OPENED = "rule_of_law.dispute.opened_from_event"
# Said by this pillar.
EVENT_CREATED = "smart_service.referral.event_created"
TO_MEDIATION = "smart_service.referral.to_mediation"
# Jobs: the work a heard event asks for is done durably, not inside the listener.
FROM_DISPUTE_JOB = "smart_service.referral.from_dispute"
LINK_JOB = "smart_service.referral.link_dispute"
REFER_ACTION = "refer_mediation"  # the timeline line's action
URGENCY_OF_RISK = {"low": 1, "medium": 1, "high": 2}
# When the district names no category for referred disputes: the first whose name says dispute.
DISPUTE_WORDS = ("纠纷", "矛盾", "dispute")


def event_href(event_id: int) -> str:
    return f"/smart-service/events/{event_id}"


async def links_of(session: AsyncSession, event_id: int) -> list[EventLink]:
    rows = await session.execute(select(EventLink).where(EventLink.event_id == event_id).order_by(EventLink.id))
    return list(rows.scalars())


async def referral_pending(session: AsyncSession, event_id: int) -> bool:
    """Referred to mediation already (answered or not): the button is not offered twice."""
    found = await session.scalar(
        select(EventTransition.id)
        .where(EventTransition.event_id == event_id, EventTransition.action == REFER_ACTION)
        .limit(1)
    )
    return found is not None


def may_refer(event: Event) -> bool:
    return State(event.state) not in FINAL or State(event.state) is State.CLOSED


# ---- an event to mediation --------------------------------------------------------------------


async def refer_to_mediation(
    session: AsyncSession, event: Event, actor: Actor, note: str, app_state: Any, *, now: Any = None
) -> EventTransition:
    """转人民调解: a timeline line (the event's state is unchanged) and, after commit, the core event."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise InvalidInput(lazy("The note is too long (at most %(max)s characters)"), max=2000)
    if not may_refer(event):
        raise InvalidInput(lazy("A rejected or merged event cannot be referred to mediation"))
    if await referral_pending(session, event.id):
        raise InvalidInput(lazy("This event has been referred to mediation already"))
    now = now or utcnow()
    row = EventTransition(
        id=new_id(),
        event_id=event.id,
        from_state=event.state,
        to_state=event.state,
        action=REFER_ACTION,
        actor_user_id=actor.id if actor.kind == "user" else None,
        actor_name=actor.name,
        note=note,
        at=now,
        data={},
    )
    session.add(row)
    await session.flush()
    if app_state is not None:
        session.info[APP_STATE] = app_state
    payload = {
        "source": "smart_service",
        "event_id": event.id,
        "number": event.number,
        "title": event.title,
        "description": event.description,
        "note": note,
        "node_id": event.node_id,
        "urgency": event.urgency,
        "reporter_name": event.reporter_name,
        "href": event_href(event.id),
    }
    emit(session, CoreEvent(TO_MEDIATION, payload, actor))
    return row


async def link_dispute(session: AsyncSession, payload: dict[str, Any], direction: str) -> EventLink | None:
    """Record the dispute on the event (once); None when the event is not there any more."""
    event_id = int(payload["event_id"])
    event = (await session.execute(select(Event).where(Event.id == event_id))).scalar_one_or_none()
    if event is None:
        return None
    ref = str(payload["dispute_id"])
    link = (
        await session.execute(select(EventLink).where(EventLink.kind == DISPUTE, EventLink.ref_id == ref))
    ).scalar_one_or_none()
    if link is None:
        link = EventLink(
            id=new_id(),
            event_id=event.id,
            kind=DISPUTE,
            direction=direction,
            ref_id=ref,
            ref_number=str(payload.get("number") or "")[:64],
            href=str(payload.get("href") or "")[:300],
        )
        session.add(link)
        await session.flush()
    return link


# ---- a dispute to an event --------------------------------------------------------------------


async def referral_category(session: AsyncSession, code: str) -> Category:
    """The district's category for referred disputes (setting), else the first that says dispute."""
    rows = list(
        (
            await session.execute(
                select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.code)
            )
        ).scalars()
    )
    if code:
        for c in rows:
            if c.code == code:
                return c
    for c in rows:
        if c.parent_code and any(w in f"{c.name_zh} {c.name_en}".lower() for w in DISPUTE_WORDS):
            return c
    for c in rows:
        if any(w in f"{c.name_zh} {c.name_en}".lower() for w in DISPUTE_WORDS):
            return c
    if not rows:
        raise InvalidInput(lazy("Choose a category"))
    return rows[0]


async def create_from_dispute(
    session: AsyncSession, payload: dict[str, Any], app_state: Any, settings: dict[str, Any]
) -> Event:
    """The event for a referred dispute, created once: a second delivery finds the link and
    returns the event made the first time (and the announcement is repeated, harmlessly)."""
    ref = str(payload["dispute_id"])
    link = (
        await session.execute(select(EventLink).where(EventLink.kind == DISPUTE, EventLink.ref_id == ref))
    ).scalar_one_or_none()
    if link is not None:
        event = await get_event(session, link.event_id)
    else:
        category = await referral_category(session, str(settings.get("dispute_category") or ""))
        actor_id = payload.get("actor_id")
        actor = (
            Actor("user", int(actor_id), str(payload.get("actor_name") or ""))
            if actor_id
            else Actor("system", None, "人民调解")
        )
        number = str(payload.get("number") or "")
        title = str(payload.get("title") or "").strip() or number or "矛盾纠纷"
        description = str(payload.get("description") or "")
        event = await report_event(
            session,
            title=title[:200],
            description=description[:4000],
            category_code=category.code,
            node_id=int(payload["node_id"]),
            source="grid_patrol",
            actor=actor,
            urgency=max(category.urgency, URGENCY_OF_RISK.get(str(payload.get("risk")), 1)),
            app_state=app_state,
        )
        session.add(
            EventLink(
                id=new_id(),
                event_id=event.id,
                kind=DISPUTE,
                direction="from",
                ref_id=ref,
                ref_number=number[:64],
                href=str(payload.get("href") or f"/rule-of-law/disputes/{ref}")[:300],
            )
        )
        await session.flush()
    session.info[APP_STATE] = app_state
    emit(
        session,
        CoreEvent(
            EVENT_CREATED,
            {
                "dispute_id": int(ref),
                "event_id": event.id,
                "number": event.number,
                "href": event_href(event.id),
            },
        ),
    )
    return event


# ---- listeners and jobs -----------------------------------------------------------------------


async def hear(tenant_id: int, event: Any, context: Any) -> None:
    """Queue the work a heard core event asks for; nothing else happens inside the listener."""
    if event.name == DISPUTE_REFERRED:
        payload = dict(event.payload)
        if event.actor is not None and event.actor.kind == "user":
            payload.update(actor_id=event.actor.id, actor_name=event.actor.name)
        name = FROM_DISPUTE_JOB
    elif event.name == DISPUTE_OPENED:
        payload, name = dict(event.payload), LINK_JOB
    else:
        return
    db = getattr(context, "db", None)
    if db is None:
        return
    async with db.transaction(tenant_id) as s:
        await enqueue(s, tenant_id, name, payload)


async def tenant_settings(session: AsyncSession) -> dict[str, Any]:
    """The pillar's stored settings for the session's tenant (defaults are the Settings struct's)."""
    from core.tenancy.models import TenantPlugin

    row = await session.scalar(select(TenantPlugin.settings).where(TenantPlugin.plugin == "smart_service"))
    return dict(row or {})


async def from_dispute_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    event = await create_from_dispute(ctx.session, payload, ctx, await tenant_settings(ctx.session))
    return {"event_id": event.id}


async def link_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    link = await link_dispute(ctx.session, payload, "to")
    return {"linked": link is not None}


JOBS = (JobSpec(FROM_DISPUTE_JOB, from_dispute_job), JobSpec(LINK_JOB, link_job))
