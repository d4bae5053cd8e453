"""Test harness: every suite runs on SQLite by default and on PostgreSQL when
LIUZHI_TEST_DATABASE_URL points at a server (a fresh database is made per run, the schema is
built by the migrations, the app connects as a non-owner role so row-level security applies).

Fixtures speak as users: ``login(client, "admin")``, ``as_admin``, ``as_grid_worker`` …
"""

from __future__ import annotations

import contextlib
import os

# Real argon2id with test-sized parameters (set before core is imported).
os.environ.setdefault("LIUZHI_PASSWORD_HASHING", "fast")
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.config import REPO_ROOT, Settings
from core.db.engine import make_engine

PG_URL = os.environ.get("LIUZHI_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LIUZHI_TEST_REDIS_URL")
DEMO_PASSWORD = "liuzhi-demo"
APP_ROLE = "liuzhi_app_test"


def pytest_report_header(config: Any) -> str:
    return f"liuzhi database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def tmp_data_dir() -> Any:
    with tempfile.TemporaryDirectory(prefix="liuzhi-test-") as d:
        yield Path(d)


async def _create_pg_database() -> tuple[str, str, str]:
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"liuzhi_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(str(base), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        exists = await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE})
        if not exists:
            await conn.execute(text(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    await admin.dispose()
    owner = base.set(database=name)
    app = owner.set(username=APP_ROLE, password=None)
    return name, owner.render_as_string(hide_password=False), app.render_as_string(hide_password=False)


async def _drop_pg_database(name: str) -> None:
    assert PG_URL is not None
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
async def settings(tmp_data_dir: Path) -> AsyncIterator[Settings]:
    base = Settings.from_env()
    if PG_URL:
        name, owner_url, app_url = await _create_pg_database()
        s = replace(base, database_url=app_url, migrate_database_url=owner_url)
    else:
        name = ""
        sqlite_url = f"sqlite+aiosqlite:///{tmp_data_dir / 'test.sqlite3'}"
        s = replace(base, database_url=sqlite_url, migrate_database_url=None)
    s = replace(
        s,
        data_dir=tmp_data_dir,
        secret_key="test-secret",
        data_keys=("test-secret",),
        tenants_dir=REPO_ROOT / "tenants",
        redis_url=None,
        base_domain="liuzhi.test",
        # Usage counts reach the database only when a test flushes them (or at the end): a flush in
        # the middle of a test that compares a tenant's rows would add one.
        ops=replace(base.ops, usage_flush_seconds=3600.0),
    )
    yield s
    if PG_URL:
        await _drop_pg_database(name)


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> Settings:
    """Schema through the migrations, then the demo tenants from tenants/ with their accounts."""
    from core.app import load_models
    from core.crypto import Vault
    from core.db.engine import Database
    from core.db.migrate import upgrade
    from core.pluginhost.manager import PluginHost
    from core.services.files.storage import LocalStorage
    from core.tenancy.definitions import read_all
    from core.tenancy.demo import seed_demo, seed_operator
    from core.tenancy.service import apply_definition

    host = PluginHost()
    load_models(host)
    await upgrade(settings, host)
    db = Database(settings.database_url)
    for d in read_all(settings.tenants_dir):
        await apply_definition(db, host, d)
        await seed_demo(
            db,
            host,
            d,
            vault=Vault(settings.data_keys, settings.hash_key),
            storage=LocalStorage(settings.data_dir / "files"),
        )
    await seed_operator(db)
    await db.dispose()
    return settings


async def start_app(application: Any) -> AsyncExitStack:
    """What ``application.lifespan()`` does (lifespan managers such as channels, then on_startup),
    without its anyio cancel scope, which cannot span pytest-asyncio's fixture tasks. Close the
    returned stack to shut the app down."""
    stack = AsyncExitStack()
    for hook in application.on_shutdown[::-1]:
        stack.push_async_callback(hook, application)
    for manager in application._lifespan_managers:
        cm = manager if isinstance(manager, AbstractAsyncContextManager) else manager(application)
        await stack.enter_async_context(cm)
    for hook in application.on_startup:
        await hook(application)
    return stack


@pytest.fixture(scope="session")
async def app(migrated: Settings) -> AsyncIterator[Any]:
    from core.app import create_app

    application = create_app(migrated)
    stack = await start_app(application)
    yield application
    await stack.aclose()


@pytest.fixture(scope="session")
def db(app: Any) -> Any:
    return app.state.db


@pytest.fixture(scope="session")
def host(app: Any) -> Any:
    return app.state.plugins


def make_client(application: Any, host: str = "localhost") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=("127.0.0.1", 50000)),
        base_url=f"http://{host}",
        follow_redirects=False,
    )


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c


def csrf_of(client: httpx.AsyncClient) -> str:
    return client.cookies.get("liuzhi_csrf") or ""


async def form_post(
    client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    """POST a form the way a browser does: with the CSRF token from the cookie."""
    if not csrf_of(client):
        await client.get(url.rsplit("/", 1)[0] + "/login" if "/t/" in url else "/platform/login")
    payload = {"_csrf_token": csrf_of(client), **(data or {})}
    return await client.post(url, data=payload, **kw)


async def login(client: httpx.AsyncClient, tenant: str, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    await client.get(f"/t/{tenant}/login")
    r = await client.post(
        f"/t/{tenant}/login",
        data={"username": username, "password": password, "_csrf_token": csrf_of(client), "next": ""},
    )
    return r


@pytest.fixture
async def signed_in(app: Any) -> AsyncIterator[Any]:
    """``await signed_in("shuangluan", "admin")`` → a client logged in as that demo user."""
    clients: list[httpx.AsyncClient] = []

    async def make(tenant: str = "shuangluan", username: str = "admin") -> httpx.AsyncClient:
        c = make_client(app)
        clients.append(c)
        r = await login(c, tenant, username)
        assert r.status_code == 303, f"login as {username}@{tenant} failed: {r.status_code} {r.text[:300]}"
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def as_admin(signed_in: Any) -> httpx.AsyncClient:
    return await signed_in("shuangluan", "admin")


@pytest.fixture
async def as_grid_worker(signed_in: Any) -> httpx.AsyncClient:
    return await signed_in("shuangluan", "grid_worker")


@pytest.fixture
async def as_resident(signed_in: Any) -> httpx.AsyncClient:
    return await signed_in("shuangluan", "resident")


@pytest.fixture
async def as_operator(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        await c.get("/platform/login")
        r = await c.post(
            "/platform/login",
            data={"username": "operator", "password": DEMO_PASSWORD, "_csrf_token": csrf_of(c), "next": ""},
        )
        assert r.status_code == 303, r.text[:300]
        yield c


@pytest.fixture
async def fresh_tenant(app: Any) -> AsyncIterator[Any]:
    """A new, empty tenant for tests that change tenant state; removed afterwards."""
    from core.db.engine import Database
    from core.tenancy.service import create_tenant, delete_tenant

    slug = "t-" + secrets.token_hex(4)
    tenant = await create_tenant(app.state.db, app.state.plugins, slug, "测试区", "Test District")
    yield tenant
    owner = Database(app.state.settings.owner_url)
    try:
        from core.tenancy.service import TenantError, get_tenant

        with contextlib.suppress(TenantError):
            await delete_tenant(app.state.db, owner, await get_tenant(app.state.db, slug))
    finally:
        await owner.dispose()
    app.state.tenant_cache.clear()


def main_text(html: str) -> str:
    """The visible text of <main>, for assertions about what a user reads."""
    m = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    body = m.group(1) if m else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def nav_links(html: str) -> list[str]:
    m = re.search(r'<nav id="lz-nav".*?</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', m.group(0)) if m else []
