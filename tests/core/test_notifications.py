"""Notifications: the list and the bell, marking read, only one's own, the live stream, adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core import hookimpl
from core.app import create_app
from core.pluginhost.manifest import Notification
from core.services.notifications import channel_name, notify
from core.services.notifications.models import InAppNotification
from core.tenancy.service import ensure_user
from tests.conftest import DEMO_PASSWORD, csrf_of, form_post, login, main_text, start_app

REDIS_URL = os.environ.get("LIUZHI_TEST_REDIS_URL")


# ---- an httpx transport that streams -------------------------------------------------------


class _ChunkStream(httpx.AsyncByteStream):
    def __init__(self, chunks: asyncio.Queue[bytes | None], closed: asyncio.Event, task: asyncio.Task[None]) -> None:
        self.chunks, self.closed, self.task = chunks, closed, task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self.chunks.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self.closed.set()  # the app hears "http.disconnect" and ends the response
        await asyncio.wait_for(self.task, timeout=5)


class StreamingTransport(httpx.AsyncBaseTransport):
    """httpx's ASGITransport waits for the whole body, so an endless event stream never returns;
    this one hands each chunk over as the app sends it and disconnects when the response closes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
        }
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        started: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        closed = asyncio.Event()
        body_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await closed.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result(message)
            elif message["type"] == "http.response.body":
                await chunks.put(message.get("body", b""))
                if not message.get("more_body", False):
                    await chunks.put(None)

        task = asyncio.create_task(self.app(scope, receive, send))
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # the app failed before answering: raise its error
            raise RuntimeError("the app ended without a response")
        start = started.result()
        return httpx.Response(start["status"], headers=start["headers"], stream=_ChunkStream(chunks, closed, task))


def streaming_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=StreamingTransport(app), base_url="http://localhost", follow_redirects=False)


async def next_event(lines: AsyncIterator[str]) -> tuple[str | None, str]:
    """The next server-sent event (its name and data), skipping keep-alive comments."""
    name, data = None, None
    async for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = line.split(":", 1)[1].strip()
        elif line == "" and data is not None:
            return name, data
    raise AssertionError("the stream ended")


# ---- people and notifications --------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(application: Any) -> AsyncIterator[Any]:
    stack = await start_app(application)
    try:
        yield application
    finally:
        await stack.aclose()


@pytest.fixture
async def people(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    """Two staff members of a new district, ana and bo, who read the English interface."""
    ids = {}
    async with app.state.db.transaction(fresh_tenant.id) as s:
        for name in ("ana", "bo"):
            user, _ = await ensure_user(s, name, name.title(), DEMO_PASSWORD, None, None)
            user.locale = "en"
            ids[name] = user.id
    return {"tenant": fresh_tenant, "slug": fresh_tenant.slug, **ids}


async def send(app: Any, tenant_id: int, user_id: int, title: str, **kw: Any) -> int:
    async with app.state.db.transaction(tenant_id) as s:
        row = await notify(app.state, s, Notification(tenant_id, user_id, title, **kw))
    return row.id


def bell(html: str) -> tuple[str, bool]:
    """The bell's number and whether it is shown."""
    m = re.search(r'<span id="lz-unread"([^>]*)>([^<]*)</span>', html)
    assert m, "no notification bell on the page"
    return m.group(2).strip(), "hidden" not in m.group(1)


def highlighted(html: str) -> list[str]:
    return re.findall(r'class="lz-note lz-note-unread"[^>]*>.*?<strong>([^<]+)</strong>', html, re.S)


@pytest.fixture
async def sign_in() -> AsyncIterator[Any]:
    """``await sign_in(app, slug, "ana")`` → a signed-in client (``streaming=True``: one that streams)."""
    from tests.conftest import make_client

    clients: list[httpx.AsyncClient] = []

    async def make(application: Any, slug: str, username: str, streaming: bool = False) -> httpx.AsyncClient:
        c = streaming_client(application) if streaming else make_client(application)
        clients.append(c)
        r = await login(c, slug, username)
        assert r.status_code == 303, r.text[:300]
        return c

    yield make
    for c in clients:
        await c.aclose()


async def test_a_new_notification_appears_in_the_list_and_raises_the_bell(
    sign_in: Any, app: Any, people: dict[str, Any]
) -> None:
    tid, slug = people["tenant"].id, people["slug"]
    ana = await sign_in(app, slug, "ana")
    page = (await ana.get(f"/t/{slug}/notifications/")).text
    assert bell(page) == ("0", False)
    assert "No notifications yet" in main_text(page)

    await send(app, tid, people["ana"], "Event 17 was assigned to you", body="Broken street lamp", link="/grid/")
    await send(app, tid, people["ana"], "Meeting moved to Friday")
    page = (await ana.get(f"/t/{slug}/notifications/")).text
    text = main_text(page)
    assert bell(page) == ("2", True)
    assert text.index("Meeting moved to Friday") < text.index("Event 17 was assigned to you")  # newest first
    assert "Broken street lamp" in text
    assert highlighted(page) == ["Meeting moved to Friday", "Event 17 was assigned to you"]
    assert f'href="/t/{slug}/grid/"' in page
    assert bell((await ana.get(f"/t/{slug}/")).text) == ("2", True)  # the bell is on every page
    assert "2" in (await ana.get(f"/t/{slug}/notifications/count")).text


async def test_marking_read_lowers_the_bell(sign_in: Any, app: Any, people: dict[str, Any]) -> None:
    tid, slug = people["tenant"].id, people["slug"]
    first = await send(app, tid, people["ana"], "First")
    await send(app, tid, people["ana"], "Second")
    await send(app, tid, people["ana"], "Third")
    ana = await sign_in(app, slug, "ana")
    await ana.get(f"/t/{slug}/notifications/")
    r = await form_post(ana, f"/t/{slug}/notifications/{first}/read")
    assert r.status_code == 303
    page = (await ana.get(f"/t/{slug}/notifications/")).text
    assert bell(page) == ("2", True)
    assert highlighted(page) == ["Third", "Second"]

    # htmx: the item comes back without its highlight and the bell is updated in the same answer
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_of(ana)}
    r = await ana.post(f"/t/{slug}/notifications/read-all", headers=headers)
    assert r.status_code == 200
    assert '<span id="lz-unread" hx-swap-oob="innerHTML">0</span>' in r.text
    assert "<html" not in r.text and highlighted(r.text) == []
    page = (await ana.get(f"/t/{slug}/notifications/")).text
    assert bell(page) == ("0", False)
    assert "Mark all as read" not in page


async def test_marking_one_read_with_htmx_returns_the_item_and_the_new_count(
    sign_in: Any, app: Any, people: dict[str, Any]
) -> None:
    tid, slug = people["tenant"].id, people["slug"]
    note = await send(app, tid, people["ana"], "Water cut on Monday")
    await send(app, tid, people["ana"], "Another")
    ana = await sign_in(app, slug, "ana")
    await ana.get(f"/t/{slug}/notifications/")
    r = await ana.post(
        f"/t/{slug}/notifications/{note}/read", headers={"HX-Request": "true", "X-CSRFToken": csrf_of(ana)}
    )
    assert r.status_code == 200
    assert f'id="note-{note}"' in r.text and "Water cut on Monday" in r.text
    assert "lz-note-unread" not in r.text and "Mark as read" not in r.text
    assert '<span id="lz-unread" hx-swap-oob="innerHTML">1</span>' in r.text


async def test_another_users_notification_is_not_found(sign_in: Any, app: Any, people: dict[str, Any]) -> None:
    tid, slug = people["tenant"].id, people["slug"]
    note = await send(app, tid, people["ana"], "For Ana only")
    bo = await sign_in(app, slug, "bo")
    page = (await bo.get(f"/t/{slug}/notifications/")).text
    assert "For Ana only" not in page and "No notifications yet" in main_text(page)
    assert (await form_post(bo, f"/t/{slug}/notifications/{note}/read")).status_code == 404
    await form_post(bo, f"/t/{slug}/notifications/read-all")
    async with app.state.db.session(tid) as s:
        row = await s.get(InAppNotification, (tid, note))
    assert row is not None and row.read_at is None  # bo's "read all" did not touch Ana's


async def test_another_districts_notification_is_not_found(app: Any, as_admin: Any, people: dict[str, Any]) -> None:
    note = await send(app, people["tenant"].id, people["ana"], "Elsewhere")
    assert (await form_post(as_admin, f"/t/shuangluan/notifications/{note}/read")).status_code == 404


async def test_a_long_list_is_paginated(sign_in: Any, app: Any, people: dict[str, Any]) -> None:
    tid, slug = people["tenant"].id, people["slug"]
    async with app.state.db.transaction(tid) as s:
        for i in range(25):
            await notify(app.state, s, Notification(tid, people["bo"], f"Notice {i:02d}"))
    bo = await sign_in(app, slug, "bo")
    first = main_text((await bo.get(f"/t/{slug}/notifications/")).text)
    second = main_text((await bo.get(f"/t/{slug}/notifications/?page=2")).text)
    assert len(re.findall(r"Notice \d\d", first)) == 20 and "Page 1 of 2" in first
    assert len(re.findall(r"Notice \d\d", second)) == 5 and "Page 2 of 2" in second


async def test_the_stream_sends_the_current_count_first_then_each_new_one(
    sign_in: Any, app: Any, people: dict[str, Any]
) -> None:
    tid, slug = people["tenant"].id, people["slug"]
    await send(app, tid, people["ana"], "One")
    await send(app, tid, people["ana"], "Two")
    client = await sign_in(app, slug, "ana", streaming=True)
    async with client.stream("GET", f"/t/{slug}/notifications/stream") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = r.aiter_lines()
        assert await asyncio.wait_for(next_event(lines), 5) == ("unread", "2")
        await send(app, tid, people["ana"], "Three")
        assert await asyncio.wait_for(next_event(lines), 5) == ("unread", "3")
        await send(app, tid, people["bo"], "Not Ana's")  # another user's channel: not on this stream
        async with app.state.db.transaction(tid) as s:
            from core.services.notifications import mark_read

            await mark_read(app.state, s, people["ana"])
        assert await asyncio.wait_for(next_event(lines), 5) == ("unread", "0")


async def test_the_stream_needs_a_signed_in_user(client: Any) -> None:
    r = await client.get("/t/shuangluan/notifications/stream")
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


async def test_a_rolled_back_notification_is_never_announced(app: Any, people: dict[str, Any]) -> None:
    from core.services.notifications import mark_read

    tid, bo = people["tenant"].id, people["bo"]
    async with app.state.channels.start_subscription([channel_name(tid, bo)]) as sub:
        events = sub.iter_events()
        await send(app, tid, bo, "Kept")
        assert await asyncio.wait_for(anext(events), 5) == b"1"
        with pytest.raises(RuntimeError):
            async with app.state.db.transaction(tid) as s:
                await notify(app.state, s, Notification(tid, bo, "Will be rolled back"))
                raise RuntimeError("the caller's work failed")
        async with app.state.db.transaction(tid) as s:
            await mark_read(app.state, s, bo)
        assert await asyncio.wait_for(anext(events), 5) == b"0"  # no "2" in between


class SmsGateway:
    """An adapter plugin: takes SMS, leaves other channels to others."""

    __liuzhi_name__ = "test_sms_gateway"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Notification]] = []

    @hookimpl
    def send_notification(self, notification: Notification, channel: str) -> bool | None:
        if channel != "sms":
            return None
        self.sent.append((channel, notification))
        return True


@pytest.fixture
async def gateway_app(migrated: Any) -> AsyncIterator[tuple[Any, SmsGateway]]:
    # Made in a fixture: creating an app configures logging, which would unhook caplog mid-test.
    gateway = SmsGateway()
    other = create_app(migrated, extra_plugins=[gateway])
    async with serving(other):
        yield other, gateway


async def test_sms_goes_to_the_adapter_and_unanswered_channels_to_the_log(
    app: Any, gateway_app: tuple[Any, SmsGateway], people: dict[str, Any], caplog: Any
) -> None:
    tid = people["tenant"].id
    other, gateway = gateway_app
    with caplog.at_level(logging.INFO, logger="liuzhi.notify"):
        async with other.state.db.transaction(tid) as s:
            note = Notification(tid, people["ana"], "Your booking is confirmed", channels=("inapp", "sms", "wechat"))
            await notify(other.state, s, note)
    assert [(ch, n.title) for ch, n in gateway.sent] == [("sms", "Your booking is confirmed")]
    logged = [r.getMessage() for r in caplog.records if r.name == "liuzhi.notify"]
    assert any("[wechat]" in m and "Your booking is confirmed" in m for m in logged)
    assert not any("[sms]" in m for m in logged)  # the gateway answered: no fallback
    async with app.state.db.session(tid) as s:
        titles = (await s.execute(select(InAppNotification.title))).scalars().all()
    assert titles == ["Your booking is confirmed"]  # and it is in the app too


async def test_without_an_adapter_the_fallback_logs_the_message(app: Any, people: dict[str, Any], caplog: Any) -> None:
    tid = people["tenant"].id
    with caplog.at_level(logging.INFO, logger="liuzhi.notify"):
        await send(app, tid, people["bo"], "Inspection tomorrow", channels=("inapp", "sms"))
    assert any(
        r.name == "liuzhi.notify" and "[sms]" in r.getMessage() and "Inspection tomorrow" in r.getMessage()
        for r in caplog.records
    )


# ---- several processes: Redis carries the count ---------------------------------------------


@pytest.fixture
async def two_processes(migrated: Any) -> AsyncIterator[tuple[Any, Any]]:
    if not REDIS_URL:
        pytest.skip("LIUZHI_TEST_REDIS_URL is not set")
    settings = replace(migrated, redis_url=REDIS_URL)
    a, b = create_app(settings), create_app(settings)
    async with serving(a), serving(b):
        yield a, b


async def _wait_until_subscribed(channel: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        for _ in range(200):
            if (await redis.pubsub_numsub(channel))[0][1] >= 1:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"nobody subscribed to {channel}")
    finally:
        await redis.aclose()


async def test_a_count_published_by_one_process_reaches_another(
    two_processes: tuple[Any, Any], people: dict[str, Any]
) -> None:
    a, b = two_processes
    tid, ana = people["tenant"].id, people["ana"]
    channel = channel_name(tid, ana)
    async with b.state.channels.start_subscription([channel]) as sub:
        await _wait_until_subscribed(channel)
        await send(a, tid, ana, "Sent by process A")
        assert await asyncio.wait_for(anext(sub.iter_events()), 5) == b"1"


async def test_a_stream_served_by_one_process_hears_a_notification_sent_by_another(
    sign_in: Any, two_processes: tuple[Any, Any], people: dict[str, Any]
) -> None:
    a, b = two_processes
    tid, slug, ana = people["tenant"].id, people["slug"], people["ana"]
    client = await sign_in(b, slug, "ana", streaming=True)
    async with client.stream("GET", f"/t/{slug}/notifications/stream") as r:
        lines = r.aiter_lines()
        assert await asyncio.wait_for(next_event(lines), 5) == ("unread", "0")
        await _wait_until_subscribed(channel_name(tid, ana))
        await send(a, tid, ana, "Sent by process A " + secrets.token_hex(2))
        assert await asyncio.wait_for(next_event(lines), 5) == ("unread", "1")
