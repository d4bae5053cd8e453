"""Degraded, not broken: with the database unreachable, pages answer a styled 503 with Retry-After,
the API and Open311 answer in their own formats, /healthz names the dependency that is down and
/readyz tells a load balancer to wait; with the database back, everything answers again."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.db.engine import Database

DEAD_URL = "postgresql+asyncpg://nobody@127.0.0.1:1/gone"


@contextlib.contextmanager
def database_down(app: Any) -> Iterator[None]:
    real = app.state.db
    dead = Database(DEAD_URL)
    app.state.db = dead
    app.state.tenant_cache.clear()
    try:
        yield
    finally:
        app.state.db = real
        app.state.tenant_cache.clear()


@pytest.fixture
async def down(app: Any) -> Any:
    with database_down(app):
        yield app


async def test_a_page_answers_a_styled_503_with_retry_after(client: Any, down: Any) -> None:
    r = await client.get("/t/shuangluan/residents/", headers={"Accept-Language": "en"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.headers["content-type"].startswith("text/html")
    # Styled: the shell's stylesheet under its content-hashed URL, with no database behind it.
    assert re.search(r'<link rel="stylesheet" href="/assets/[0-9a-f]{12}/core/shell\.css">', r.text)
    assert "cannot be reached" in r.text or "数据库暂时无法连接" in r.text


async def test_the_api_and_open311_answer_503_in_their_own_formats(client: Any, down: Any) -> None:
    r = await client.get("/t/shuangluan/api/v1/me")
    assert r.status_code == 503 and r.json()["status_code"] == 503
    r = await client.get("/open311/v2/services.json?jurisdiction_id=shuangluan")
    assert r.status_code == 503 and r.json()[0]["code"] == 503
    r = await client.get("/open311/v2/services.xml?jurisdiction_id=shuangluan")
    assert r.status_code == 503 and "<errors>" in r.text and "<code>503</code>" in r.text


async def test_healthz_names_the_dependency_that_is_down_and_readyz_says_wait(client: Any, down: Any) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "degraded" and r.json()["down"] == ["database"]
    r = await client.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["checks"]["database"] == "down"


async def test_everything_answers_again_when_the_database_is_back(app: Any, client: Any) -> None:
    with database_down(app):
        assert (await client.get("/t/shuangluan/login")).status_code == 503
    assert (await client.get("/t/shuangluan/login")).status_code == 200
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["ready"] is True
    assert (await client.get("/healthz")).json() == {
        "status": "ok",
        "down": [],
        "checks": {"database": "ok", "redis": "not configured"},
    }


async def test_a_database_lost_while_closing_the_request_session_does_not_cut_the_response() -> None:
    """The probe saw it: the database restarted while a request's session was closing; the rollback
    failed after the response had started and the client got a broken connection. Closing now
    swallows an outage (the pool has dropped the connection) and still raises anything else."""
    from sqlalchemy.exc import OperationalError

    from core.web.context import close_quietly

    class Session:
        def __init__(self, error: Exception) -> None:
            self.error = error

        async def close(self) -> None:
            raise self.error

    await close_quietly(Session(OperationalError("ROLLBACK", {}, ConnectionResetError("terminating connection"))))
    with pytest.raises(ValueError):
        await close_quietly(Session(ValueError("a bug")))
