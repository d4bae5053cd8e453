"""The live board: columns by state group with counts, and its server-sent stream hearing each
committed change — from the same app, and through Redis from another app process."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from core.app import create_app
from plugins.smart_service import board
from tests.conftest import login, main_text
from tests.core.test_notifications import (  # the streaming transport and Redis helpers
    REDIS_URL,
    _wait_until_subscribed,
    next_event,
    serving,
    streaming_client,
)
from tests.plugins.smart_service.test_staff_pages import District, do, make_district


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await make_district(app, fresh_tenant)
    yield d
    for c in d.clients:
        await c.aclose()


async def streaming(d: District, username: str, app: Any) -> httpx.AsyncClient:
    c = streaming_client(app)
    d.clients.append(c)
    r = await login(c, d.slug, username)
    assert r.status_code == 303
    return c


def counts(html: str) -> dict[str, int]:
    return {k: int(n) for k, n in re.findall(r'id="ss-col-([a-z]+)" data-count="(\d+)"', html)}


async def events_until(lines: AsyncIterator[str], wanted: set[str]) -> set[str]:
    """Server-sent event names read until every one of ``wanted`` has come."""
    seen: set[str] = set()
    while not wanted <= seen:
        name, _data = await asyncio.wait_for(next_event(lines), 5)
        seen.add(str(name))
    return seen


async def test_the_board_shows_columns_with_counts_in_the_users_area(district: District) -> None:
    d = district
    await d.report(node="g01", title="第一网格的新事")
    dispatched = await d.report(node="g01", title="已派遣的事")
    await d.report(node="g02", title="第二网格的新事")
    community = await d.client("community")
    for action in ("accept", "register"):
        await do(d, community, dispatched, action)
    await do(d, community, dispatched, "dispatch", unit_id=d.units["sa"], assignee_user_id=d.users["worker"])

    html = (await community.get(d.url("/smart-service/board"))).text
    assert counts(html) == {"new": 2, "dispatched": 1, "handling": 0, "inspection": 0, "overdue": 0}
    assert 'sse-connect="/t/' in html and 'hx-trigger="sse:board-dispatched"' in html

    worker = await d.client("worker")  # grid g01 only
    html = (await worker.get(d.url("/smart-service/board"))).text
    assert counts(html)["new"] == 1 and "第二网格的新事" not in main_text(html)
    column = await worker.get(d.url("/smart-service/board/columns/dispatched"))
    assert column.status_code == 200 and "已派遣的事" in column.text and "<html" not in column.text
    assert (await worker.get(d.url("/smart-service/board/columns/nonsense"))).status_code == 404


async def test_the_board_stream_hears_a_transition_and_names_the_columns_it_touched(
    app: Any, district: District
) -> None:
    d = district
    event_id = await d.report()
    community = await d.client("community")
    for action in ("accept", "register"):
        await do(d, community, event_id, action)
    watcher = await streaming(d, "community", app)
    async with watcher.stream("GET", d.url("/smart-service/board/stream")) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = r.aiter_lines()
        assert (await asyncio.wait_for(next_event(lines), 5))[0] == "ready"
        await do(d, community, event_id, "dispatch", unit_id=d.units["sa"], assignee_user_id=d.users["worker"])
        assert await events_until(lines, {"board-new", "board-dispatched", "board-overdue"})


async def test_a_report_made_anywhere_else_reaches_the_board_too(app: Any, district: District) -> None:
    """Not only the staff pages: whatever announces a change (a resident's report, a phone, the
    SLA job) reaches the board through the plugin's on_event."""
    d = district
    watcher = await streaming(d, "community", app)
    async with watcher.stream("GET", d.url("/smart-service/board/stream")) as r:
        lines = r.aiter_lines()
        assert (await asyncio.wait_for(next_event(lines), 5))[0] == "ready"
        await d.report(app_state=app.state)
        assert await events_until(lines, {"board-new"})


async def test_a_refused_action_publishes_nothing(app: Any, district: District) -> None:
    d = district
    event_id = await d.report()
    community = await d.client("community")
    async with app.state.channels.start_subscription([board.channel_name(d.tenant.id)]) as sub:
        await do(d, community, event_id, "reject", note="")  # a note is required: refused
        await do(d, community, event_id, "accept")
        message = await asyncio.wait_for(anext(sub.iter_events()), 5)
        assert b'"action": "accept"' in message  # the first message is the accepted one


async def test_the_stream_needs_someone_allowed_to_see_the_board(client: httpx.AsyncClient) -> None:
    r = await client.get("/t/shuangluan/smart-service/board/stream")
    assert r.status_code in (302, 303, 401)


@pytest.fixture
async def two_processes(migrated: Any) -> AsyncIterator[tuple[Any, Any]]:
    if not REDIS_URL:
        pytest.skip("LIUZHI_TEST_REDIS_URL is not set")
    settings = replace(migrated, redis_url=REDIS_URL)
    a, b = create_app(settings), create_app(settings)
    async with serving(a), serving(b):
        yield a, b


async def test_a_change_made_through_one_process_reaches_a_board_served_by_another(
    two_processes: tuple[Any, Any], district: District
) -> None:
    a, b = two_processes
    d = district
    event_id = await d.report()
    acting = await d.client("community", app=a)
    watcher = await streaming(d, "community", b)
    async with watcher.stream("GET", d.url("/smart-service/board/stream")) as r:
        lines = r.aiter_lines()
        assert (await asyncio.wait_for(next_event(lines), 5))[0] == "ready"
        await _wait_until_subscribed(board.channel_name(d.tenant.id))
        r2 = await do(d, acting, event_id, "accept")
        assert r2.status_code == 303
        assert await events_until(lines, {"board-new", "board-overdue"})
