"""Who is told what about an event: the assignee (or the unit's members) of a new task, the reporter
of acceptance and of closure with the request to rate, supervisors of a breach, followers of an
area of its new public reports.

The plugin's ``on_event`` hears each committed change and queues one job (``JOB``); the job works
out the recipients and sends through core's notifications (the in-app bell, and the tenant's
outside channels — SMS, WeChat — through the ``send_notification`` adapters). A failing job is
retried as a whole: the in-app rows are written in its transaction, so none is doubled.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import set_locale, translator
from core.identity.models import User
from core.pluginhost.manifest import Notification
from core.rbac.models import RoleAssignment, RolePermission
from core.services.jobs.runner import enqueue
from core.services.notifications.service import notify
from plugins.smart_service import publicity, services, units
from plugins.smart_service.lifecycle import SUPERVISE
from plugins.smart_service.models import Event
from plugins.smart_service.work_models import AreaFollow

log = logging.getLogger("liuzhi.smart_service.notify")
JOB = "smart_service.notify"
_ = translator("smart_service").gettext
# The changes somebody is told of (the event's action names).
TOLD = frozenset(
    {"report", "accept", "dispatch", "redispatch", "close", "escalate", "supervise", "reopen", "handle_on_spot"}
)


async def queue_telling(session: AsyncSession, tenant_id: int, action: str, event_id: int, actor: Any) -> None:
    """In the change's own transaction: the job that tells people of it (it exists exactly when the
    change commits, and costs the change no second transaction)."""
    if action not in TOLD:
        return
    payload = {"event_id": event_id, "action": action, "actor_user_id": getattr(actor, "id", None)}
    await enqueue(session, tenant_id, JOB, payload)


async def on_event(context: Any, tenant_id: int, event: Any) -> None:
    """Kept for callers of the old hook path: the services now queue the job themselves, in the
    change's transaction (``queue_telling``), so an announcement has nothing more to queue."""
    return None


def channels_of(settings: dict[str, Any]) -> tuple[str, ...]:
    out = ["inapp"]
    if settings.get("notify_by_sms", True):
        out.append("sms")
    if settings.get("notify_by_wechat", True):
        out.append("wechat")
    return tuple(out)


async def recipients(session: AsyncSession, event: Event, action: str, actor_user_id: int | None) -> dict[int, str]:
    """{user id: what to tell them} (a message kind) for ``action`` on ``event``."""
    told: dict[int, str] = {}
    if action in ("dispatch", "redispatch", "reopen", "supervise"):
        kind = {"reopen": "reopened", "supervise": "supervised"}.get(action, "task")
        if event.assignee_user_id is not None:
            told[event.assignee_user_id] = kind
        elif event.handling_unit_id is not None:
            for uid in await units.member_ids(session, event.handling_unit_id):
                told[uid] = kind
    elif action == "accept" and event.reporter_user_id is not None:
        told[event.reporter_user_id] = "accepted"
    elif action == "close" and event.reporter_user_id is not None:
        told[event.reporter_user_id] = "closed"
    elif action == "escalate":
        for uid, kind in (await breach_told(session, event)).items():
            told.setdefault(uid, kind)
    elif action in ("report", "handle_on_spot") and event.source != "superior":
        for uid in await followers(session, event):
            told.setdefault(uid, "followed")
    told.pop(actor_user_id, None)  # nobody is told of what they did themselves
    if action in ("report", "handle_on_spot") and event.reporter_user_id is not None:
        told.pop(event.reporter_user_id, None)
    return told


async def breach_told(session: AsyncSession, event: Event) -> dict[int, str]:
    """Who hears of a breach: supervisors at the place or above, the unit escalation set to
    supervise it, and those working it (they open it from their queue)."""
    told = {uid: "breach" for uid in await supervisors(session, event)}
    supervisor_unit = getattr(event, "supervisor_unit_id", None)
    if supervisor_unit is not None:
        for uid in await units.member_ids(session, supervisor_unit):
            told.setdefault(uid, "breach")
    if event.handling_unit_id is not None:
        for uid in await units.member_ids(session, event.handling_unit_id):
            told.setdefault(uid, "late")
    if event.assignee_user_id is not None:
        told.setdefault(event.assignee_user_id, "late")
    return told


async def followers(session: AsyncSession, event: Event) -> list[int]:
    """Residents following the event's area or one above it — only for an event the public may
    see (publicity.py: its category and the category's class are public)."""
    if event.category_code not in await publicity.public_codes(session):
        return []
    rows = await session.execute(
        select(AreaFollow.user_id).where(AreaFollow.node_path.in_(services.ancestor_paths(event.node_path)))
    )
    return list(rows.scalars())


async def supervisors(session: AsyncSession, event: Event) -> list[int]:
    """People whose role lets them supervise (督办) at the event's place or above."""
    roles = select(RolePermission.role_code).where(RolePermission.action == SUPERVISE)
    rows = await session.execute(
        select(RoleAssignment.user_id)
        .where(
            RoleAssignment.role_code.in_(roles),
            RoleAssignment.node_path.in_(services.ancestor_paths(event.node_path)),
        )
        .distinct()
    )
    return list(rows.scalars())


def message(kind: str, event: Event) -> tuple[str, str, str]:
    """(title, body, tenant-relative link) in the current locale."""
    number, title = event.number, event.title
    if kind == "task":
        return (
            _("New task %(number)s: %(title)s", number=number, title=title),
            _("Sign for it in your queue."),
            f"/smart-service/tasks/{event.id}",
        )
    if kind == "reopened":
        return (
            _("Handle again %(number)s: %(title)s", number=number, title=title),
            _("The caller was not satisfied: the case is reopened."),
            f"/smart-service/tasks/{event.id}",
        )
    if kind == "supervised":
        return _("Supervised %(number)s: %(title)s", number=number, title=title), "", f"/smart-service/tasks/{event.id}"
    if kind == "accepted":
        return _("Your report %(number)s was accepted", number=number), title, f"/smart-service/mine/{event.id}"
    if kind == "closed":
        return (
            _("Your report %(number)s is closed", number=number),
            _("Please rate how it was handled."),
            f"/smart-service/mine/{event.id}",
        )
    if kind in ("breach", "late"):
        where = "events" if kind == "breach" else "tasks"
        return _("Time limit passed: %(number)s", number=number), title, f"/smart-service/{where}/{event.id}"
    return _("New report in an area you follow: %(title)s", title=title), number, "/smart-service/follows"


async def job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Tell the people ``payload``'s change concerns (``core.services.jobs`` handler)."""
    from core.tenancy.models import TenantPlugin

    session: AsyncSession = ctx.session
    try:
        event = await services.get_event(session, int(payload["event_id"]))
    except services.EventNotFound:
        return {"told": 0}
    told = await recipients(session, event, str(payload.get("action")), payload.get("actor_user_id"))
    if not told:
        return {"told": 0}
    settings = await session.scalar(select(TenantPlugin.settings).where(TenantPlugin.plugin == "smart_service"))
    channels = channels_of(settings or {})
    users = {
        u.id: u for u in (await session.execute(select(User).where(User.id.in_(list(told))))).scalars() if u.is_active
    }
    for user_id, kind in told.items():
        user = users.get(user_id)
        if user is None:
            continue
        set_locale(user.locale or "zh_Hans")
        title, body, link = message(kind, event)
        await notify(
            ctx,
            session,
            Notification(ctx.tenant_id, user_id, title, body, link, channels),
        )
    return {"told": len(users)}
