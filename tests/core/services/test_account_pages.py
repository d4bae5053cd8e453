"""Resident accounts as people use them on a phone: sign up with the code the district's SMS adapter
sent, sign in by mobile number, ask to be linked, a community worker's queue (their area only),
"我的", the development identity provider on the login page, and the same through the JSON API."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlalchemy import select

from core.grids import people
from core.rbac.models import RoleAssignment
from core.services import accounts
from tests.conftest import csrf_of, form_post, login, main_text, make_client
from tests.core.services.conftest import add_node, add_user

ID_NUMBER = people.v.make_id_number("13082119800101123")
OTHER_ID = people.v.make_id_number("13082119850202456")
PASSWORD = "resident-pass-1"


def sent_code(caplog: Any) -> str:
    codes = re.findall(r"验证码 (\d{6})", caplog.text)
    assert codes, "no code was sent"
    return codes[-1]


async def add_resident(world: Any, app: Any, name: str, id_number: str, node: Any) -> Any:
    async with world.transaction() as s:
        resident, _ = await people.upsert_resident(
            s, app.state.vault, people.clean_resident({"name": name, "id_number": id_number}), node
        )
        return resident


async def give_role(world: Any, username: str, role: str, node: Any, password: str = PASSWORD) -> int:
    """A staff account ``username`` (made if new) holding ``role`` at ``node``; returns its id."""
    from core.identity.models import User
    from core.identity.passwords import hash_password

    async with world.transaction() as s:
        user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
        if user is None:
            user = await add_user(s, username)
        user.password_hash = hash_password(password)
        s.add(RoleAssignment(user_id=user.id, role_code=role, node_id=node.id, node_path=node.path))
        return user.id


async def sign_up_on_page(client: Any, slug: str, caplog: Any, phone: str, name: str) -> Any:
    caplog.set_level(logging.INFO, logger="liuzhi.notify")
    r = await client.get(f"/t/{slug}/signup")
    assert r.status_code == 200
    r = await form_post(client, f"/t/{slug}/signup/code", {"phone": phone})
    assert r.status_code == 200 and sent_code(caplog) not in r.text  # the code goes to the phone only
    return await form_post(
        client,
        f"/t/{slug}/signup",
        {
            "phone": phone,
            "code": sent_code(caplog),
            "display_name": name,
            "password": PASSWORD,
            "repeat": PASSWORD,
        },
    )


async def test_a_resident_signs_up_on_the_phone_is_linked_at_once_and_sees_my_page(
    world: Any, app: Any, caplog: Any
) -> None:
    slug = world.tenant.slug
    await add_resident(world, app, "张安安", ID_NUMBER, world.grid)
    async with make_client(app) as client:
        r = await sign_up_on_page(client, slug, caplog, "13912345678", "张安安")
        assert r.status_code == 303 and r.headers["location"] == f"/t/{slug}/me/link"
        r = await client.get(f"/t/{slug}/me/link")
        assert "Ask to be linked" in r.text or "申请关联" in r.text
        r = await form_post(client, f"/t/{slug}/me/link", {"name": "张安安", "id_number": ID_NUMBER})
        assert r.status_code == 303
        r = await client.get(f"/t/{slug}/me/")
        text = main_text(r.text)
        assert r.status_code == 200 and "张安安" in text
        assert ("我的参与" in text or "My participation" in text) and "139****5678" in text
        assert 'data-testid="me-linked"' in r.text
    # Signed out, the mobile number and password sign in on the ordinary login page.
    async with make_client(app) as client:
        r = await login(client, slug, "13912345678", PASSWORD)
        assert r.status_code == 303


async def test_sign_up_errors_are_shown_beside_the_field_and_nothing_is_created(
    world: Any, app: Any, caplog: Any
) -> None:
    slug = world.tenant.slug
    async with make_client(app) as client:
        await client.get(f"/t/{slug}/signup", headers={"Accept-Language": "en"})
        r = await form_post(client, f"/t/{slug}/signup/code", {"phone": "12345"})
        assert r.status_code == 400 and 'id="e-phone"' in r.text
        caplog.set_level(logging.INFO, logger="liuzhi.notify")
        r = await form_post(client, f"/t/{slug}/signup/code", {"phone": "13812345678"})
        data = {
            "phone": "13812345678",
            "code": "000000",
            "display_name": "李",
            "password": PASSWORD,
            "repeat": PASSWORD,
        }
        if sent_code(caplog) == "000000":
            data["code"] = "111111"
        r = await form_post(client, f"/t/{slug}/signup", data)
        assert r.status_code == 400 and 'id="e-code"' in r.text
        r = await form_post(client, f"/t/{slug}/signup", {**data, "code": sent_code(caplog), "repeat": "other"})
        assert r.status_code == 400 and 'id="e-repeat"' in r.text
    async with world.session() as s:
        assert await accounts.account_by_phone(s, app.state.vault, "13812345678") is None


async def test_a_worker_confirms_a_link_in_their_area_and_cannot_see_another_areas(
    world: Any, app: Any, caplog: Any
) -> None:
    slug = world.tenant.slug
    async with world.transaction() as s:
        other = await add_node(s, world.root, "c2", "community", "另一社区")
    await add_resident(world, app, "王小明", OTHER_ID, world.grid)
    await give_role(world, "worker", "community_worker", world.community)
    await give_role(world, "elsewhere", "community_worker", other)
    async with make_client(app) as phone:
        await sign_up_on_page(phone, slug, caplog, "13700000001", "王小明")
        # A typo in the ID number: no record matches, so the request waits for a worker.
        wrong = people.v.make_id_number("13082119850202457")
        r = await form_post(phone, f"/t/{slug}/me/link", {"name": "王小明", "id_number": wrong, "note": "1-101"})
        assert r.status_code == 303
        r = await phone.get(f"/t/{slug}/me/link")
        assert 'data-testid="link-status"' in r.text
    async with world.session() as s:
        from core.services.accounts.models import AccountLink

        link = (await s.execute(select(AccountLink))).scalars().one()
    # The request names no place: only district-level staff see it … so the worker's queue is empty.
    async with make_client(app) as staff:
        assert (await login(staff, slug, "worker", PASSWORD)).status_code == 303
        r = await staff.get(f"/t/{slug}/accounts/links")
        assert r.status_code == 200 and 'data-testid="link-request"' not in r.text
        r = await form_post(staff, f"/t/{slug}/accounts/links/{link.id}", {"decision": "reject", "reason": "x"})
        assert r.status_code == 404
    async with world.transaction() as s:
        from core.services.accounts.models import AccountLink

        row = (await s.execute(select(AccountLink).where(AccountLink.id == link.id))).scalar_one()
        row.node_path = world.grid.path  # as if the resident had picked their household
    async with make_client(app) as staff:
        await login(staff, slug, "elsewhere", PASSWORD)
        assert (
            await form_post(staff, f"/t/{slug}/accounts/links/{link.id}", {"decision": "confirm"})
        ).status_code == 404
    async with make_client(app) as staff:
        await login(staff, slug, "worker", PASSWORD)
        r = await staff.get(f"/t/{slug}/accounts/links")
        assert 'data-testid="link-request"' in r.text and "王小明" in r.text
        r = await form_post(staff, f"/t/{slug}/accounts/links/{link.id}", {"decision": "reject"})
        assert r.status_code == 400  # a rejection needs a reason
        resident_id = re.search(r'name="resident_id" value="(\d+)"', r.text).group(1)
        r = await form_post(
            staff, f"/t/{slug}/accounts/links/{link.id}", {"decision": "confirm", "resident_id": resident_id}
        )
        assert r.status_code == 303
    async with world.session() as s:
        from core.services.notifications.models import InAppNotification

        notes = (await s.execute(select(InAppNotification))).scalars().all()
        assert any("关联" in n.title for n in notes)


async def test_a_resident_who_is_not_staff_cannot_open_the_queue(world: Any, app: Any, caplog: Any) -> None:
    async with make_client(app) as phone:
        await sign_up_on_page(phone, world.tenant.slug, caplog, "13700000002", "赵")
        assert (await phone.get(f"/t/{world.tenant.slug}/accounts/links")).status_code == 403


async def test_the_json_api_signs_up_signs_in_and_shows_my_page(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    await add_resident(world, app, "孙丽", ID_NUMBER, world.grid)
    caplog.set_level(logging.INFO, logger="liuzhi.notify")
    async with make_client(app) as api:
        base = f"/t/{slug}/api/v1"
        r = await api.post(f"{base}/accounts/code", json={"phone": "bad"})
        assert r.status_code == 400 and r.json()["field"] == "phone"
        r = await api.post(f"{base}/accounts/code", json={"phone": "13600000003"})
        assert r.status_code == 200 and r.json()["expires_at"]
        r = await api.post(
            f"{base}/accounts/sign-up",
            json={"phone": "13600000003", "code": sent_code(caplog), "display_name": "孙丽", "password": PASSWORD},
        )
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        r = await api.post(f"{base}/me/link", json={"name": "孙丽", "id_number": ID_NUMBER}, headers=auth)
        assert r.status_code == 201 and r.json()["link"]["status"] == "confirmed"
        r = await api.get(f"{base}/me/page", headers=auth)
        body = r.json()
        assert r.status_code == 200 and body["linked"] and body["phone"] == "136****0003"
        assert body["sections"][0]["plugin"] == "core.services"
        r = await api.post(f"{base}/accounts/sign-in", json={"phone": "13600000003", "password": "nope-nope-1"})
        assert r.status_code == 401
        r = await api.post(f"{base}/accounts/sign-in", json={"phone": "13600000003", "password": PASSWORD})
        assert r.status_code == 200 and r.json()["token"] != token
        assert (await api.get(f"{base}/me/page")).status_code == 401
        r = await api.post(f"{base}/accounts/sign-in/nobody", json={})
        assert r.status_code == 404
        r = await api.post(f"{base}/accounts/sign-up", content=b"[1]", headers={"content-type": "application/json"})
        assert r.status_code == 400


@pytest.fixture
async def dev_app(migrated: Any) -> Any:
    """An app with the development identity provider on (as ``liuzhi demo`` has it)."""
    from dataclasses import replace

    from core.app import create_app
    from tests.conftest import start_app

    application = create_app(replace(migrated, extra={"identity_dev": "1"}))
    stack = await start_app(application)
    yield application
    await stack.aclose()


async def test_the_development_provider_signs_in_from_the_login_page(dev_app: Any, fresh_tenant: Any) -> None:
    slug = fresh_tenant.slug
    async with make_client(dev_app) as client:
        r = await client.get(f"/t/{slug}/login")
        assert 'data-testid="provider-development"' in r.text
        r = await client.post(
            f"/t/{slug}/login/provider/development",
            data={"_csrf_token": csrf_of(client), "subject": "dev-1", "name": "测试", "phone": "13500000004"},
        )
        assert r.status_code == 303 and r.headers["location"].endswith("/me/")
        r = await client.get(f"/t/{slug}/me/")
        assert "测试" in r.text and "设置密码" in r.text
        r = await form_post(client, f"/t/{slug}/me/password", {"password": PASSWORD, "repeat": PASSWORD})
        assert r.status_code == 200 and 'data-testid="me-name"' in r.text
    async with make_client(dev_app) as client:
        r = await client.get(f"/t/{slug}/login")
        r = await client.post(f"/t/{slug}/login/provider/development", data={"_csrf_token": csrf_of(client)})
        assert r.status_code == 400 and 'role="alert"' in r.text
