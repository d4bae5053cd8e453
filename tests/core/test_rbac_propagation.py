"""Role, grant and assignment changes reach every app process: two app instances share one database.

App A is where the district admin works; app B is another process serving the same district.
Grants and assignments travel through the tenant's policy_version (read with the tenant, cached for
1 s): a process keeps each user's assignments until that counter moves, so a warm request reads
none; a 300 s full reload is the backstop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event

from core.rbac.models import RolePermission
from core.rbac.subjects import _CACHES
from core.tenancy.models import Tenant
from core.tenancy.service import PLATFORM
from core.web.context import POLICY_MAX_AGE
from tests.conftest import form_post, login, make_client
from tests.core.test_rbac import ADMIN, assign, build_district, grant, new_account

# The tenant cache lives 1 s; allow for the request that notices the change.
PROPAGATION = 1.2


@pytest.fixture(scope="module")
async def two_apps(migrated: Any) -> AsyncIterator[tuple[Any, Any]]:
    from core.app import create_app

    apps = (create_app(migrated), create_app(migrated))
    for application in apps:
        for hook in application.on_startup:
            await hook(application)
    yield apps
    for application in apps:
        for hook in application.on_shutdown:
            await hook(application)


@pytest.fixture
async def district(two_apps: tuple[Any, Any], db: Any, fresh_tenant: Tenant) -> AsyncIterator[SimpleNamespace]:
    app_a, app_b = two_apps
    nodes = await build_district(db, fresh_tenant)
    clients: list[Any] = []

    async def client_of(application: Any, username: str) -> Any:
        c = make_client(application)
        clients.append(c)
        r = await login(c, fresh_tenant.slug, username)
        assert r.status_code == 303, f"{username} could not sign in: {r.status_code}"
        return c

    admin = await client_of(app_a, ADMIN)
    yield SimpleNamespace(
        tenant=fresh_tenant,
        admin=admin,
        base=f"/t/{fresh_tenant.slug}",
        nodes=nodes,
        app=app_a,
        app_b=app_b,
        client_of=client_of,
    )
    for c in clients:
        await c.aclose()


async def status_within(seconds: float, probe: Callable[[], Awaitable[int]], wanted: int) -> tuple[int, float]:
    """Poll until ``probe`` answers ``wanted`` or the deadline passes; (last status, seconds taken)."""
    start = time.monotonic()
    while True:
        status = await probe()
        elapsed = time.monotonic() - start
        if status == wanted or elapsed >= seconds:
            return status, elapsed
        await asyncio.sleep(0.05)


async def test_a_grant_made_in_one_process_is_allowed_in_another_within_a_second_and_so_is_its_revocation(
    district: Any,
) -> None:
    d = district
    r = await form_post(d.admin, f"{d.base}/admin/roles", {"code": "patrol", "name_zh": "巡查员", "name_en": "Patrol"})
    assert r.status_code == 303
    uid = await new_account(d, "patroller")
    await assign(d, uid, "patrol", "a")
    patroller_b = await d.client_of(d.app_b, "patroller")
    grid = f"{d.base}/grid/{d.nodes['a1'].id}"

    async def in_b() -> int:
        return (await patroller_b.get(grid)).status_code

    assert await in_b() == 403  # app B now holds the district's policy without the grant

    assert (await grant(d, "patrol", "core.grid.view")).status_code == 303
    status, took = await status_within(PROPAGATION, in_b, 200)
    assert status == 200, f"app B still refused {took:.2f} s after the grant"

    assert (await grant(d, "patrol")).status_code == 303
    status, took = await status_within(PROPAGATION, in_b, 403)
    assert status == 403, f"app B still allowed {took:.2f} s after the revocation"


async def test_an_assignment_added_in_one_process_applies_in_another_within_a_second(district: Any) -> None:
    d = district
    # App B stands for another process: what app A's commit drops in this process must not reach it.
    _CACHES.discard(d.app_b.state.subjects)
    uid = await new_account(d, "worker")
    worker_b = await d.client_of(d.app_b, "worker")
    grid = f"{d.base}/grid/{d.nodes['a1'].id}"

    async def in_b() -> int:
        return (await worker_b.get(grid)).status_code

    assert await in_b() == 403  # app B now holds the worker's (empty) assignments

    assert (await assign(d, uid, "grid_worker", "a1")).status_code == 303
    status, took = await status_within(PROPAGATION, in_b, 200)
    assert status == 200, f"app B still refused {took:.2f} s after the assignment"
    assert (await worker_b.get(f"{d.base}/grid/{d.nodes['a2'].id}")).status_code == 404


async def test_a_warm_request_reads_no_role_assignments_and_a_change_in_this_process_applies_at_once(
    district: Any,
) -> None:
    d = district
    uid = await new_account(d, "worker")
    worker = await d.client_of(d.app, "worker")
    grid = f"{d.base}/grid/{d.nodes['a1'].id}"
    assert (await worker.get(grid)).status_code == 403

    statements: list[str] = []
    engine = d.app.state.db.engine.sync_engine

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert (await worker.get(grid)).status_code == 403
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements, "the request did reach the database (for the user)"
    assert not [q for q in statements if "role_assignments" in q], "a warm request loaded the assignments"

    assert (await assign(d, uid, "grid_worker", "a1")).status_code == 303
    assert (await worker.get(grid)).status_code == 200  # same process: dropped at commit, no wait


async def test_a_policy_change_that_missed_the_version_counter_is_picked_up_by_the_periodic_reload(
    district: Any, db: Any
) -> None:
    d = district
    r = await form_post(d.admin, f"{d.base}/admin/roles", {"code": "patrol", "name_zh": "巡查员", "name_en": "Patrol"})
    assert r.status_code == 303
    uid = await new_account(d, "patroller")
    await assign(d, uid, "patrol", "a")
    patroller_b = await d.client_of(d.app_b, "patroller")
    grid = f"{d.base}/grid/{d.nodes['a1'].id}"
    assert (await patroller_b.get(grid)).status_code == 403

    # A grant written behind the app's back (no version bump): the counter cannot carry it …
    async with db.transaction(d.tenant.id, PLATFORM) as s:
        s.add(RolePermission(role_code="patrol", action="core.grid.view"))
    d.app_b.state.tenant_cache.clear()
    assert (await patroller_b.get(grid)).status_code == 403
    # … so the reload after POLICY_MAX_AGE does (age the loaded policy instead of waiting 300 s).
    d.app_b.state.policies[d.tenant.id].loaded_at -= POLICY_MAX_AGE + 1
    assert (await patroller_b.get(grid)).status_code == 200
