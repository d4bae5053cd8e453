"""``liuzhi.testing``: the pytest plugin Liuzhi ships for its own tests and for plugin authors.

Loaded by the ``pytest11`` entry point of the installed product (or ``pytest_plugins =
["liuzhi.testing"]`` in a conftest). Every test runs on SQLite by default and on PostgreSQL when
``LIUZHI_TEST_DATABASE_URL`` names a server: a fresh database is made per run, the schema is
built by the migrations (core's and every installed plugin's branch), and the app connects as a
non-owner role so row-level security applies.

Fixtures (docs/plugins.md "Testing a plugin"):

- ``settings`` / ``migrated`` — the run's settings; the database migrated, demo tenants applied.
- ``app`` — the app with every installed plugin (``app_with(*objects)`` for extra plugin objects).
- ``districts`` — ``await districts(app, enable=["my_plugin"])``: a new district, removed after.
- ``district_on`` / ``district_off`` — a district with ``liuzhi_plugin`` on / off, one user per
  role in ``ROLES`` (username = role code) at the district's root, and ``worker_a`` (a community
  worker of community ``a`` only, for scope tests).
- ``client_as`` — ``await client_as(district, "community_worker")``: a signed-in client;
  ``form_post(client, url, data)`` posts a form with its CSRF token.
- ``tenant_session`` — ``async with tenant_session(district) as s``: a session bound to the
  district (commits on success), what a CLI command or a job gets from ``liuzhi.api.tenant_session``.

Templates are strict here (``StrictUndefined``): a missing variable fails the test, while
production logs it and renders it empty.
"""

from __future__ import annotations

import contextlib
import gc
import os

# Set before core is imported: real argon2id with test-sized parameters; strict templates.
os.environ.setdefault("LIUZHI_PASSWORD_HASHING", "fast")
os.environ.setdefault("LIUZHI_STRICT_TEMPLATES", "1")

import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import REPO_ROOT, Settings
from core.db.engine import make_engine

PG_URL = os.environ.get("LIUZHI_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LIUZHI_TEST_REDIS_URL")
DEMO_PASSWORD = "liuzhi-demo"
APP_ROLE = "liuzhi_app_test"
# One user per built-in role in ``district_on`` / ``district_off``; the username is the role code.
ROLES = ("district_admin", "community_secretary", "community_worker", "grid_worker", "resident")

__all__ = [
    "DEMO_PASSWORD",
    "PG_URL",
    "REDIS_URL",
    "ROLES",
    "District",
    "create_pg_database",
    "csrf_of",
    "definition",
    "drop_pg_database",
    "drop_tenant",
    "forget_tables",
    "form_post",
    "login",
    "main_text",
    "make_client",
    "nav_links",
    "running",
    "start_app",
]


def pytest_report_header(config: Any) -> str:
    return f"liuzhi database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary file)'}"


def freeze_heap() -> None:
    """Move what lives now (modules, the app, the migrated metadata) out of the garbage collector's
    sight, and make full collections ten times rarer: each walked every live object (~800k) again,
    a quarter of the suite's CPU. Young garbage is still collected as often as before.
    What is garbage now is collected first; nothing frozen is garbage later."""
    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


def pytest_collection_finish(session: Any) -> None:
    freeze_heap()


# ---- the database ---------------------------------------------------------------------------


async def create_pg_database() -> tuple[str, str, str]:
    """A new database on the LIUZHI_TEST_DATABASE_URL server: (name, owner URL, app-role URL)."""
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"liuzhi_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(str(base), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for each commit's WAL to reach the disk: what a
        # commit makes visible is the same, only a server crash could lose the last ones.
        await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        exists = await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE})
        if not exists:
            with contextlib.suppress(Exception):  # another run created it meanwhile
                await conn.execute(text(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    await admin.dispose()
    owner = base.set(database=name)
    app = owner.set(username=APP_ROLE, password=None)
    return name, owner.render_as_string(hide_password=False), app.render_as_string(hide_password=False)


async def drop_pg_database(name: str) -> None:
    assert PG_URL is not None
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
def tmp_data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="liuzhi-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
async def settings(tmp_data_dir: Path) -> AsyncIterator[Settings]:
    base = Settings.from_env()
    if PG_URL:
        name, owner_url, app_url = await create_pg_database()
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
        await drop_pg_database(name)


@pytest.fixture(scope="session")
def liuzhi_demo_tenants() -> bool:
    """Override to False (in a conftest) to skip the demo districts of tenants/ in ``migrated``:
    a plugin's own tests usually need only ``district_on`` / ``district_off``."""
    return True


@pytest.fixture(scope="session")
async def migrated(settings: Settings, liuzhi_demo_tenants: bool) -> Settings:
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
    for d in read_all(settings.tenants_dir) if liuzhi_demo_tenants else []:
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


# ---- the app --------------------------------------------------------------------------------


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


@contextlib.asynccontextmanager
async def running(settings: Settings, *plugins: Any, load_entry_points: bool = True) -> AsyncIterator[Any]:
    """``create_app`` with extra plugin objects, through its start-up and shut-down hooks."""
    from core.app import create_app

    application = create_app(settings, extra_plugins=plugins, load_entry_points=load_entry_points)
    for hook in application.on_startup:
        await hook(application)
    try:
        yield application
    finally:
        for hook in application.on_shutdown:
            await hook(application)


@pytest.fixture(scope="session")
async def app(migrated: Settings) -> AsyncIterator[Any]:
    """The app with every installed plugin (entry points), started."""
    from core.app import create_app

    application = create_app(migrated)
    stack = await start_app(application)
    freeze_heap()
    yield application
    await stack.aclose()


@pytest.fixture
def app_with(migrated: Settings) -> Callable[..., AbstractAsyncContextManager[Any]]:
    """``async with app_with(MyPlugin()) as app:`` — an app with extra plugin objects (their
    ``__liuzhi_name__`` names them), beside the installed ones."""
    return lambda *plugins, **kw: running(migrated, *plugins, **kw)


@pytest.fixture(scope="session")
def db(app: Any) -> Any:
    return app.state.db


@pytest.fixture(scope="session")
def host(app: Any) -> Any:
    return app.state.plugins


@pytest.fixture(scope="session")
async def owner_db(migrated: Settings) -> AsyncIterator[Any]:
    """The run's database as its owner (what ``liuzhi tenants delete`` uses): removes the tests'
    tenants. One for the session, so its statements are compiled once."""
    from core.db.engine import Database

    owner = Database(migrated.owner_url)
    yield owner
    await owner.dispose()


# ---- clients --------------------------------------------------------------------------------


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
    """Sign in at ``/t/<tenant>/login`` (303 on success)."""
    await client.get(f"/t/{tenant}/login")
    return await client.post(
        f"/t/{tenant}/login",
        data={"username": username, "password": password, "_csrf_token": csrf_of(client), "next": ""},
    )


@pytest.fixture
async def signed_in(app: Any) -> AsyncIterator[Any]:
    """``await signed_in("shuangluan", "admin")`` → a client logged in as that demo user."""
    clients: list[httpx.AsyncClient] = []

    async def make(tenant: str = "shuangluan", username: str = "admin", application: Any = None) -> httpx.AsyncClient:
        c = make_client(application or app)
        clients.append(c)
        r = await login(c, tenant, username)
        assert r.status_code == 303, f"login as {username}@{tenant} failed: {r.status_code} {r.text[:300]}"
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
def client_as(signed_in: Any) -> Callable[..., Awaitable[httpx.AsyncClient]]:
    """``await client_as(district, "community_worker")`` → a client signed in as that district's
    user of the role (``district_on``/``district_off`` name their users after their roles)."""

    async def make(district: District, username: str, application: Any = None) -> httpx.AsyncClient:
        return await signed_in(district.slug, username, application)

    return make


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


# ---- districts ------------------------------------------------------------------------------

KINDS = [
    {"code": "district", "name_zh": "区", "name_en": "District", "level": 0},
    {"code": "community", "name_zh": "社区", "name_en": "Community", "level": 1},
]


@dataclass
class District:
    """A throwaway tenant: its row, its root grid node, its definition and its nodes by code."""

    tenant: Any
    root: Any
    definition: Any
    nodes: dict[str, Any]

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def url(self, path: str = "/") -> str:
        return f"/t/{self.slug}{path}"


def definition(
    slug: str,
    enable: Iterable[str] = (),
    users: Iterable[tuple[str, ...]] = (),
    communities: Iterable[str] = (),
) -> Any:
    """A tenant definition (as in tenants/<slug>/tenant.toml): a root node, optional communities
    under it, and users ``(username, role)`` at the root or ``(username, role, node code)``."""
    from core.tenancy.service import NodeDef, TenantDefinition

    nodes = [NodeDef("root", None, "district", "契约测试区", "Contract District")]
    nodes += [NodeDef(code, "root", "community", f"{code}社区", f"Community {code}") for code in communities]
    return TenantDefinition(
        slug=slug,
        name_zh="契约测试区",
        name_en="Contract District",
        plugins={name: {"enabled": True} for name in enable},
        kinds=KINDS,
        nodes=nodes,
        demo_users=[
            {"username": u[0], "display_name": u[0], "role": u[1], "node": u[2] if len(u) > 2 else "root"}
            for u in users
        ],
    )


@pytest.fixture
async def districts(owner_db: Any) -> AsyncIterator[Any]:
    """``await districts(app, enable=["x"], users=[("admin", "district_admin")])`` → a new District.

    Built the way ``liuzhi tenants apply --demo`` builds one (so the app's plugins see
    on_tenant_created, on_plugin_enabled and demo_data); every row is removed afterwards.
    """
    from core.grids.models import GridNode
    from core.tenancy.demo import seed_demo
    from core.tenancy.service import apply_definition, get_tenant

    made: list[tuple[Settings, str]] = []

    async def make(
        app: Any,
        enable: Iterable[str] = (),
        users: Iterable[tuple[str, ...]] = (("admin", "district_admin"),),
        communities: Iterable[str] = (),
    ) -> District:
        d = definition("pc-" + secrets.token_hex(4), enable, users, communities)
        made.append((app.state.settings, d.slug))
        await apply_definition(app.state.db, app.state.plugins, d)
        await seed_demo(app.state.db, app.state.plugins, d)
        tenant = await get_tenant(app.state.db, d.slug)
        async with app.state.db.session(tenant.id) as s:
            nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        app.state.tenant_cache.clear()
        return District(tenant, nodes["root"], d, nodes)

    yield make
    for settings, slug in made:
        if settings.owner_url == owner_db.url:
            await _drop_tenant(owner_db, slug)
        else:  # an app of its own database (a test's extra migrations)
            await drop_tenant(settings, slug)


@pytest.fixture
def liuzhi_plugin() -> str | None:
    """The plugin under test: override in your conftest (``return "my_plugin"``)."""
    return None


def _role_users() -> list[tuple[str, ...]]:
    users: list[tuple[str, ...]] = [(role, role) for role in ROLES]
    return [*users, ("worker_a", "community_worker", "a")]


@pytest.fixture
async def district_on(app: Any, districts: Any, liuzhi_plugin: str | None) -> District:
    """A new district with ``liuzhi_plugin`` switched on (its demo_data ran), communities ``a``
    and ``b``, and one user per role in ``ROLES`` plus ``worker_a`` (community ``a`` only)."""
    assert liuzhi_plugin, "override the liuzhi_plugin fixture with your plugin's name"
    return await districts(app, enable=[liuzhi_plugin], users=_role_users(), communities=("a", "b"))


@pytest.fixture
async def district_off(app: Any, districts: Any) -> District:
    """Like ``district_on`` with the plugin off (never switched on)."""
    return await districts(app, users=_role_users(), communities=("a", "b"))


@pytest.fixture
def tenant_session(app: Any) -> Callable[[District], AbstractAsyncContextManager[AsyncSession]]:
    """``async with tenant_session(district) as s:`` — bound to the district (the ORM filters and
    stamps tenant_id, RLS applies on PostgreSQL); commits when the block ends without error."""
    return lambda district: app.state.db.transaction(district.tenant.id)


async def drop_tenant(settings: Settings, slug: str) -> None:
    """Delete a tenant and all its rows (as the owner role, like ``liuzhi tenants delete``)."""
    from core.db.engine import Database

    owner = Database(settings.owner_url)
    try:
        await _drop_tenant(owner, slug)
    finally:
        await owner.dispose()


async def _drop_tenant(owner: Any, slug: str) -> None:
    """``drop_tenant`` through an owner ``Database`` kept for the session: a new engine per tenant
    compiled its ~150 DELETE statements afresh each time (a third of a second per test)."""
    from core.grids.models import GridNode
    from core.tenancy.service import TenantError, delete_tenant, get_tenant

    with contextlib.suppress(TenantError):
        tenant = await get_tenant(owner, slug)
        # delete_tenant removes grid_nodes in one DELETE, which the parent key's ON DELETE RESTRICT
        # refuses while a node has children (reported); detach the tree first.
        async with owner.transaction(tenant.id, no_audit=True) as s:
            await s.execute(update(GridNode).values(parent_id=None))
        await delete_tenant(owner, owner, tenant)


@pytest.fixture
async def fresh_tenant(app: Any, owner_db: Any) -> AsyncIterator[Any]:
    """A new, empty tenant for tests that change tenant state; removed afterwards."""
    from core.tenancy.service import TenantError, create_tenant, delete_tenant, get_tenant

    slug = "t-" + secrets.token_hex(4)
    tenant = await create_tenant(app.state.db, app.state.plugins, slug, "测试区", "Test District")
    yield tenant
    with contextlib.suppress(TenantError):
        await delete_tenant(app.state.db, owner_db, await get_tenant(app.state.db, slug))
    app.state.tenant_cache.clear()


def forget_tables(*names: str) -> None:
    """Take tables a test's plugin registered out of the shared metadata again, so later apps,
    tenant deletion and export do not look for them."""
    from core.db.base import Base

    for name in names:
        table = Base.metadata.tables.get(name)
        if table is not None:
            Base.metadata.remove(table)


# ---- reading pages --------------------------------------------------------------------------


def main_text(html: str) -> str:
    """The visible text of <main>, for assertions about what a user reads."""
    m = re.search(r"<main[^>]*>(.*)</main>", html, re.S)
    body = m.group(1) if m else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def nav_links(html: str) -> list[str]:
    m = re.search(r'<nav id="lz-nav".*?</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', m.group(0)) if m else []
