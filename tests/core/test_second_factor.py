"""A second factor for those who hold the keys: TOTP enrolment with a QR code, a code after the
password, recovery codes, required for district admins where the district asks and for operators
where the deployment asks; the demo keeps signing in with the password alone."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from core.identity.models import Operator, User
from core.identity.passwords import hash_password
from core.tenancy.models import Tenant
from tests.conftest import csrf_of, make_client
from tests.core.accounts import accounts_at_root

PASSWORD = "admin-pass-123"


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    await accounts_at_root(app, fresh_tenant, {"chief": "district_admin", "worker": "grid_worker"}, PASSWORD)
    return {"slug": fresh_tenant.slug, "tenant": fresh_tenant}


async def password_step(c: httpx.AsyncClient, base: str, username: str, password: str = PASSWORD) -> httpx.Response:
    await c.get(f"{base}/login")
    return await c.post(
        f"{base}/login", data={"username": username, "password": password, "_csrf_token": csrf_of(c), "next": ""}
    )


def secret_from(html: str) -> str:
    m = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html)
    assert m, "no key on the enrolment page"
    return m.group(1)


def enrolling_from(html: str) -> str:
    m = re.search(r'name="enrolling" value="([^"]+)"', html)
    assert m, "the enrolment form carries no sealed key"
    return m.group(1)


async def enrol(c: httpx.AsyncClient, url: str) -> tuple[str, list[str]]:
    page = await c.get(url)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text and 'data-testid="totp-qr"' in page.text
    secret = secret_from(page.text)
    form = {"do": "enable", "enrolling": enrolling_from(page.text), "_csrf_token": csrf_of(c)}
    r = await c.post(url, data={**form, "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200, r.text[:500]
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", r.text)
    assert len(codes) == 10
    return secret, codes


async def test_a_user_enrols_and_then_signs_in_with_a_code(app: Any, district: dict[str, Any]) -> None:
    base = f"/t/{district['slug']}"
    async with make_client(app) as c:
        assert (await password_step(c, base, "worker")).status_code == 303
        secret, _codes = await enrol(c, f"{base}/account/2fa")
    async with app.state.db.session(district["tenant"].id) as s:
        user = (await s.execute(select(User).where(User.username == "worker"))).scalar_one()
    assert user.totp_enabled_at is not None and secret.encode() not in user.totp_secret_enc
    async with make_client(app) as c:
        r = await password_step(c, base, "worker")
        assert r.status_code == 303 and r.headers["location"] == f"{base}/login/code"
        assert (await c.get(f"{base}/account/")).status_code == 302  # not signed in yet
        wrong = await c.post(f"{base}/login/code", data={"code": "000000", "_csrf_token": csrf_of(c)})
        assert wrong.status_code == 400
        # The code of the next time step: the one enrolment used cannot be replayed.
        code = pyotp.TOTP(secret).at(time.time() + 30)
        r = await c.post(f"{base}/login/code", data={"code": code, "_csrf_token": csrf_of(c)})
        assert r.status_code == 303
        assert (await c.get(f"{base}/account/")).status_code == 200
    async with make_client(app) as c:
        await password_step(c, base, "worker")
        replay = await c.post(f"{base}/login/code", data={"code": code, "_csrf_token": csrf_of(c)})
        assert replay.status_code == 400


async def test_enrolment_survives_requests_beside_it_and_a_wrong_first_code(app: Any, district: dict[str, Any]) -> None:
    """The key shown is the key enrolled, whatever other requests of the session did meanwhile (a
    phone's service worker fetches pages beside the one shown); a wrong first code shows the same
    key again; a key sealed on another account's page does not open here."""
    base = f"/t/{district['slug']}"
    async with make_client(app) as other:
        await password_step(other, base, "chief")
        foreign = enrolling_from((await other.get(f"{base}/account/2fa")).text)
    async with make_client(app) as c:
        await password_step(c, base, "worker")
        page = await c.get(f"{base}/account/2fa")
        secret, sealed = secret_from(page.text), enrolling_from(page.text)
        for _ in range(2):  # pages opened after it, each writing the session back
            assert (await c.get(f"{base}/account/")).status_code == 200
            assert (await c.get(f"{base}/account/2fa")).status_code == 200
        form = {"do": "enable", "_csrf_token": csrf_of(c)}
        wrong = await c.post(f"{base}/account/2fa", data={**form, "enrolling": sealed, "code": "000000"})
        assert wrong.status_code == 400 and secret_from(wrong.text) == secret
        code = pyotp.TOTP(secret).now()
        stolen = await c.post(f"{base}/account/2fa", data={**form, "enrolling": foreign, "code": code})
        assert stolen.status_code == 400
        cut = await c.post(f"{base}/account/2fa", data={**form, "enrolling": sealed[:-8], "code": code})
        assert cut.status_code == 400
        r = await c.post(f"{base}/account/2fa", data={**form, "enrolling": sealed, "code": code})
        assert r.status_code == 200 and len(re.findall(r"<li><code>", r.text)) == 10


async def test_a_recovery_code_signs_in_once(app: Any, district: dict[str, Any]) -> None:
    base = f"/t/{district['slug']}"
    async with make_client(app) as c:
        await password_step(c, base, "worker")
        _secret, codes = await enrol(c, f"{base}/account/2fa")
    for expected in (303, 400):
        async with make_client(app) as c:
            await password_step(c, base, "worker")
            r = await c.post(f"{base}/login/code", data={"code": codes[0], "_csrf_token": csrf_of(c)})
            assert r.status_code == expected


async def test_a_district_that_requires_it_makes_its_admins_enrol_at_sign_in(
    app: Any, district: dict[str, Any]
) -> None:
    base = f"/t/{district['slug']}"
    async with app.state.db.transaction(None) as s:
        await s.execute(update(Tenant).where(Tenant.id == district["tenant"].id).values(require_second_factor=True))
    app.state.tenant_cache.clear()
    async with make_client(app) as c:
        # Not an admin: the password is enough.
        assert (await password_step(c, base, "worker")).headers["location"] == f"{base}/"
    async with make_client(app) as c:
        r = await password_step(c, base, "chief")
        assert r.headers["location"] == f"{base}/login/enrol"
        assert (await c.get(f"{base}/admin/")).status_code == 302
        secret, _codes = await enrol(c, f"{base}/login/enrol")
        assert (await c.get(f"{base}/admin/")).status_code == 200
        # Required: it cannot be switched off.
        r = await c.post(
            f"{base}/account/2fa",
            data={
                "do": "disable",
                "password": PASSWORD,
                "code": pyotp.TOTP(secret).at(time.time() + 30),
                "_csrf_token": csrf_of(c),
            },
        )
        assert r.status_code == 400


async def test_a_district_admin_can_require_it_on_the_admin_page(as_admin: Any, app: Any) -> None:
    page = await as_admin.get("/t/shuangluan/admin/")
    assert 'data-testid="require-2fa"' in page.text
    assert "checked" not in re.search(r"<input[^>]*require-2fa[^>]*>", page.text).group(0)


@contextlib.contextmanager
def operators_need_it(app: Any) -> Iterator[None]:
    before = app.state.settings
    app.state.settings = replace(before, totp_operators=True)
    try:
        yield
    finally:
        app.state.settings = before


async def operator_password_step(c: httpx.AsyncClient) -> httpx.Response:
    await c.get("/platform/login")
    data = {"username": "op-2fa", "password": PASSWORD, "_csrf_token": csrf_of(c), "next": ""}
    return await c.post("/platform/login", data=data)


async def test_operators_enrol_when_the_deployment_requires_it(app: Any) -> None:
    async with app.state.db.transaction(None) as s:
        s.add(Operator(username="op-2fa", display_name="二号", password_hash=hash_password(PASSWORD)))
    try:
        with operators_need_it(app):
            async with make_client(app) as c:
                r = await operator_password_step(c)
                assert r.headers["location"] == "/platform/login/enrol"
                assert (await c.get("/platform/")).status_code in (302, 401)
                secret, _codes = await enrol(c, "/platform/login/enrol")
                assert (await c.get("/platform/")).status_code == 200
            async with make_client(app) as c:
                r = await operator_password_step(c)
                assert r.headers["location"] == "/platform/login/code"
                code = pyotp.TOTP(secret).at(time.time() + 30)
                r = await c.post("/platform/login/code", data={"code": code, "_csrf_token": csrf_of(c)})
                assert r.status_code == 303 and (await c.get("/platform/")).status_code == 200
    finally:
        async with app.state.db.transaction(None) as s:
            op = (await s.execute(select(Operator).where(Operator.username == "op-2fa"))).scalar_one()
            await s.delete(op)


async def test_the_demo_signs_in_with_the_password_alone(client: Any) -> None:
    from tests.conftest import login

    r = await login(client, "shuangluan", "admin")
    assert r.status_code == 303 and r.headers["location"] == "/t/shuangluan/"
