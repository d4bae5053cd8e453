"""The login brake: forwarded addresses only from trusted proxies, atomic counts per account and per
address, exponential back-off instead of a lock anyone can trigger, an operator nobody outside can
lock out, and a platform console limited to allowed addresses."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from core.identity.throttle import RedisCounter, SqlCounter, delay
from core.tenancy.service import ensure_user
from core.web.proxies import parse_networks
from tests.conftest import DEMO_PASSWORD, REDIS_URL, csrf_of


def client_at(app: Any, address: str, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 50000)),
        base_url="http://localhost",
        headers=headers,
    )


async def attempt(c: httpx.AsyncClient, url: str, username: str, password: str) -> httpx.Response:
    if not csrf_of(c):
        await c.get(url)
    return await c.post(url, data={"username": username, "password": password, "_csrf_token": csrf_of(c)})


@pytest.fixture
async def account(app: Any, fresh_tenant: Any) -> tuple[str, str, str]:
    async with app.state.db.transaction(fresh_tenant.id) as s:
        await ensure_user(s, "li", "李网格", "correct-horse", None, None)
    return f"/t/{fresh_tenant.slug}/login", "li", f"t{fresh_tenant.id}"


@contextlib.contextmanager
def state(app: Any, **values: Any) -> Iterator[None]:
    before = {k: app.state[k] for k in values}
    app.state.update(values)
    try:
        yield
    finally:
        app.state.update(before)


def test_back_off_doubles_from_the_free_attempts_up_to_its_cap() -> None:
    assert [delay(n, 5, 2.0, 900) for n in (0, 4, 5, 6, 7, 10)] == [0, 0, 2, 4, 8, 64]
    assert delay(40, 5, 2.0, 900) == 900


async def test_after_five_failures_the_next_try_waits_then_works(app: Any, account: Any, monkeypatch: Any) -> None:
    url, name, _realm = account
    now = [float(int(time.time()))]
    monkeypatch.setattr(app.state.login_brake, "clock", lambda: now[0])  # the brake's time: moved, not waited
    async with client_at(app, "127.0.1.1") as c:
        for _ in range(5):
            assert (await attempt(c, url, name, "wrong")).status_code == 400
        r = await attempt(c, url, name, "correct-horse")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) == 2  # the first back-off: 2 s
        assert "秒" in r.text or "seconds" in r.text
        now[0] += 1.9
        assert (await attempt(c, url, name, "correct-horse")).status_code == 429
        now[0] += 0.2
        assert (await attempt(c, url, name, "correct-horse")).status_code == 303


async def test_failures_from_elsewhere_do_not_lock_the_user_out(app: Any, account: Any) -> None:
    url, name, _realm = account
    async with client_at(app, "127.0.2.1") as attacker:
        for _ in range(12):
            await attempt(attacker, url, name, "guess")
        assert (await attempt(attacker, url, name, "guess")).status_code == 429
    async with client_at(app, "127.0.2.2") as owner:
        assert (await attempt(owner, url, name, "correct-horse")).status_code == 303


@pytest.fixture(params=["database", "redis"])
async def counter(request: Any, app: Any) -> AsyncIterator[Any]:
    if request.param == "database":
        yield SqlCounter(app.state.db)
        return
    if not REDIS_URL:
        pytest.skip("LIUZHI_TEST_REDIS_URL is not set")
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    yield RedisCounter(redis, namespace="liuzhi-test:brake")
    await redis.aclose()


async def test_concurrent_hits_on_one_counter_are_never_lost(counter: Any) -> None:
    await counter.clear("test:atomic")
    await asyncio.gather(*(counter.hit("test:atomic", 60, time.time()) for _ in range(25)))
    found = await counter.peek(["test:atomic"])
    await counter.clear("test:atomic")
    assert found["test:atomic"].failures == 25


async def test_the_operator_cannot_be_locked_out_from_outside(app: Any) -> None:
    async with client_at(app, "127.0.4.1") as attacker:
        for _ in range(25):
            await attempt(attacker, "/platform/login", "operator", "guess")
        assert (await attempt(attacker, "/platform/login", "operator", "guess")).status_code == 429
    async with client_at(app, "127.0.4.2") as operator:
        r = await attempt(operator, "/platform/login", "operator", DEMO_PASSWORD)
    assert r.status_code == 303


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app: Any, account: Any) -> None:
    url, name, realm = account
    brake = app.state.login_brake
    # No trusted proxies (the default): a client cannot pick its address by header.
    async with client_at(app, "127.0.5.1", **{"X-Forwarded-For": "203.0.113.7"}) as c:
        await attempt(c, url, name, "wrong")
    assert await brake.counter.peek([f"{realm}:a:127.0.5.1"])
    assert not await brake.counter.peek([f"{realm}:a:203.0.113.7"])
    # Behind a trusted proxy, the right-most untrusted hop is the client; a prepended one is not.
    with state(app, trusted_proxies=parse_networks(["127.0.5.0/24"])):
        async with client_at(app, "127.0.5.2", **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}) as c:
            await attempt(c, url, name, "wrong")
    assert await brake.counter.peek([f"{realm}:a:203.0.113.9"])
    assert not await brake.counter.peek([f"{realm}:a:198.51.100.1"])
    assert not await brake.counter.peek([f"{realm}:a:127.0.5.2"])


async def test_the_platform_console_answers_only_allowed_addresses(app: Any) -> None:
    with state(app, platform_allowed=parse_networks(["10.20.0.0/16"])):
        async with client_at(app, "127.0.6.1") as outside:
            assert (await outside.get("/platform/login")).status_code == 404
        async with client_at(app, "10.20.3.4") as inside:
            assert (await inside.get("/platform/login")).status_code == 200


def test_liuzhi_serve_does_not_let_uvicorn_trust_forwarded_headers(monkeypatch: Any) -> None:
    import uvicorn
    from click.testing import CliRunner

    from core.cli import cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    result = CliRunner().invoke(cli, ["serve", "--port", "8013"])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is False
    assert "forwarded_allow_ips" not in seen
