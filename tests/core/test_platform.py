"""The operator area: who gets in, and the tenant lifecycle an operator drives from /platform."""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from core.db.engine import Database
from core.grids.models import GridNode
from core.identity.models import Operator, User
from core.rbac.models import RoleAssignment
from core.tenancy.demo import seed_operator
from core.tenancy.models import Tenant
from core.tenancy.service import TenantError, delete_tenant, ensure_user, get_tenant
from tests.conftest import csrf_of, form_post, login, main_text, make_client

# These tests read the operator pages in English (the platform honours Accept-Language); district
# pages stay in the district's language, so their checks accept either.
EN = {"Accept-Language": "en"}


@pytest.fixture
async def as_operator(as_operator: httpx.AsyncClient) -> httpx.AsyncClient:
    as_operator.headers.update(EN)
    return as_operator


def english_client(app: Any) -> httpx.AsyncClient:
    client = make_client(app)
    client.headers.update(EN)
    return client


ADMIN, ADMIN_PASSWORD = "chief", "chief-pass-2024"


def new_slug() -> str:
    return "p-" + secrets.token_hex(4)


def district(slug: str, **overrides: str) -> dict[str, str]:
    form = {
        "slug": slug,
        "name_zh": "测试新区",
        "name_en": "Test New District",
        "locale": "zh_Hans",
        "admin_username": ADMIN,
        "admin_password": ADMIN_PASSWORD,
    }
    return {**form, **overrides}


async def tenant_count(db: Any) -> int:
    async with db.session(None) as s:
        return int(await s.scalar(select(func.count(Tenant.id))) or 0)


async def exists(db: Any, slug: str) -> bool:
    async with db.session(None) as s:
        return (await s.execute(select(Tenant.id).where(Tenant.slug == slug))).first() is not None


async def usernames(db: Any, slug: str) -> list[str]:
    tenant = await get_tenant(db, slug)
    async with db.session(tenant.id) as s:
        return sorted((await s.execute(select(User.username))).scalars())


async def node_codes(db: Any, slug: str) -> list[tuple[str, str, str]]:
    tenant = await get_tenant(db, slug)
    async with db.session(tenant.id) as s:
        return sorted((n.code, n.kind, n.path) for n in (await s.execute(select(GridNode))).scalars())


@pytest.fixture
async def made(app: Any) -> AsyncIterator[list[str]]:
    """Slugs of districts a test creates; whatever is left of them is deleted afterwards."""
    slugs: list[str] = []
    yield slugs
    owner = Database(app.state.settings.owner_url)
    try:
        for slug in slugs:
            with contextlib.suppress(TenantError):
                await delete_tenant(app.state.db, owner, await get_tenant(app.state.db, slug), app.state.storage)
    finally:
        await owner.dispose()
    app.state.tenant_cache.clear()


async def create_district(client: httpx.AsyncClient, made: list[str], **overrides: str) -> httpx.Response:
    slug = overrides.pop("slug", None) or new_slug()
    made.append(slug)
    return await form_post(client, "/platform/tenants", district(slug, **overrides))


# ---- who gets in -------------------------------------------------------------------------------


async def test_anonymous_visitor_is_sent_to_the_operator_sign_in(client: httpx.AsyncClient) -> None:
    client.headers.update(EN)
    r = await client.get("/platform/")
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith("/platform/login")
    page = await client.get(r.headers["location"])
    assert page.status_code == 200 and "Operator sign-in" in main_text(page.text)


async def test_a_district_admins_session_does_not_open_the_platform(app: Any, as_admin: httpx.AsyncClient) -> None:
    r = await as_admin.get("/platform/")
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/platform/login")
    r = await form_post(as_admin, "/platform/tenants/luanping/suspend")
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/platform/login")
    assert (await get_tenant(app.state.db, "luanping")).active


async def test_an_operator_session_is_anonymous_in_a_district(as_operator: httpx.AsyncClient) -> None:
    assert (await as_operator.get("/platform/")).status_code == 200
    r = await as_operator.get("/t/shuangluan/")
    assert r.status_code in (302, 303) and "/t/shuangluan/login" in r.headers["location"]


async def test_wrong_password_shows_a_message_and_five_failures_lock(app: Any) -> None:
    name, password = "op-" + secrets.token_hex(3), "right-password-1"
    await seed_operator(app.state.db, name, password)
    # A client address of its own, so the per-address counter does not lock out other tests.
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=EN) as c:
            await c.get("/platform/login")
            for _ in range(5):
                r = await form_post(c, "/platform/login", {"username": name, "password": "wrong-password"})
                assert r.status_code == 400
                assert "Wrong username or password." in main_text(r.text)
            r = await form_post(c, "/platform/login", {"username": name, "password": password})
            assert r.status_code == 429
            assert "Too many failed attempts" in main_text(r.text)
            assert (await c.get("/platform/")).status_code in (302, 303)
    finally:
        async with app.state.db.transaction(None) as s:
            await s.execute(delete(Operator).where(Operator.username == name))


async def test_operator_signs_in_and_out(app: Any) -> None:
    async with english_client(app) as c:
        await c.get("/platform/login")
        r = await form_post(
            c, "/platform/login", {"username": "operator", "password": "liuzhi-demo", "next": "/platform/?page=1"}
        )
        assert r.status_code == 303 and r.headers["location"] == "/platform/?page=1"
        assert (await c.get("/platform/")).status_code == 200
        r = await form_post(c, "/platform/logout")
        assert r.status_code == 303 and r.headers["location"] == "/platform/login"
        assert (await c.get("/platform/")).status_code in (302, 303)


async def test_operator_switches_the_language(as_operator: httpx.AsyncClient) -> None:
    r = await form_post(as_operator, "/platform/locale", {"locale": "en", "next": "/platform/"})
    assert r.status_code == 303 and r.headers["location"] == "/platform/"
    assert '<html lang="en"' in (await as_operator.get("/platform/")).text
    await form_post(as_operator, "/platform/locale", {"locale": "zh_Hans", "next": "//evil.example/"})
    page = await as_operator.get("/platform/")
    assert '<html lang="zh-Hans"' in page.text


# ---- the tenant list and creating a district -------------------------------------------------


async def test_operator_sees_every_district_with_its_numbers(as_operator: httpx.AsyncClient) -> None:
    page = await as_operator.get("/platform/")
    assert page.status_code == 200
    for slug in ("shuangluan", "luanping"):
        row = re.search(rf'<tr data-slug="{slug}">(.*?)</tr>', page.text, re.S)
        assert row is not None, slug
    luanping = re.search(r'<tr data-slug="luanping">(.*?)</tr>', page.text, re.S)
    assert luanping is not None
    cells = [re.sub(r"<[^>]+>", " ", td).strip() for td in re.findall(r"<td>(.*?)</td>", luanping.group(1), re.S)]
    assert cells[4] == "2"  # luanping has smart_service and rule_of_law on
    assert int(cells[5]) >= 1


async def test_operator_creates_a_district_whose_admin_signs_in(
    app: Any, as_operator: httpx.AsyncClient, made: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    slug = new_slug()
    with caplog.at_level(logging.INFO, logger="liuzhi.platform"):
        r = await create_district(as_operator, made, slug=slug)
    assert r.status_code == 303 and r.headers["location"] == "/platform/"
    assert any(f"created tenant {slug}" in rec.getMessage() for rec in caplog.records if rec.name == "liuzhi.platform")
    page = await as_operator.get("/platform/")
    assert f"District {slug} created" in main_text(page.text)
    row = re.search(rf'<tr data-slug="{slug}">(.*?)</tr>', page.text, re.S)
    assert row is not None and "测试新区" in row.group(1)

    nodes = await node_codes(app.state.db, slug)
    assert [(code, kind) for code, kind, _ in nodes] == [(slug, "district")]
    assert re.fullmatch(r"/\d+/", nodes[0][2])
    tenant = await get_tenant(app.state.db, slug)
    async with app.state.db.session(tenant.id) as s:
        roles = (await s.execute(select(RoleAssignment.role_code, RoleAssignment.node_path))).all()
    assert [tuple(r) for r in roles] == [("district_admin", nodes[0][2])]

    async with english_client(app) as admin:
        r = await login(admin, slug, ADMIN, ADMIN_PASSWORD)
        assert r.status_code == 303
        home = await admin.get(f"/t/{slug}/")
        assert home.status_code == 200 and ("Dashboard" in main_text(home.text) or "工作台" in main_text(home.text))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "shuangluan"}, "exists already"),
        ({"slug": "Bad Slug!"}, "lower-case letters"),
        ({"slug": "x"}, "lower-case letters"),
        ({"name_zh": "  "}, "Chinese name is required"),
        ({"admin_password": "short"}, "at least 8 characters"),
        ({"admin_username": ""}, "no spaces"),
    ],
)
async def test_a_refused_district_shows_why_and_nothing_is_created(
    app: Any, as_operator: httpx.AsyncClient, made: list[str], overrides: dict[str, str], message: str
) -> None:
    before = await tenant_count(app.state.db)
    form = {**district(new_slug()), **overrides}
    if form["slug"] != "shuangluan":
        made.append(form["slug"])
    r = await form_post(as_operator, "/platform/tenants", form)
    assert r.status_code == 400
    assert message in main_text(r.text)
    if "name_zh" not in overrides:
        assert 'value="测试新区"' in r.text  # the form keeps what was typed
    assert await tenant_count(app.state.db) == before


async def test_a_failing_admin_step_leaves_no_district_behind(
    app: Any, as_operator: httpx.AsyncClient, made: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr("core.web.routes.platform.ensure_user", broken)
    slug = new_slug()
    before = await tenant_count(app.state.db)
    r = await create_district(as_operator, made, slug=slug)
    assert r.status_code == 500
    assert "could not be created. Nothing was saved." in main_text(r.text)
    assert not await exists(app.state.db, slug)
    assert await tenant_count(app.state.db) == before


async def test_a_page_past_the_end_shows_the_last_page(as_operator: httpx.AsyncClient) -> None:
    page = await as_operator.get("/platform/?page=99")
    assert page.status_code == 200
    assert '<tr data-slug="shuangluan">' in page.text


# ---- suspend and resume ----------------------------------------------------------------------


async def test_suspended_district_refuses_sign_in_and_drops_sessions_until_resumed(
    app: Any, as_operator: httpx.AsyncClient, made: list[str]
) -> None:
    slug = new_slug()
    await create_district(as_operator, made, slug=slug)
    async with english_client(app) as signed, english_client(app) as newcomer:
        assert (await login(signed, slug, ADMIN, ADMIN_PASSWORD)).status_code == 303
        assert (await signed.get(f"/t/{slug}/")).status_code == 200

        r = await form_post(as_operator, f"/platform/tenants/{slug}/suspend")
        assert r.status_code == 303
        page = await as_operator.get("/platform/")
        assert "is suspended" in main_text(page.text)
        row = re.search(rf'<tr data-slug="{slug}">(.*?)</tr>', page.text, re.S)
        assert row is not None and "Suspended" in row.group(1)

        r = await signed.get(f"/t/{slug}/")
        assert r.status_code in (302, 303) and r.headers["location"].startswith(f"/t/{slug}/login")
        r = await login(newcomer, slug, ADMIN, ADMIN_PASSWORD)
        assert r.status_code == 503 and ("suspended" in main_text(r.text) or "暂停" in main_text(r.text))

        assert (await form_post(as_operator, f"/platform/tenants/{slug}/resume")).status_code == 303
        assert (await signed.get(f"/t/{slug}/")).status_code == 200  # the same session counts again
        assert (await login(newcomer, slug, ADMIN, ADMIN_PASSWORD)).status_code == 303
        assert (await newcomer.get(f"/t/{slug}/")).status_code == 200


async def test_suspending_an_unknown_district_is_not_found(as_operator: httpx.AsyncClient) -> None:
    assert (await form_post(as_operator, "/platform/tenants/no-such-district/suspend")).status_code == 404


# ---- export, delete, import ------------------------------------------------------------------


async def upload(client: httpx.AsyncClient, data: bytes, new_slug: str = "") -> httpx.Response:
    return await client.post(
        "/platform/import",
        data={"_csrf_token": csrf_of(client), "new_slug": new_slug},
        files={"file": ("district.json.gz", data, "application/gzip")},
    )


async def test_export_delete_import_brings_the_district_back(
    app: Any, as_operator: httpx.AsyncClient, made: list[str]
) -> None:
    db = app.state.db
    slug = new_slug()
    await create_district(as_operator, made, slug=slug)
    tenant = await get_tenant(db, slug)
    async with db.transaction(tenant.id) as s:
        root = (await s.execute(select(GridNode))).scalar_one()
        await ensure_user(s, "clerk", "办事员", "clerk-pass-2024", "community_worker", root)
    users, nodes = await usernames(db, slug), await node_codes(db, slug)
    assert users == [ADMIN, "clerk"]

    r = await as_operator.get(f"/platform/tenants/{slug}/export")
    assert r.status_code == 200
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert r.headers["content-disposition"] == f'attachment; filename="{slug}-{today}.json.gz"'
    export = r.content
    assert json.loads(gzip.decompress(export))["tenant"]["slug"] == slug

    r = await form_post(as_operator, f"/platform/tenants/{slug}/delete", {"confirm": slug})
    assert r.status_code == 303
    assert "all its data have been deleted" in main_text((await as_operator.get("/platform/")).text)
    assert not await exists(db, slug)
    async with english_client(app) as c:
        assert (await c.get(f"/t/{slug}/login")).status_code == 404

    r = await upload(as_operator, export)
    assert r.status_code == 303, main_text(r.text)
    assert f"District {slug} imported" in main_text((await as_operator.get("/platform/")).text)
    assert await usernames(db, slug) == users
    assert await node_codes(db, slug) == nodes
    async with english_client(app) as c:
        assert (await login(c, slug, ADMIN, ADMIN_PASSWORD)).status_code == 303
        assert (await c.get(f"/t/{slug}/")).status_code == 200


async def test_delete_needs_the_typed_slug(app: Any, as_operator: httpx.AsyncClient, made: list[str]) -> None:
    slug = new_slug()
    await create_district(as_operator, made, slug=slug)
    for typed in ("", "shuangluan", slug.upper()):
        r = await form_post(as_operator, f"/platform/tenants/{slug}/delete", {"confirm": typed})
        assert r.status_code == 400
        assert f"type the slug {slug} to confirm" in main_text(r.text)
    assert await exists(app.state.db, slug)
    assert await usernames(app.state.db, slug) == [ADMIN]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text", "not a Liuzhi tenant export"),
        (gzip.compress(b"[1, 2, 3]"), "not a Liuzhi"),
        (gzip.compress(json.dumps({"format": "something-else"}).encode()), "not a Liuzhi tenant export"),
    ],
)
async def test_importing_a_file_that_is_not_an_export_is_refused(
    app: Any, as_operator: httpx.AsyncClient, content: bytes, message: str
) -> None:
    before = await tenant_count(app.state.db)
    r = await upload(as_operator, content)
    assert r.status_code == 400
    assert message in main_text(r.text)
    assert await tenant_count(app.state.db) == before


async def test_importing_an_export_of_an_existing_district_is_refused(
    app: Any, as_operator: httpx.AsyncClient, made: list[str]
) -> None:
    slug = new_slug()
    await create_district(as_operator, made, slug=slug)
    export = (await as_operator.get(f"/platform/tenants/{slug}/export")).content
    before = await tenant_count(app.state.db)
    other = new_slug()
    made.append(other)
    for target in ("", other):  # same slug, or another slug with the same district id
        r = await upload(as_operator, export, target)
        assert r.status_code == 400
        assert "exists here already" in main_text(r.text)
    r = await upload(as_operator, export, "Not A Slug")
    assert r.status_code == 400 and "lower-case letters" in main_text(r.text)
    assert await tenant_count(app.state.db) == before
    assert not await exists(app.state.db, other)


async def test_import_without_a_file_asks_for_one(app: Any, as_operator: httpx.AsyncClient) -> None:
    r = await as_operator.post(
        "/platform/import",
        data={"_csrf_token": csrf_of(as_operator), "new_slug": ""},
        files={"unrelated": ("x.txt", b"", "text/plain")},
    )
    assert r.status_code == 400
    assert "Choose an export file" in main_text(r.text)


async def test_exporting_an_unknown_district_is_not_found(as_operator: httpx.AsyncClient) -> None:
    assert (await as_operator.get("/platform/tenants/no-such-district/export")).status_code == 404
