"""Signing in and out: passwords, throttling, sessions bound to one tenant, CSRF, API tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from core.identity.models import User
from core.tenancy.service import ensure_user
from tests.conftest import REDIS_URL, csrf_of, form_post, login, make_client


@pytest.fixture
async def member(app: Any, fresh_tenant: Any) -> tuple[str, str]:
    """A user of a throwaway tenant (so throttling never locks a shared demo account)."""
    async with app.state.db.transaction(fresh_tenant.id) as s:
        await ensure_user(s, "wang", "王网格", "correct-horse", None, None)
    return fresh_tenant.slug, "wang"


async def test_anonymous_visitor_is_sent_to_the_login_page(client: Any) -> None:
    r = await client.get("/t/shuangluan/")
    assert r.status_code == 302
    assert r.headers["location"] == "/t/shuangluan/login?next=/t/shuangluan/"


async def test_wrong_password_shows_a_message_and_signs_nobody_in(client: Any) -> None:
    r = await login(client, "shuangluan", "admin", "not-the-password")
    assert r.status_code == 400
    assert "Wrong username or password" in r.text or "用户名或密码错误" in r.text
    assert (await client.get("/t/shuangluan/")).status_code == 302


async def test_after_five_failures_even_the_right_password_is_refused(app: Any, member: Any) -> None:
    slug, name = member
    async with make_client(app) as c:
        for _ in range(5):
            assert (await login(c, slug, name, "wrong")).status_code == 400
        r = await login(c, slug, name, "correct-horse")
    assert r.status_code == 429
    assert r.headers["retry-after"] in ("1", "2")


async def test_login_issues_a_new_session_id(app: Any, member: Any) -> None:
    slug, name = member
    async with make_client(app) as c:
        # The attacker's cookie is in the browser before the login page loads.
        c.cookies.set("liuzhi_session", "planted-by-attacker")
        await c.get(f"/t/{slug}/login")
        r = await c.post(
            f"/t/{slug}/login",
            data={"username": name, "password": "correct-horse", "_csrf_token": csrf_of(c)},
        )
    assert r.status_code == 303
    issued = [
        h.split(";")[0].split("=", 1)[1] for h in r.headers.get_list("set-cookie") if h.startswith("liuzhi_session=")
    ]
    assert issued and issued[-1] not in ("planted-by-attacker", "null")


async def test_sign_out_ends_the_session(as_admin: Any) -> None:
    assert (await as_admin.get("/t/shuangluan/")).status_code == 200
    r = await form_post(as_admin, "/t/shuangluan/logout")
    assert r.status_code == 303
    assert (await as_admin.get("/t/shuangluan/")).status_code == 302


async def test_a_session_is_anonymous_on_another_tenants_pages(as_admin: Any) -> None:
    assert (await as_admin.get("/t/shuangluan/")).status_code == 200
    r = await as_admin.get("/t/luanping/")
    assert r.status_code == 302 and r.headers["location"].startswith("/t/luanping/login")


async def test_a_form_without_csrf_token_is_refused_with_a_clear_message(as_admin: Any) -> None:
    r = await as_admin.post("/t/shuangluan/logout", data={})
    assert r.status_code == 403
    assert "expired" in r.text or "已过期" in r.text
    assert (await as_admin.get("/t/shuangluan/")).status_code == 200  # still signed in


async def test_htmx_requests_pass_csrf_with_the_header(as_admin: Any) -> None:
    r = await as_admin.post("/t/shuangluan/logout", headers={"HX-Request": "true", "X-CSRFToken": csrf_of(as_admin)})
    assert r.status_code == 303


async def test_login_never_redirects_outside_the_tenant(client: Any) -> None:
    await client.get("/t/shuangluan/login")
    r = await client.post(
        "/t/shuangluan/login",
        data={
            "username": "admin",
            "password": "liuzhi-demo",
            "next": "https://evil.example/",
            "_csrf_token": csrf_of(client),
        },
    )
    assert r.headers["location"] == "/t/shuangluan/"


async def test_changing_password_needs_the_current_one(app: Any, member: Any) -> None:
    slug, name = member
    async with make_client(app) as c:
        await login(c, slug, name, "correct-horse")
        r = await form_post(
            c, f"/t/{slug}/account/password", {"current": "nope", "new": "new-pass-123", "repeat": "new-pass-123"}
        )
        assert r.status_code == 400 and ("current password is wrong" in r.text or "当前密码不正确" in r.text)
        r = await form_post(
            c, f"/t/{slug}/account/password", {"current": "correct-horse", "new": "short", "repeat": "short"}
        )
        assert r.status_code == 400
        r = await form_post(
            c,
            f"/t/{slug}/account/password",
            {"current": "correct-horse", "new": "new-pass-123", "repeat": "new-pass-123"},
        )
        assert r.status_code == 200
    async with make_client(app) as c:
        assert (await login(c, slug, name, "correct-horse")).status_code == 400
        assert (await login(c, slug, name, "new-pass-123")).status_code == 303


async def test_switching_language_changes_the_page_language(as_admin: Any) -> None:
    r = await as_admin.get("/t/shuangluan/")
    assert 'lang="zh-Hans"' in r.text
    r = await form_post(as_admin, "/t/shuangluan/account/locale", {"locale": "en", "next": "/t/shuangluan/"})
    assert r.status_code == 303
    r = await as_admin.get("/t/shuangluan/")
    assert 'lang="en"' in r.text and "Smart service" in r.text
    await form_post(as_admin, "/t/shuangluan/account/locale", {"locale": "zh_Hans", "next": "/t/shuangluan/"})
    assert "服务智治" in (await as_admin.get("/t/shuangluan/")).text


async def test_api_token_lets_a_machine_client_call_the_api(app: Any, member: Any) -> None:
    slug, name = member
    async with make_client(app) as c:
        await login(c, slug, name, "correct-horse")
        r = await form_post(c, f"/t/{slug}/account/tokens", {"name": "mini-program"})
        token = re.search(r'data-testid="new-token">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    async with make_client(app) as api:
        assert (await api.get(f"/t/{slug}/api/v1/me")).status_code == 401
        r = await api.get(f"/t/{slug}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["username"] == name and r.json()["tenant"] == slug
        # the same token means nothing on another tenant
        r = await api.get("/t/shuangluan/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["detail"]


async def test_a_revoked_token_no_longer_works(app: Any, member: Any) -> None:
    slug, name = member
    async with make_client(app) as c:
        await login(c, slug, name, "correct-horse")
        r = await form_post(c, f"/t/{slug}/account/tokens", {"name": "old"})
        token = re.search(r'data-testid="new-token">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
        token_id = re.search(r"/account/tokens/(\d+)/revoke", r.text).group(1)  # type: ignore[union-attr]
        await form_post(c, f"/t/{slug}/account/tokens/{token_id}/revoke")
    async with make_client(app) as api:
        r = await api.get(f"/t/{slug}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


async def test_api_ignores_session_cookies(as_admin: Any) -> None:
    assert (await as_admin.get("/t/shuangluan/api/v1/me")).status_code == 401


async def test_passwords_are_stored_as_argon2_hashes(db: Any) -> None:
    from tests.core.test_tenancy import tenant_id

    async with db.session(await tenant_id(db, "shuangluan")) as s:
        user = (await s.execute(select(User).where(User.username == "admin"))).scalar_one()
    assert user.password_hash.startswith("$argon2id$")


@pytest.mark.skipif(not REDIS_URL, reason="LIUZHI_TEST_REDIS_URL not set")
async def test_sessions_live_in_redis_when_configured(migrated: Any) -> None:
    from dataclasses import replace

    from core.app import create_app

    application = create_app(replace(migrated, redis_url=REDIS_URL))
    for hook in application.on_startup:
        await hook(application)
    try:
        async with make_client(application) as c:
            assert (await login(c, "shuangluan", "admin")).status_code == 303
            assert (await c.get("/t/shuangluan/")).status_code == 200
            sid = c.cookies.get("liuzhi_session")
        from redis.asyncio import Redis

        r = Redis.from_url(REDIS_URL)
        keys = [k async for k in r.scan_iter(match=f"*{sid}*")]
        await r.aclose()
        assert keys, "the session should be stored in Redis"
    finally:
        for hook in application.on_shutdown:
            await hook(application)


async def test_the_openapi_schema_is_served_as_json_without_outside_scripts(client: Any) -> None:
    r = await client.get("/t/shuangluan/api/schema/openapi.json")
    assert r.status_code == 200 and "/api/v1/me" in r.json()["paths"]
    html = await client.get("/t/shuangluan/api/schema")
    assert "cdn" not in html.text.lower() and "unpkg" not in html.text.lower()
