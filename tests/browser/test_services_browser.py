"""The shared services end to end in a real browser, on phones: a resident signs up with the code
the district's SMS adapter sent (the logging adapter here), is linked to their resident record at
once (name + 身份证号 match), signs up for an activity and shows the QR code; the community worker
reads the code from the resident's page into the scanner form and the resident is checked in and
out; the worker records the hours (with a reason) and posts points under the district's rule; the
resident sees the hours and the points on "我的". Screenshots go to tests/artifacts/services-*.png.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from core.db.base import new_id
from core.grids import people
from core.grids.models import GridNode
from core.identity.models import User
from core.identity.passwords import hash_password
from core.rbac.models import RoleAssignment
from core.services import activities, ledger
from tests.browser.conftest import LiveServer, shot_path

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PASSWORD = "worker-pass-1"
ID_NUMBER = people.v.make_id_number("13082119900305123")


async def _node(s: Any, parent: GridNode | None, code: str, kind: str, name: str) -> GridNode:
    node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=parent.id if parent else None)
    node.depth = parent.depth + 1 if parent else 0
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    s.add(node)
    await s.flush()
    return node


@pytest.fixture
async def place(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    """A community with a grid, one resident on the register, a community worker, a points rule and
    an activity under way."""
    async with app.state.db.transaction(fresh_tenant.id) as s:
        root = await _node(s, None, "d", "district", "双滦区")
        street = await _node(s, root, "s", "subdistrict", "元宝山街道")
        community = await _node(s, street, "c", "community", "双安社区")
        grid = await _node(s, community, "g", "grid", "第一网格")
        await people.upsert_resident(
            s, app.state.vault, people.clean_resident({"name": "张安安", "id_number": ID_NUMBER}), grid
        )
        worker = User(username="worker", display_name="李社工", password_hash=hash_password(PASSWORD), locale="zh_Hans")
        s.add(worker)
        await s.flush()
        s.add(
            RoleAssignment(
                user_id=worker.id, role_code="community_worker", node_id=community.id, node_path=community.path
            )
        )
        await ledger.save_rule(s, code="volunteer_hour", title="志愿服务", direction="earn", max_amount=10)
        start = datetime.now(UTC) - timedelta(minutes=20)
        activity = await activities.publish(
            s, title="双安社区环境清扫", node=grid, starts_at=start, ends_at=start + timedelta(hours=3),
            capacity=20, place="社区广场", source="core",
        )  # fmt: skip
        return {"slug": fresh_tenant.slug, "activity_id": activity.id}


async def test_a_resident_signs_up_is_linked_checked_in_by_qr_and_sees_hours_and_points(
    live_server: LiveServer, new_context: Any, place: dict[str, Any], caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="liuzhi.notify")
    slug, activity_id = place["slug"], place["activity_id"]
    resident = await (await new_context(**PHONE)).new_page()
    staff = await (await new_context(**PHONE)).new_page()

    # 1. Sign up on the phone with the code the SMS adapter sent.
    await resident.goto(live_server.url(f"/t/{slug}/login"))
    await resident.get_by_test_id("signup-link").click()
    await resident.locator("input[name=phone]").fill("13912345678")
    await resident.get_by_test_id("send-code").click()
    await expect(resident.locator("input[name=code]")).to_be_visible()
    code = re.findall(r"验证码 (\d{6})", caplog.text)[-1]
    await resident.locator("input[name=code]").fill(code)
    await resident.locator("input[name=display_name]").fill("张安安")
    await resident.locator("input[name=password]").fill("anan-pass-2026")
    await resident.locator("input[name=repeat]").fill("anan-pass-2026")
    await resident.screenshot(path=shot_path("services-1-signup"), full_page=True)
    await resident.get_by_test_id("create-account").click()

    # 2. Linked at once: name and ID number match the register.
    await resident.wait_for_url(f"**/t/{slug}/me/link")
    await resident.locator("input[name=name]").fill("张安安")
    await resident.locator("input[name=id_number]").fill(ID_NUMBER)
    await resident.get_by_test_id("request-link").click()
    await expect(resident.get_by_test_id("link-status")).to_contain_text("张安安")

    # 3. Sign up for the activity and show the QR code.
    await resident.goto(live_server.url(f"/t/{slug}/activities/"))
    await resident.get_by_text("双安社区环境清扫").click()
    await resident.get_by_test_id("sign-up").click()
    await expect(resident.get_by_test_id("signed-up")).to_be_visible()
    await resident.get_by_test_id("show-qr").click()
    await expect(resident.get_by_test_id("qr-image")).to_be_visible()
    await resident.screenshot(path=shot_path("services-2-qr"), full_page=True)
    token = (await resident.get_by_test_id("qr-code").text_content() or "").strip()
    assert token.count(".") == 4

    # 4. The worker enters the code the resident's page shows: in, then out.
    await staff.goto(live_server.url(f"/t/{slug}/login"))
    await staff.locator("input[name=username]").fill("worker")
    await staff.locator("input[name=password]").fill(PASSWORD)
    await staff.locator("main form button[type=submit]").first.click()
    await staff.wait_for_url(live_server.url(f"/t/{slug}/"))
    await staff.goto(live_server.url(f"/t/{slug}/activities/{activity_id}/staff"))
    await staff.get_by_test_id("scan-token").fill(token)
    await staff.get_by_test_id("scan-submit").click()
    await expect(staff.get_by_test_id("scan-result")).to_contain_text("张安安")
    await staff.screenshot(path=shot_path("services-3-checked-in"), full_page=True)
    await staff.get_by_test_id("scan-token").fill(token)
    await staff.get_by_test_id("scan-submit").click()
    await expect(staff.get_by_test_id("scan-result")).to_contain_text("签退")

    # 5. Hours from the paper sheet (with the reason, audited) and points under the district's rule.
    row = staff.get_by_test_id("signup-row").filter(has_text="张安安")
    await row.locator("details summary").click()
    await row.locator("input[name=hours]").fill("2.5")
    await row.locator("input[name=reason]").fill("按纸质签到表补录")
    await row.locator("details button").click()
    await expect(staff.get_by_test_id("scan-result")).to_be_visible()
    await staff.get_by_test_id("signup-row").filter(has_text="张安安").get_by_test_id("award-points").click()
    await staff.get_by_test_id("points-amount").fill("5")
    await staff.locator("input[name=memo]").fill("环境清扫 2.5 小时")
    await staff.get_by_test_id("points-post").click()
    await expect(staff.get_by_test_id("points-total")).to_have_text("5.00")

    # 6. "我的" shows the hours and the points.
    await resident.goto(live_server.url(f"/t/{slug}/me/"))
    section = resident.get_by_test_id("me-section-core.services")
    await expect(section).to_contain_text("2.5")
    await expect(section).to_contain_text("5.0")
    await expect(resident.get_by_test_id("me-linked")).to_be_visible()
    await resident.screenshot(path=shot_path("services-4-my-page"), full_page=True)
