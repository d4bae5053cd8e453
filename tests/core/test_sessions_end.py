"""Sessions end when they should — in the database store and in Redis, across processes — and API
tokens are for the API only, may expire, and record their last use."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from core.db.base import new_id
from core.identity.models import ApiToken, User
from core.rbac import admin
from core.rbac.models import RoleAssignment
from core.web.context import hash_token
from tests.conftest import REDIS_URL, csrf_of, make_client, start_app
from tests.core.accounts import accounts_at_root

PASSWORD = "first-pass-123"


@pytest.fixture(params=["database", "redis"])
async def apps(request: Any, app: Any) -> AsyncIterator[tuple[Any, Any]]:
    """Two app processes sharing one session store: the database (the test app twice) or Redis."""
    if request.param == "database":
        yield app, app
        return
    if not REDIS_URL:
        pytest.skip("LIUZHI_TEST_REDIS_URL is not set")
    from core.app import create_app

    settings = replace(app.state.settings, redis_url=REDIS_URL)
    one, two = create_app(settings), create_app(settings)
    stacks = [await start_app(one), await start_app(two)]
    yield one, two
    for stack in stacks:
        await stack.aclose()


@pytest.fixture
async def member(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    ids = await accounts_at_root(app, fresh_tenant, {"zhao": "grid_worker"}, PASSWORD)
    return {"tenant": fresh_tenant, "user_id": ids["zhao"], "slug": fresh_tenant.slug}


async def sign_in(application: Any, slug: str, password: str = PASSWORD) -> httpx.AsyncClient:
    c = make_client(application)
    await c.get(f"/t/{slug}/login")
    r = await c.post(
        f"/t/{slug}/login", data={"username": "zhao", "password": password, "_csrf_token": csrf_of(c), "next": ""}
    )
    assert r.status_code == 303, r.text[:300]
    return c


async def signed_in(c: httpx.AsyncClient, slug: str) -> bool:
    r = await c.get(f"/t/{slug}/account/")
    return r.status_code == 200


async def test_changing_the_password_ends_the_other_sessions_only(apps: Any, member: Any) -> None:
    one, two = apps
    slug = member["slug"]
    here, elsewhere = await sign_in(one, slug), await sign_in(two, slug)
    try:
        assert await signed_in(elsewhere, slug)
        r = await here.post(
            f"/t/{slug}/account/password",
            data={
                "current": PASSWORD,
                "new": "second-pass-456",
                "repeat": "second-pass-456",
                "_csrf_token": csrf_of(here),
            },
        )
        assert r.status_code == 200 and ("已修改" in r.text or "has been changed" in r.text)
        assert await signed_in(here, slug)
        assert not await signed_in(elsewhere, slug)
    finally:
        await here.aclose()
        await elsewhere.aclose()


async def _as_admin(application: Any, member: Any, change: Any) -> None:
    async with application.state.db.transaction(member["tenant"].id) as s:
        user = await s.get(User, (member["tenant"].id, member["user_id"]))
        await change(s, user)


async def test_a_password_reset_by_an_admin_ends_every_session(apps: Any, member: Any) -> None:
    one, two = apps
    c = await sign_in(one, member["slug"])
    try:

        async def reset(s: Any, user: User) -> None:
            assert admin.reset_password(s, user, "reset-by-admin-1") == {}

        await _as_admin(two, member, reset)
        assert not await signed_in(c, member["slug"])
    finally:
        await c.aclose()


async def test_a_deactivated_account_stays_signed_out_when_reactivated(apps: Any, member: Any) -> None:
    one, two = apps
    c = await sign_in(one, member["slug"])
    try:

        async def deactivate(s: Any, user: User) -> None:
            assert admin.set_active(s, user, False, None)

        async def reactivate(s: Any, user: User) -> None:
            assert admin.set_active(s, user, True, None)

        await _as_admin(two, member, deactivate)
        assert not await signed_in(c, member["slug"])
        await _as_admin(two, member, reactivate)
        assert not await signed_in(c, member["slug"])
    finally:
        await c.aclose()


async def test_revoking_a_role_ends_the_sessions_opened_with_it(apps: Any, member: Any) -> None:
    one, two = apps
    c = await sign_in(one, member["slug"])
    try:

        async def revoke(s: Any, user: User) -> None:
            row = (await s.execute(select(RoleAssignment).where(RoleAssignment.user_id == user.id))).scalar_one()
            await admin.remove_assignment(s, user, row)

        await _as_admin(two, member, revoke)
        assert not await signed_in(c, member["slug"])
    finally:
        await c.aclose()


# ---- API tokens -------------------------------------------------------------------------------


async def _token(app: Any, member: Any, **kw: Any) -> tuple[str, int]:
    raw = "lz_" + secrets.token_urlsafe(24)
    token = ApiToken(
        id=new_id(), user_id=member["user_id"], name="mp", prefix=raw[:8], token_hash=hash_token(raw), **kw
    )
    async with app.state.db.transaction(member["tenant"].id) as s:
        s.add(token)
    return raw, token.id


async def _last_used(app: Any, member: Any, token_id: int) -> datetime | None:
    async with app.state.db.session(member["tenant"].id) as s:
        return (await s.execute(select(ApiToken.last_used_at).where(ApiToken.id == token_id))).scalar_one()


async def test_a_token_opens_the_api_but_no_page(app: Any, member: Any) -> None:
    raw, _id = await _token(app, member)
    async with make_client(app) as c:
        c.headers["Authorization"] = f"Bearer {raw}"
        assert (await c.get(f"/t/{member['slug']}/api/v1/me")).status_code == 200
        page = await c.get(f"/t/{member['slug']}/account/")
        assert page.status_code == 401
        assert "API" in page.text


async def test_an_expired_token_is_refused(app: Any, member: Any) -> None:
    raw, _id = await _token(app, member, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    async with make_client(app) as c:
        r = await c.get(f"/t/{member['slug']}/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401


async def test_a_tokens_last_use_is_recorded_at_most_once_a_minute(app: Any, member: Any) -> None:
    raw, token_id = await _token(app, member)
    assert await _last_used(app, member, token_id) is None
    async with make_client(app) as c:
        c.headers["Authorization"] = f"Bearer {raw}"
        await c.get(f"/t/{member['slug']}/api/v1/me")
        first = await _last_used(app, member, token_id)
        assert first is not None and datetime.now(UTC) - first < timedelta(seconds=30)
        await c.get(f"/t/{member['slug']}/api/v1/me")
        assert await _last_used(app, member, token_id) == first


async def test_a_token_created_on_the_account_page_expires(as_admin: Any) -> None:
    r = await as_admin.post(
        "/t/shuangluan/account/tokens",
        data={"name": "mini-program", "expires_days": "30", "_csrf_token": csrf_of(as_admin)},
    )
    assert r.status_code == 200
    expires = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert expires in r.text
    r = await as_admin.post(
        "/t/shuangluan/account/tokens",
        data={"name": "bad", "expires_days": "9999", "_csrf_token": csrf_of(as_admin)},
    )
    assert r.status_code == 400
