"""Roles, grants, accounts and assignments for district admins, and "what can this user do where, and why".

Every test that changes anything works in a fresh district with its own small tree:
区 root → 街道 street → 社区 A (grids A1, A2) and 社区 B (grid B1), and a district admin "boss".
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from core.audit import AuditEntry
from core.db.base import new_id
from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.admin import explain
from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from core.rbac.models import RoleAssignment
from core.tenancy.models import Tenant
from core.tenancy.service import PLATFORM, ensure_user, set_plugin
from tests.conftest import DEMO_PASSWORD, form_post, login, main_text, make_client, nav_links

ADMIN = "boss"


# ---- a small district ---------------------------------------------------------------------------


async def build_district(db: Any, tenant: Tenant) -> dict[str, GridNode]:
    """The tree above and its district admin (English UI, so the page text reads as written)."""
    nodes: dict[str, GridNode] = {}
    shape = [
        ("root", None, "district"),
        ("street", "root", "subdistrict"),
        ("a", "street", "community"),
        ("a1", "a", "grid"),
        ("a2", "a", "grid"),
        ("b", "street", "community"),
        ("b1", "b", "grid"),
    ]
    async with db.transaction(tenant.id, PLATFORM) as s:
        for code, parent, kind in shape:
            p = nodes.get(parent) if parent else None
            node = GridNode(
                code=code,
                kind=kind,
                name=f"节点{code.upper()}",
                name_en=f"Node {code.upper()}",
                parent_id=p.id if p else None,
                depth=p.depth + 1 if p else 0,
            )
            node.id = new_id()
            node.path = (p.path if p else "/") + f"{node.id}/"
            s.add(node)
            nodes[code] = node
        await s.flush()
        user, _ = await ensure_user(s, ADMIN, "区管理员", DEMO_PASSWORD, "district_admin", nodes["root"])
        user.locale = "en"
    return nodes


@pytest.fixture
async def district(app: Any, db: Any, fresh_tenant: Tenant) -> AsyncIterator[SimpleNamespace]:
    nodes = await build_district(db, fresh_tenant)
    async with make_client(app) as client:
        r = await login(client, fresh_tenant.slug, ADMIN)
        assert r.status_code == 303, r.text[:300]
        yield SimpleNamespace(tenant=fresh_tenant, admin=client, base=f"/t/{fresh_tenant.slug}", nodes=nodes, app=app)


@pytest.fixture
async def clients(app: Any) -> AsyncIterator[Any]:
    """``await clients(d, "name")`` → a client signed in as that account of the district."""
    made: list[Any] = []

    async def make(d: SimpleNamespace, username: str, password: str = DEMO_PASSWORD) -> Any:
        client = make_client(app)
        made.append(client)
        r = await login(client, d.tenant.slug, username, password)
        assert r.status_code == 303, f"{username} could not sign in: {r.status_code}"
        return client

    yield make
    for client in made:
        await client.aclose()


async def new_account(d: SimpleNamespace, username: str, display: str = "", password: str = DEMO_PASSWORD) -> int:
    """Create an account through the admin page; returns its id."""
    r = await form_post(
        d.admin,
        f"{d.base}/admin/users",
        {"username": username, "display_name": display or username.title(), "password": password},
    )
    assert r.status_code == 303, main_text(r.text)[:500]
    m = re.search(r"/admin/users/(\d+)", r.headers["location"])
    assert m, r.headers["location"]
    return int(m.group(1))


async def assign(d: SimpleNamespace, user_id: int, role: str, node: str) -> Any:
    return await form_post(
        d.admin, f"{d.base}/admin/users/{user_id}/assignments", {"role": role, "node": str(d.nodes[node].id)}
    )


async def grant(d: SimpleNamespace, role: str, *actions: str) -> Any:
    """Save the role's grant matrix with exactly these boxes ticked."""
    return await form_post(d.admin, f"{d.base}/admin/roles/{role}/grants", {"action": list(actions)})


async def assignment_ids(db: Any, tenant: Tenant, user_id: int) -> list[int]:
    async with db.session(tenant.id) as s:
        stmt = select(RoleAssignment.id).where(RoleAssignment.user_id == user_id)
        return list((await s.execute(stmt)).scalars())


def alert(html: str) -> str:
    m = re.search(r'role="alert"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1))).strip() if m else ""


def verdict(html: str) -> tuple[bool | None, str]:
    m = re.search(r'data-testid="verdict" data-allowed="(\d)">(.*?)</article>', html, re.S)
    if not m:
        return None, ""
    return m.group(1) == "1", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(2))).strip()


# ---- roles and grants ---------------------------------------------------------------------------


async def test_a_custom_role_granted_smart_service_shows_its_holder_the_menu_and_page_until_revoked(
    district: Any, clients: Any, db: Any
) -> None:
    d = district
    await set_plugin(db, d.app.state.plugins, d.tenant, "smart_service", True)
    d.app.state.tenant_cache.clear()
    r = await form_post(
        d.admin, f"{d.base}/admin/roles", {"code": "hotline_clerk", "name_zh": "热线坐席", "name_en": "Hotline clerk"}
    )
    assert r.status_code == 303
    clerk_id = await new_account(d, "clerk", "Clerk Wang")
    assert (await assign(d, clerk_id, "hotline_clerk", "a")).status_code == 303
    clerk = await clients(d, "clerk")
    page = f"{d.base}/smart-service/"

    assert (await clerk.get(page)).status_code == 403
    assert page not in nav_links((await clerk.get(f"{d.base}/")).text)

    assert (await grant(d, "hotline_clerk", "smart_service.view")).status_code == 303
    assert (await clerk.get(page)).status_code == 200
    assert page in nav_links((await clerk.get(f"{d.base}/")).text)
    role_page = await d.admin.get(f"{d.base}/admin/roles/hotline_clerk")
    assert re.search(r'value="smart_service.view" checked', role_page.text)

    assert (await grant(d, "hotline_clerk")).status_code == 303
    assert (await clerk.get(page)).status_code == 403
    assert page not in nav_links((await clerk.get(f"{d.base}/")).text)

    async with db.session(d.tenant.id) as s:
        entries = (await s.execute(select(AuditEntry).where(AuditEntry.action == "role.grants"))).scalars().all()
    changes = sorted((e.changes["added"], e.changes["removed"]) for e in entries)
    assert changes == [([], ["smart_service.view"]), (["smart_service.view"], [])]


async def test_the_roles_page_lists_built_in_and_own_roles_and_marks_the_built_in_ones(district: Any) -> None:
    d = district
    await form_post(d.admin, f"{d.base}/admin/roles", {"code": "safety", "name_zh": "安全员", "name_en": "Safety"})
    html = (await d.admin.get(f"{d.base}/admin/roles")).text
    rows = dict(re.findall(r'<tr data-testid="role-row" data-code="([a-z_]+)">(.*?)</tr>', html, re.S))
    assert {"district_admin", "grid_worker", "resident", "safety"} <= set(rows)
    assert 'data-testid="builtin"' in rows["grid_worker"]
    assert 'data-testid="builtin"' not in rows["safety"]
    assert "all actions" in rows["district_admin"]


async def test_a_role_code_must_be_simple_and_unique(district: Any) -> None:
    d = district
    r = await form_post(d.admin, f"{d.base}/admin/roles", {"code": "Bad Code", "name_zh": "甲", "name_en": ""})
    assert r.status_code == 400 and "lower-case letters, digits and _" in r.text
    r = await form_post(d.admin, f"{d.base}/admin/roles", {"code": "grid_worker", "name_zh": "甲", "name_en": ""})
    assert r.status_code == 400 and "A role with the code grid_worker exists already." in r.text
    r = await form_post(d.admin, f"{d.base}/admin/roles", {"code": "ok_code", "name_zh": "", "name_en": ""})
    assert r.status_code == 400 and "The Chinese name is required." in r.text


async def test_a_custom_role_can_be_renamed_but_a_built_in_one_cannot(district: Any) -> None:
    d = district
    await form_post(d.admin, f"{d.base}/admin/roles", {"code": "safety", "name_zh": "安全员", "name_en": "Safety"})
    r = await form_post(d.admin, f"{d.base}/admin/roles/safety/rename", {"name_zh": "安全巡查员", "name_en": "Patrol"})
    assert r.status_code == 303
    assert "Patrol" in main_text((await d.admin.get(f"{d.base}/admin/roles")).text)
    r = await form_post(d.admin, f"{d.base}/admin/roles/grid_worker/rename", {"name_zh": "甲", "name_en": "X"})
    assert r.status_code == 400 and "Built-in roles keep their names." in alert(r.text)


async def test_a_built_in_role_cannot_be_deleted(district: Any) -> None:
    d = district
    page = await d.admin.get(f"{d.base}/admin/roles/grid_worker")
    assert "Delete this role" not in page.text
    r = await form_post(d.admin, f"{d.base}/admin/roles/grid_worker/delete")
    assert r.status_code == 400 and alert(r.text) == "Built-in roles cannot be deleted."
    assert 'data-code="grid_worker"' in (await d.admin.get(f"{d.base}/admin/roles")).text


async def test_a_role_somebody_holds_cannot_be_deleted_until_the_assignment_is_removed(district: Any, db: Any) -> None:
    d = district
    await form_post(d.admin, f"{d.base}/admin/roles", {"code": "safety", "name_zh": "安全员", "name_en": "Safety"})
    uid = await new_account(d, "inspector")
    await assign(d, uid, "safety", "a1")
    r = await form_post(d.admin, f"{d.base}/admin/roles/safety/delete")
    assert r.status_code == 400
    assert alert(r.text) == "Safety is still assigned 1 times: remove those assignments first."
    assert 'data-code="safety"' in (await d.admin.get(f"{d.base}/admin/roles")).text

    (aid,) = await assignment_ids(db, d.tenant, uid)
    assert (await form_post(d.admin, f"{d.base}/admin/users/{uid}/assignments/{aid}/delete")).status_code == 303
    r = await form_post(d.admin, f"{d.base}/admin/roles/safety/delete")
    assert r.status_code == 303
    listing = await d.admin.get(r.headers["location"])
    assert "The role safety has been deleted." in main_text(listing.text)
    assert 'data-code="safety"' not in listing.text
    assert (await d.admin.get(f"{d.base}/admin/roles/safety")).status_code == 404


async def test_the_district_admin_role_shows_all_actions_and_its_grants_cannot_be_edited(district: Any) -> None:
    d = district
    page = await d.admin.get(f"{d.base}/admin/roles/district_admin")
    assert 'data-testid="all-actions"' in page.text
    assert 'name="action"' not in page.text
    r = await grant(d, "district_admin", "core.grid.view")
    assert r.status_code == 400 and "cannot be edited" in alert(r.text)
    assert (await d.admin.get(f"{d.base}/admin/")).status_code == 200  # still holds "*"


async def test_the_grant_matrix_groups_plugin_actions_under_their_plugin(district: Any) -> None:
    d = district
    html = (await d.admin.get(f"{d.base}/admin/roles/grid_worker")).text
    groups = dict(re.findall(r'data-testid="action-group" data-group="([a-z_]+)">(.*?)</fieldset>', html, re.S))
    assert 'value="core.grid.view" checked' in groups["core"]
    assert 'value="core.admin.roles"' in groups["core"] and 'value="core.admin.roles" checked' not in groups["core"]
    assert "Smart service" in groups["smart_service"] and 'value="smart_service.view"' in groups["smart_service"]
    assert "(switched off in this district)" in groups["smart_service"]


# ---- assignments and scope ----------------------------------------------------------------------


async def test_an_assignment_at_a_community_covers_its_grids_and_not_the_next_community(
    district: Any, clients: Any, db: Any
) -> None:
    d = district
    uid = await new_account(d, "secretary")
    assert (await assign(d, uid, "community_secretary", "a")).status_code == 303
    sec = await clients(d, "secretary")
    n = d.nodes
    for code in ("a", "a1", "a2"):
        assert (await sec.get(f"{d.base}/grid/{n[code].id}")).status_code == 200, code
    for code in ("b", "b1", "street", "root"):
        assert (await sec.get(f"{d.base}/grid/{n[code].id}")).status_code == 404, code

    # Removed: the sessions opened with the role end, and signed in again the grid is closed.
    (aid,) = await assignment_ids(db, d.tenant, uid)
    await form_post(d.admin, f"{d.base}/admin/users/{uid}/assignments/{aid}/delete")
    r = await sec.get(f"{d.base}/grid/{n['a1'].id}")
    assert r.status_code == 302 and "/login" in r.headers["location"]
    sec = await clients(d, "secretary")
    assert (await sec.get(f"{d.base}/grid/{n['a1'].id}")).status_code == 403


async def test_the_user_page_shows_each_assignment_with_the_node_path(district: Any) -> None:
    d = district
    uid = await new_account(d, "worker", "Worker Li")
    await assign(d, uid, "grid_worker", "a1")
    text = main_text((await d.admin.get(f"{d.base}/admin/users/{uid}")).text)
    assert "Grid worker" in text and "Node ROOT / Node STREET / Node A / Node A1" in text
    r = await assign(d, uid, "grid_worker", "a1")
    assert r.status_code == 400 and "Worker Li already holds this role at this node." in alert(r.text)


async def test_the_node_search_finds_nodes_by_name_or_code_with_their_path(district: Any) -> None:
    d = district
    uid = await new_account(d, "worker")
    r = await d.admin.get(f"{d.base}/admin/users/{uid}/nodes?q=a1", headers={"hx-request": "true"})
    assert r.status_code == 200
    options = re.findall(r'data-testid="node-option"><input type="radio" name="node" value="(\d+)"', r.text)
    assert options == [str(d.nodes["a1"].id)]
    assert "Node ROOT / Node STREET / Node A / Node A1" in r.text
    page = await d.admin.get(f"{d.base}/admin/users/{uid}?q=node b")
    assert {str(d.nodes["b"].id), str(d.nodes["b1"].id)} <= set(re.findall(r'name="node" value="(\d+)"', page.text))


async def test_an_assignment_needs_a_role_and_a_node(district: Any) -> None:
    d = district
    uid = await new_account(d, "worker")
    r = await form_post(d.admin, f"{d.base}/admin/users/{uid}/assignments", {"role": "nope", "node": ""})
    assert r.status_code == 400
    assert "Choose a role from the list." in alert(r.text) and "Search for a node and choose one." in alert(r.text)


# ---- what can they do where, and why ------------------------------------------------------------


async def test_the_access_page_lists_what_each_assignment_grants(district: Any, db: Any) -> None:
    d = district
    uid = await new_account(d, "secretary", "Secretary Zhao")
    await assign(d, uid, "community_secretary", "a")
    html = (await d.admin.get(f"{d.base}/admin/users/{uid}/access")).text
    (card,) = re.findall(r'data-testid="access-card" data-role="community_secretary".*?</article>', html, re.S)
    assert "Node ROOT / Node STREET / Node A" in card
    assert "core.resident.reveal" in card and "core.grid.view" in card and "core.admin.roles" not in card

    async with db.session(d.tenant.id) as s:
        boss = (await s.execute(select(RoleAssignment).where(RoleAssignment.role_code == "district_admin"))).scalar()
    assert boss is not None
    html = (await d.admin.get(f"{d.base}/admin/users/{boss.user_id}/access")).text
    (card,) = re.findall(r'data-testid="access-card" data-role="district_admin".*?</article>', html, re.S)
    assert 'data-testid="all-actions"' in card


async def test_the_access_checker_says_why_an_action_is_allowed_or_denied(district: Any) -> None:
    d = district
    uid = await new_account(d, "secretary", "Secretary Zhao")
    await assign(d, uid, "community_secretary", "a")
    url = f"{d.base}/admin/users/{uid}/access"

    allowed, text = verdict(
        (await d.admin.get(url, params={"action": "core.grid.view", "node": d.nodes["a2"].id})).text
    )
    assert allowed is True
    assert text.startswith("Allowed: Secretary Zhao holds Community secretary at Node ROOT / Node STREET / Node A")
    assert "covers Node ROOT / Node STREET / Node A / Node A2" in text and "granted core.grid.view" in text

    allowed, text = verdict(
        (await d.admin.get(url, params={"action": "core.grid.view", "node": d.nodes["b1"].id})).text
    )
    assert allowed is False
    assert "Denied: no assignment covering Node ROOT / Node STREET / Node B / Node B1 grants" in text
    assert "Community secretary at Node ROOT / Node STREET / Node A grants it, but that does not cover" in text

    allowed, text = verdict((await d.admin.get(url, params={"action": "core.admin.roles", "node": ""})).text)
    assert allowed is False
    assert "no assignment covering anywhere in the district grants" in text
    assert "Roles granted this action: District admin." in text

    r = await d.admin.get(url, params={"action": "no.such.action"})
    assert r.status_code == 400 and "Choose an action from the list." in alert(r.text)


# ---- accounts -----------------------------------------------------------------------------------


async def test_a_deactivated_user_loses_access_on_the_next_request(district: Any, clients: Any) -> None:
    d = district
    uid = await new_account(d, "worker")
    await assign(d, uid, "grid_worker", "a1")
    worker = await clients(d, "worker")
    grid = f"{d.base}/grid/{d.nodes['a1'].id}"
    assert (await worker.get(grid)).status_code == 200

    r = await form_post(d.admin, f"{d.base}/admin/users/{uid}/active", {"active": "0"})
    assert r.status_code == 303
    r = await worker.get(grid)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
    r = await login(make_client(d.app), d.tenant.slug, "worker")
    assert r.status_code != 303

    # Reactivated: the old session stays ended; signing in again works.
    await form_post(d.admin, f"{d.base}/admin/users/{uid}/active", {"active": "1"})
    assert (await worker.get(grid)).status_code == 302
    worker = await clients(d, "worker")
    assert (await worker.get(grid)).status_code == 200


async def test_an_admin_cannot_deactivate_themselves_or_drop_their_own_last_admin_role(district: Any, db: Any) -> None:
    d = district
    async with db.session(d.tenant.id) as s:
        me = (await s.execute(select(RoleAssignment).where(RoleAssignment.role_code == "district_admin"))).scalar()
    assert me is not None
    r = await form_post(d.admin, f"{d.base}/admin/users/{me.user_id}/active", {"active": "0"})
    assert r.status_code == 400 and alert(r.text) == "You cannot deactivate your own account."
    r = await form_post(d.admin, f"{d.base}/admin/users/{me.user_id}/assignments/{me.id}/delete")
    assert r.status_code == 400 and "You would lose the right to manage roles" in alert(r.text)
    assert (await d.admin.get(f"{d.base}/admin/roles")).status_code == 200


async def test_creating_an_account_checks_the_username_and_password(district: Any) -> None:
    d = district
    url = f"{d.base}/admin/users"
    r = await form_post(d.admin, url, {"username": "Bad Name", "display_name": "X", "password": "long-enough"})
    assert r.status_code == 400 and "Use 1–64 lower-case letters, digits and . _ -" in r.text
    r = await form_post(d.admin, url, {"username": "ok.name", "display_name": "X", "password": "short"})
    assert r.status_code == 400 and "The password must have at least 8 characters." in r.text
    r = await form_post(d.admin, url, {"username": ADMIN, "display_name": "X", "password": "long-enough"})
    assert r.status_code == 400 and f"The username {ADMIN} is taken." in r.text
    r = await form_post(d.admin, url, {"username": "ok.name", "display_name": "", "password": "long-enough"})
    assert r.status_code == 400 and "The display name is required." in r.text


async def test_a_reset_password_replaces_the_old_one(district: Any) -> None:
    d = district
    uid = await new_account(d, "worker")
    r = await form_post(d.admin, f"{d.base}/admin/users/{uid}/password", {"password": "short"})
    assert r.status_code == 400
    r = await form_post(d.admin, f"{d.base}/admin/users/{uid}/password", {"password": "new-secret-9"})
    assert r.status_code == 303
    async with make_client(d.app) as c:
        assert (await login(c, d.tenant.slug, "worker")).status_code != 303
        assert (await login(c, d.tenant.slug, "worker", "new-secret-9")).status_code == 303


async def test_the_accounts_list_searches_and_exports_to_excel(district: Any) -> None:
    d = district
    uid = await new_account(d, "wang.wei", "Wang Wei")
    await assign(d, uid, "grid_worker", "a1")
    await new_account(d, "li.na", "Li Na")
    text = main_text((await d.admin.get(f"{d.base}/admin/users", params={"q": "wang"})).text)
    assert "wang.wei" in text and "li.na" not in text
    assert "Grid worker @ Node A1" in text
    assert "No account matches" in main_text((await d.admin.get(f"{d.base}/admin/users?q=zzz")).text)

    r = await d.admin.get(f"{d.base}/admin/users/export", params={"q": "wang"})
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Username", "Display name", "Status", "Roles")
    assert [row[:4] for row in rows[1:]] == [
        ("wang.wei", "Wang Wei", "Active", "Grid worker @ Node ROOT / Node STREET / Node A / Node A1")
    ]


async def test_the_accounts_list_has_pages(district: Any, db: Any) -> None:
    d = district
    async with db.transaction(d.tenant.id, PLATFORM) as s:
        # Nobody signs in as these: skip argon2 (55 hashes would take half a minute).
        s.add_all(User(username=f"user{i:02d}", display_name=f"User {i}", password_hash="-") for i in range(55))
    first = main_text((await d.admin.get(f"{d.base}/admin/users")).text)
    assert "Page 1 of 2" in first and "56 accounts" in first
    second = main_text((await d.admin.get(f"{d.base}/admin/users?page=2")).text)
    assert "user54" in second and "user00" not in second


# ---- guards -------------------------------------------------------------------------------------


async def test_non_admins_are_refused_every_role_and_account_page(district: Any, clients: Any) -> None:
    d = district
    uid = await new_account(d, "secretary")
    await assign(d, uid, "community_secretary", "a")
    sec = await clients(d, "secretary")
    for url in (
        "/admin/roles",
        "/admin/roles/grid_worker",
        "/admin/users",
        "/admin/users/export",
        f"/admin/users/{uid}",
        f"/admin/users/{uid}/access",
        f"/admin/users/{uid}/nodes?q=a",
    ):
        assert (await sec.get(d.base + url)).status_code == 403, url
    for url, data in (
        ("/admin/roles", {"code": "x", "name_zh": "x"}),
        ("/admin/roles/grid_worker/grants", {"action": "core.admin.roles"}),
        ("/admin/users", {"username": "x", "display_name": "x", "password": "long-enough"}),
        (f"/admin/users/{uid}/assignments", {"role": "district_admin", "node": str(d.nodes["root"].id)}),
        (f"/admin/users/{uid}/password", {"password": "long-enough"}),
    ):
        assert (await form_post(sec, d.base + url, data)).status_code == 403, url
    async with make_client(d.app) as anonymous:
        r = await anonymous.get(f"{d.base}/admin/users")
        assert r.status_code in (302, 303) and "/login" in r.headers["location"]


async def test_another_districts_accounts_are_not_found(district: Any, db: Any) -> None:
    d = district
    async with db.session(None) as s:
        shuangluan = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    async with db.session(shuangluan.id) as s:
        other = (await s.execute(select(RoleAssignment).limit(1))).scalar_one()
    for url in (f"/admin/users/{other.user_id}", f"/admin/users/{other.user_id}/access"):
        assert (await d.admin.get(d.base + url)).status_code == 404, url
    for url, data in (
        (f"/admin/users/{other.user_id}/active", {"active": "0"}),
        (f"/admin/users/{other.user_id}/password", {"password": "hijacked-1"}),
        (f"/admin/users/{other.user_id}/assignments/{other.id}/delete", {}),
    ):
        assert (await form_post(d.admin, d.base + url, data)).status_code == 404, url
    own = await new_account(d, "worker")
    r = await form_post(d.admin, f"{d.base}/admin/users/{own}/assignments/{other.id}/delete")
    assert r.status_code == 404
    async with db.session(shuangluan.id) as s:
        assert await s.get(RoleAssignment, (shuangluan.id, other.id)) is not None
    # Another district's node cannot be used for an assignment here either.
    r = await form_post(
        d.admin, f"{d.base}/admin/users/{own}/assignments", {"role": "grid_worker", "node": str(other.node_id)}
    )
    assert r.status_code == 400 and "Search for a node and choose one." in alert(r.text)


# ---- explain: the same answer as the enforcer, with the reason ----------------------------------

ROLE_NAMES = ("r1", "r2", "r3", "district_admin")
ACTIONS = ("core.grid.view", "core.grid.edit", "smart_service.view", "smart_service.event.dispatch")
PATTERNS = (*ACTIONS, "*", "core.*", "smart_service.*", "core.grid.*")
PATHS = ("/1/", "/1/2/", "/1/2/3/", "/1/2/4/", "/1/5/", "/1/20/", "/10/")

assignments_st = st.lists(st.builds(Assignment, st.sampled_from(ROLE_NAMES), st.sampled_from(PATHS)), max_size=5)
rules_st = st.lists(st.tuples(st.sampled_from(ROLE_NAMES), st.sampled_from(PATTERNS)), max_size=8)


@settings(max_examples=400, deadline=None)
@given(assignments_st, rules_st, st.sampled_from(ACTIONS), st.one_of(st.none(), st.sampled_from(PATHS)))
def test_explain_says_allowed_exactly_when_the_enforcer_allows(
    assignments: list[Assignment], rules: list[tuple[str, str]], action: str, path: str | None
) -> None:
    policy = TenantPolicy(rules, 0)
    e = explain(assignments, rules, action, path)
    assert e.allowed == policy.allows(Subject(1, tuple(assignments)), action, path)
    if e.allowed:
        # The reason names an assignment of the user that covers the node, and a grant of its role.
        assert e.assignment in assignments and (path is None or path.startswith(e.assignment.path))
        assert (e.assignment.role, e.grant) in set(rules)
    else:
        assert all(path is not None and not path.startswith(a.path) for a in e.elsewhere)


def test_explain_names_the_widest_covering_assignment_and_the_exact_grant() -> None:
    here = [Assignment("r1", "/1/2/3/"), Assignment("r2", "/1/")]
    rules = [("r1", "core.grid.view"), ("r2", "core.*"), ("r2", "core.grid.view")]
    e = explain(here, rules, "core.grid.view", "/1/2/3/9/")
    assert e.allowed and e.assignment == Assignment("r2", "/1/") and e.grant == "core.grid.view"
    e = explain(here, rules, "core.grid.view", "/1/20/")
    assert e.allowed and e.assignment == Assignment("r2", "/1/")
    e = explain([Assignment("r1", "/1/2/3/")], rules, "core.grid.view", "/1/2/4/")
    assert not e.allowed and e.elsewhere == (Assignment("r1", "/1/2/3/"),) and e.roles_granting == ("r1", "r2")


def test_a_sibling_path_is_not_covered_by_a_shorter_numeric_prefix() -> None:
    e = explain([Assignment("r1", "/1/")], [("r1", "*")], "core.grid.view", "/10/")
    assert not e.allowed and e.elsewhere == (Assignment("r1", "/1/"),)
    assert (
        TenantPolicy([("r1", "*")], 0).allows(Subject(1, (Assignment("r1", "/1/"),)), "core.grid.view", "/10/") is False
    )
