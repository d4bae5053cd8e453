"""My notifications: the list, marking read, the bell's count and its live stream (server-sent events).

A user only ever sees their own notifications: another user's id answers 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage
from sqlalchemy import select

from core.services.notifications.models import InAppNotification
from core.services.notifications.service import channel_name, mark_read, unread
from core.web import sse
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import signed_in
from core.web.pagination import paginate
from core.web.render import is_htmx, render, render_string

PER_PAGE = 20
NO_STORE = {"Cache-Control": "no-store"}


def _safe_link(request: Request, link: str | None) -> str | None:
    """Links are tenant-relative paths; anything else (another site, javascript:) is not linked."""
    if not link or not link.startswith("/") or link.startswith("//"):
        return None
    return ctx(request).url(link)


def _item(request: Request, row: InAppNotification) -> dict[str, Any]:
    return {"row": row, "href": _safe_link(request, row.link)}


@get("/notifications/", guards=[signed_in])
async def notification_list(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _list_page(request, page)


async def _list_page(request: Request, page: int, extra_html: str = "") -> Response[str]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    stmt = (
        select(InAppNotification)
        .where(InAppNotification.user_id == c.user.id)
        .order_by(InAppNotification.created_at.desc(), InAppNotification.id.desc())
    )
    result = await paginate(c.db, stmt, page, PER_PAGE)
    response = await render(
        request,
        "core/notifications.html",
        {
            "page": result,
            "items": [_item(request, r) for r in result.items],
            "unread_total": await unread(c.db, c.user.id),
        },
        headers=NO_STORE,
    )
    if extra_html:
        response.content = str(response.content) + extra_html
    return response


def _badge(count: int) -> str:
    """The bell's number, swapped in out-of-band so an htmx click updates it at once."""
    return f'<span id="lz-unread" hx-swap-oob="innerHTML">{count}</span>'


@post("/notifications/{notification_id:int}/read", guards=[signed_in], status_code=200)
async def read_one(request: Request, notification_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    count = await mark_read(request.app.state, db, rc.user.id, notification_id)
    if count is None:
        raise NotFoundException()
    await db.commit()
    if not is_htmx(request):
        return Redirect(rc.url("/notifications/"), status_code=303)
    row = await db.get(InAppNotification, (rc.tenant.id, notification_id)) if rc.tenant else None
    assert row is not None
    html = render_string(request, "core/notifications_item.html", {"item": _item(request, row), "c": rc})
    return Response(html + _badge(count), media_type="text/html", headers=NO_STORE)


@post("/notifications/read-all", guards=[signed_in], status_code=200)
async def read_all(request: Request, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    await mark_read(request.app.state, db, rc.user.id)
    await db.commit()
    if not is_htmx(request):
        return Redirect(rc.url("/notifications/"), status_code=303)
    # The list again, without highlights, and the bell at 0.
    return await _list_page(request, 1, extra_html=_badge(0))


@get("/notifications/count", guards=[signed_in])
async def count(request: Request, db: DbSession, rc: Ctx) -> Response[str]:
    assert rc.user is not None
    html = render_string(request, "core/notifications_count.html", {"count": await unread(db, rc.user.id)})
    return Response(html, media_type="text/html", headers=NO_STORE)


@get("/notifications/stream", guards=[signed_in])
async def stream(request: Request, db: DbSession, rc: Ctx) -> ServerSentEvent:
    """The bell's live count: the current number first, then every number published for this user."""
    assert rc.tenant is not None and rc.user is not None
    tenant_id, user_id = rc.tenant.id, rc.user.id
    # The stream may stay open for hours: hold no database connection while it does.
    await db.close()
    state = request.app.state
    return ServerSentEvent(
        _unread_events(state.channels, state.db, tenant_id, user_id),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _unread_events(channels: Any, db: Any, tenant_id: int, user_id: int) -> AsyncIterator[Any]:
    async with channels.start_subscription([channel_name(tenant_id, user_id)]) as subscriber:
        # Subscribed before counting, so a notification arriving meanwhile is not missed.
        async with db.session(tenant_id) as s:
            current = await unread(s, user_id)
        yield ServerSentEventMessage(event="unread", data=str(current), retry=sse.RETRY_MS)
        async with aclosing(sse.messages(subscriber)) as incoming:
            async for data in incoming:
                yield sse.keep_alive() if data is None else ServerSentEventMessage(event="unread", data=data.decode())


handlers = [notification_list, read_one, read_all, count, stream]
