"""Activities as staff and residents use them: a worker publishes one in their community, a resident
signs up on the phone and shows their QR code, the worker enters the code and the resident is
checked in and later out, hours are corrected with a reason, the attendance sheet prints; the same
through the JSON API; another community's worker gets 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.services.activities.models import Activity, ActivitySignup
from core.web.services.common import form_datetime
from tests.conftest import form_post, login, main_text, make_client
from tests.core.services.conftest import add_node
from tests.core.services.test_account_pages import PASSWORD, give_role, sign_up_on_page


def qr_code(html: str) -> str:
    m = re.search(r'data-testid="qr-code">([^<]+)<', html)
    assert m, "no code on the page"
    return m.group(1).strip()


async def publish(staff: Any, slug: str, node_id: int, **over: Any) -> int:
    start = datetime.now(UTC) - timedelta(minutes=10)
    data = {
        "title": "双安社区环境清扫",
        "node": str(node_id),
        "place": "社区广场",
        "starts_at": form_datetime(start),
        "ends_at": form_datetime(start + timedelta(hours=2)),
        "capacity": "2",
        "eligibility": "everyone",
        **over,
    }
    r = await form_post(staff, f"/t/{slug}/activities/new", data)
    assert r.status_code == 303, main_text(r.text)
    return int(re.search(r"/activities/(\d+)/staff", r.headers["location"]).group(1))


async def test_sign_up_qr_check_in_and_out_hours_and_sheet(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    await give_role(world, "worker", "community_worker", world.community)
    async with make_client(app) as staff, make_client(app) as phone:
        await login(staff, slug, "worker", PASSWORD)
        r = await staff.get(f"/t/{slug}/activities/new")
        assert r.status_code == 200 and world.grid.name in r.text
        # A bad form says what is wrong beside the field, and nothing is published.
        r = await form_post(staff, f"/t/{slug}/activities/new", {"title": "", "node": str(world.grid.id)})
        assert r.status_code == 400 and 'id="e-starts_at"' in r.text
        activity_id = await publish(staff, slug, world.grid.id)

        await sign_up_on_page(phone, slug, caplog, "13911110000", "刘一")
        r = await phone.get(f"/t/{slug}/activities/")
        assert "双安社区环境清扫" in r.text
        r = await form_post(phone, f"/t/{slug}/activities/{activity_id}/signup")
        assert r.status_code == 303
        r = await phone.get(f"/t/{slug}/activities/{activity_id}/qr")
        assert r.status_code == 200 and 'data-testid="qr-image"' in r.text and "data:image/svg+xml" in r.text
        code = qr_code(r.text)

        r = await form_post(staff, f"/t/{slug}/activities/{activity_id}/scan", {"token": code[:-3] + "abc"})
        assert r.status_code == 400 and 'data-testid="scan-error"' in r.text
        r = await form_post(staff, f"/t/{slug}/activities/{activity_id}/scan", {"token": code})
        assert r.status_code == 200 and "刘一" in r.text and 'data-testid="scan-result"' in r.text
        r = await form_post(staff, f"/t/{slug}/activities/{activity_id}/scan", {"token": code})
        assert r.status_code == 200 and 'data-testid="scan-result"' in r.text  # the second scan checks out

        async with world.session() as s:
            signup = (await s.execute(select(ActivitySignup))).scalars().one()
            assert signup.checked_in_at and signup.checked_out_at and signup.minutes is not None
        r = await form_post(staff, f"/t/{slug}/activities/{activity_id}/hours/{signup.user_id}", {"hours": "2.5"})
        assert r.status_code == 400  # a correction needs a reason
        r = await form_post(
            staff, f"/t/{slug}/activities/{activity_id}/hours/{signup.user_id}", {"hours": "x", "reason": "补录"}
        )
        assert r.status_code == 400
        r = await form_post(
            staff, f"/t/{slug}/activities/{activity_id}/hours/{signup.user_id}", {"hours": "2.5", "reason": "补录"}
        )
        assert r.status_code == 303
        async with world.session() as s:
            entry = (
                (await s.execute(select(AuditEntry).where(AuditEntry.action == "activity.hours_edit"))).scalars().one()
            )
            assert (
                entry.changes["minutes"][1] == 150
                and entry.changes["reason"] == "补录"
                and entry.actor_name == "worker"
            )
        r = await phone.get(f"/t/{slug}/me/activities")
        assert "2.5" in main_text(r.text)
        r = await phone.get(f"/t/{slug}/me/")
        assert "2.5" in main_text(r.text)

        r = await form_post(staff, f"/t/{slug}/activities/{activity_id}/sheet")
        assert r.status_code == 303
        pdf = await staff.get(r.headers["location"].replace("http://localhost", ""))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_capacity_and_scope_and_cancel(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    async with world.transaction() as s:
        other = await add_node(s, world.root, "c9", "community", "别的社区")
    await give_role(world, "worker", "community_worker", world.community)
    await give_role(world, "elsewhere", "community_worker", other)
    async with make_client(app) as staff:
        await login(staff, slug, "worker", PASSWORD)
        activity_id = await publish(staff, slug, world.community.id, capacity="1")
    async with make_client(app) as one, make_client(app) as two:
        await sign_up_on_page(one, slug, caplog, "13922220001", "甲")
        await sign_up_on_page(two, slug, caplog, "13922220002", "乙")
        assert (await form_post(one, f"/t/{slug}/activities/{activity_id}/signup")).status_code == 303
        r = await form_post(two, f"/t/{slug}/activities/{activity_id}/signup")
        assert (r.status_code == 409 and "full" in r.text) or "满" in r.text
        assert (await two.get(f"/t/{slug}/activities/{activity_id}/qr")).status_code == 404
        r = await form_post(one, f"/t/{slug}/activities/{activity_id}/withdraw")
        assert r.status_code == 303
        assert (await form_post(two, f"/t/{slug}/activities/{activity_id}/signup")).status_code == 303
        # A resident is not staff.
        assert (await two.get(f"/t/{slug}/activities/{activity_id}/staff")).status_code == 403
    async with make_client(app) as staff:
        await login(staff, slug, "elsewhere", PASSWORD)
        assert (await staff.get(f"/t/{slug}/activities/{activity_id}/staff")).status_code == 404
        assert (await form_post(staff, f"/t/{slug}/activities/{activity_id}/scan", {"token": "x"})).status_code == 404
        r = await staff.get(f"/t/{slug}/activities/manage")
        assert "双安社区环境清扫" not in r.text
    async with make_client(app) as staff:
        await login(staff, slug, "worker", PASSWORD)
        assert (await form_post(staff, f"/t/{slug}/activities/{activity_id}/cancel", {})).status_code == 400
        r = await form_post(staff, f"/t/{slug}/activities/{activity_id}/cancel", {"reason": "降雨"})
        assert r.status_code == 303
    async with world.session() as s:
        assert (await s.execute(select(Activity.status))).scalar_one() == "cancelled"


async def test_the_json_api_signs_up_shows_the_code_and_a_scanner_checks_in(world: Any, app: Any, caplog: Any) -> None:
    slug = world.tenant.slug
    await give_role(world, "worker", "community_worker", world.community)
    async with make_client(app) as staff:
        await login(staff, slug, "worker", PASSWORD)
        activity_id = await publish(staff, slug, world.grid.id)
    async with make_client(app) as api:
        base = f"/t/{slug}/api/v1"
        import logging

        from tests.core.services.test_account_pages import sent_code

        caplog.set_level(logging.INFO, logger="liuzhi.notify")
        await api.post(f"{base}/accounts/code", json={"phone": "13933330000"})
        r = await api.post(
            f"{base}/accounts/sign-up",
            json={"phone": "13933330000", "code": sent_code(caplog), "display_name": "周", "password": PASSWORD},
        )
        me = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await api.get(f"{base}/activities", headers=me)
        assert [a["id"] for a in r.json()["activities"]] == [activity_id]
        assert (await api.get(f"{base}/activities/{activity_id}/qr", headers=me)).status_code == 404
        r = await api.post(f"{base}/activities/{activity_id}/signup", headers=me)
        assert r.status_code == 200 and r.json()["me"]["signed_up_at"]
        assert (await api.post(f"{base}/activities/{activity_id}/signup", headers=me)).status_code == 409
        token = (await api.get(f"{base}/activities/{activity_id}/qr", headers=me)).json()["token"]
        # A resident cannot check anyone in.
        r = await api.post(f"{base}/activities/{activity_id}/check-in", json={"token": token}, headers=me)
        assert r.status_code == 403
        async with world.transaction() as s:
            from core.web.context import hash_token

            raw = "lz_staff_scanner_token_for_tests"
            from core.identity.models import ApiToken, User

            worker = (await s.execute(select(User).where(User.username == "worker"))).scalar_one()
            s.add(ApiToken(user_id=worker.id, name="scanner", prefix=raw[:10], token_hash=hash_token(raw)))
        scanner = {"Authorization": f"Bearer {raw}"}
        r = await api.post(f"{base}/activities/{activity_id}/check-in", json={"token": token}, headers=scanner)
        assert r.status_code == 200 and r.json()["direction"] == "in" and r.json()["user"]["display_name"] == "周"
        r = await api.post(f"{base}/activities/{activity_id}/check-in", json={"token": "1.2.3.4.x"}, headers=scanner)
        assert r.status_code == 400 and r.json()["field"] == "token"
        r = await api.post(f"{base}/activities/{activity_id}/cancel", headers=me)
        assert r.status_code == 409  # checked in already
        r = await api.get(f"{base}/me/activities", headers=me)
        assert r.json()["activities"][0]["me"]["checked_in_at"]
