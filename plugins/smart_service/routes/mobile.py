"""Grid workers' phone pages: the events assigned to me, and on each one 签收 (sign for), 开始处置
(start), 退单 (return with a reason) and 反馈 (the result with before/after photos).

What a grid worker finds on patrol is reported with the residents' form (``?source=grid_patrol``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import func, select

from core.i18n import gettext as _
from core.i18n import lazy
from core.rbac.scope import in_scope
from core.services.files.storage import UploadError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.render import render
from plugins.smart_service import photos as ph
from plugins.smart_service import services, units
from plugins.smart_service.lifecycle import ACTION_LABELS, HANDLE, SIGN, State, TransitionError
from plugins.smart_service.models import Event
from plugins.smart_service.routes.resident import UPLOAD_LIMIT, photo_cards, rollback, state_label

WORK = "smart_service.unit.work"  # members of handling units work their units' queue here too
GUARD = [requires(SIGN, HANDLE, WORK)]
# The buttons a grid worker has on a case, in the order a case goes.
WORKER_ACTIONS = ("sign", "handle", "feedback", "return")


# The worker's tasks in three groups, as the worker thinks of them: to sign for, being handled,
# handled and waiting for inspection (no action of theirs left; shown so nothing seems lost).
GROUPS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("to_sign", lazy("To sign for"), frozenset({State.DISPATCHED.value})),
    ("handling", lazy("Being handled"), frozenset({State.SIGNED.value, State.HANDLING.value, State.PARKED.value})),
    (
        "reported",
        lazy("Result reported"),
        frozenset({State.FEEDBACK.value, State.INSPECTING.value, State.INSPECTED.value}),
    ),
)
GROUP_LIMIT = 100


def _worker_scope(request: Request) -> Any:
    """Where the worker may sign or handle: a task assigned elsewhere is not theirs to act on."""
    c = ctx(request)
    return in_scope(Event.node_path, sorted({*c.scope_prefixes(SIGN), *c.scope_prefixes(HANDLE)}))


async def my_task(request: Request, event_id: int) -> Event:
    """An event assigned to me, in the area where I may act on it, or in the queue of a unit I
    belong to; else 404."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        event = await services.get_event(c.db, event_id)
    except services.EventNotFound:
        raise NotFoundException() from None
    mine = event.assignee_user_id == c.user.id and (c.can(SIGN, event.node_path) or c.can(HANDLE, event.node_path))
    if not mine and not await units.in_my_queue(c.db, event, c.user.id):
        raise NotFoundException()
    return event


@get("/smart-service/tasks", guards=GUARD)
async def tasks(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    groups = []
    for key, title, states in GROUPS:
        mine = (Event.assignee_user_id == rc.user.id, Event.state.in_(sorted(states)), _worker_scope(request))
        count = int(await db.scalar(select(func.count(Event.id)).where(*mine)) or 0)
        stmt = select(Event).where(*mine).order_by(Event.due_at.is_(None), Event.due_at, Event.id).limit(GROUP_LIMIT)
        items = list((await db.execute(stmt)).scalars())
        groups.append({"key": key, "title": _(title), "count": count, "events": items})
    return await render(
        request,
        "smart_service/tasks.html",
        {"groups": groups, "state_label": state_label, "limit": GROUP_LIMIT, "c": rc},
    )


async def _task_page(request: Request, event: Event, *, error: str | None = None, status_code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    lines = await services.timeline(c.db, event.id)
    report_photos = [p for line in lines if line.action == "report" for p in (line.photos or [])]
    handled = [p for line in lines if line.action in ("feedback", "handle_on_spot") for p in (line.photos or [])]
    actions = [a for a in WORKER_ACTIONS if a in services.allowed_actions(event)]
    if event.assignee_user_id is not None and event.assignee_user_id != c.user.id:
        actions = []  # another member of the unit signed for it: theirs to work
    return await render(
        request,
        "smart_service/task.html",
        {
            "event": event,
            "state": state_label(event.state),
            "actions": actions,
            "labels": {a: _(ACTION_LABELS[a]) for a in WORKER_ACTIONS},
            "report_photos": await photo_cards(request, report_photos),
            "handled_photos": await photo_cards(request, handled),
            "timeline": [(line.at, _(ACTION_LABELS.get(line.action, line.action)), line.note) for line in lines],
            "error": error,
            "max_photos": ph.MAX_COUNT,
            "accept": ph.ACCEPT,
            "c": c,
        },
        status_code=status_code,
    )


@get("/smart-service/tasks/{event_id:int}", guards=GUARD)
async def task(request: Request, event_id: FromPath[int]) -> Any:
    return await _task_page(request, await my_task(request, event_id))


@post(
    "/smart-service/tasks/{event_id:int}/{action:str}",
    guards=GUARD,
    status_code=200,
    request_max_body_size=UPLOAD_LIMIT * 2,
)
async def act(request: Request, event_id: FromPath[int], action: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    """Sign, start, return (a reason is required) or report the result (after photos required,
    before photos welcome)."""
    assert rc.tenant is not None and rc.user is not None
    if action not in WORKER_ACTIONS:
        raise NotFoundException()
    event = await my_task(request, event_id)
    data = await request.form()
    version = data.get("version")
    try:
        photo_ids: list[int] = []
        if action == "feedback":
            for kind in ("before", "after"):
                uploads = [u for u in data.getall(kind) if isinstance(u, UploadFile)] if kind in data else []
                stored = await ph.store_photos(
                    request, db, rc.tenant.id, uploads, event_id=event.id, kind=kind, uploaded_by=rc.user.id
                )
                if kind == "after" and not stored:
                    raise UploadError(_("Add at least one photo of the result (after)."))
                photo_ids.extend(stored.ids)
        await services.transition(
            db,
            event,
            action,
            rc.actor,
            note=str(data.get("note") or ""),
            photos=photo_ids,
            version=int(str(version)) if version else None,
            can=rc.can,
            app_state=request.app.state,
            enabled=rc.enabled,
        )
        await db.commit()
    except UploadError as exc:
        await rollback(request)
        return await _task_page(request, await my_task(request, event_id), error=str(exc), status_code=exc.status)
    except TransitionError as exc:
        await rollback(request)
        return await _task_page(request, await my_task(request, event_id), error=exc.translated(_), status_code=400)
    if action == "return":
        back = "/smart-service/tasks" if rc.can(SIGN) or rc.can(HANDLE) else "/smart-service/queue"
        return Redirect(rc.url(back), status_code=303)
    return Redirect(rc.url(f"/smart-service/tasks/{event_id}"), status_code=303)


handlers = [tasks, task, act]
