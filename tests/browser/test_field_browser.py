"""A grid worker's day on a phone (390×844), in a real browser: the bottom tab bar, a task signed for,
handled and reported with an "after" photo, a patrol whose route comes from the phone's location
(Playwright's geolocation override), a household visit, and a report made with the network switched
off — queued on the phone with a visible 待发送 count, then sent once the network is back.
Screenshots go to tests/artifacts/field-<step>-<database>.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import func, select

from core.db.context import Actor
from core.grids.models import GridNode
from core.identity.models import User
from tests.browser.conftest import LiveServer, shot_path, sign_in
from tests.plugins.smart_service.fixtures.images import phone_jpeg

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
T = "/t/shuangluan"
START = {"longitude": 117.7800, "latitude": 40.9500, "accuracy": 10}


async def dispatched_task(app: Any) -> tuple[int, str]:
    """A fresh event in the worker's grid, dispatched to them (as the command centre would)."""
    from core.tenancy.service import get_tenant
    from plugins.smart_service import services as sv
    from plugins.smart_service.models import Category

    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.transaction(tenant.id) as s:
        g01 = (await s.execute(select(GridNode).where(GridNode.code == "sl-ybs-sa-g01"))).scalar_one()
        users = {u.username: u for u in (await s.execute(select(User))).scalars()}
        admin = Actor("user", users["admin"].id, "admin")
        category = (await s.execute(select(Category.code).where(Category.active.is_(True)).limit(1))).scalar_one()
        event = await sv.report_event(
            s, title="楼道灯坏了（浏览器测试）", category_code=category, node_id=g01.id, source="resident", actor=admin
        )
        for action in ("accept", "register"):
            await sv.transition(s, event, action, admin)
        await sv.transition(s, event, "dispatch", admin, assignee_user_id=users["grid_worker"].id)
        return event.id, event.number


async def test_a_grid_workers_day_on_the_phone(app: Any, live_server: LiveServer, new_context: Any) -> None:
    live = live_server
    event_id, number = await dispatched_task(app)
    context = await new_context(**PHONE, permissions=["geolocation"], geolocation=START)
    page = await context.new_page()
    await sign_in(page, live, "shuangluan", "grid_worker")

    # The tab bar: five tabs at the bottom of the phone.
    bar = page.get_by_test_id("tabbar")
    await expect(bar).to_be_visible()
    await expect(bar.locator(".lz-tab-title")).to_have_text(["任务", "上报", "巡查", "居民", "我的"])
    await page.screenshot(path=str(shot_path("field-home")), full_page=False)

    # 任务: the new task waits under 待签收; sign for it, start, report the result with a photo.
    await bar.get_by_text("任务").click()
    await page.wait_for_url(f"**{T}/smart-service/tasks")
    to_sign = page.get_by_test_id("group-to_sign")
    await expect(to_sign).to_contain_text(number)
    await page.screenshot(path=str(shot_path("field-tasks")), full_page=True)
    await to_sign.locator(f"a[href$='/smart-service/tasks/{event_id}']").click()
    await page.get_by_role("button", name="签收").click()
    await page.get_by_role("button", name="开始处置").click()
    feedback = page.get_by_test_id("feedback-form")
    await feedback.locator("input[name=after]").set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg()}
    )
    await feedback.locator("textarea[name=note]").fill("已更换灯泡")
    await feedback.locator("button[type=submit]").click()
    await expect(page.get_by_test_id("state")).to_have_text("已反馈，待核查")
    await bar.get_by_text("任务").click()
    await expect(page.get_by_test_id("group-reported")).to_contain_text(number)

    # 巡查: start, walk three places (the phone's location moves), end; the route is drawn.
    await bar.get_by_text("巡查").click()
    await page.get_by_test_id("patrol-start").click()
    count = page.get_by_test_id("patrol-count")
    await expect(count).to_have_text("1")
    await context.set_geolocation({**START, "longitude": START["longitude"] + 0.0008})
    await expect(count).to_have_text("2")
    await context.set_geolocation({**START, "longitude": START["longitude"] + 0.0008, "latitude": 40.9506})
    await expect(count).to_have_text("3")
    await page.screenshot(path=str(shot_path("field-patrol-live")), full_page=True)
    await page.get_by_test_id("patrol-end").locator("button[type=submit]").click()
    await page.wait_for_url("**/field/patrols/*")
    await expect(page.get_by_test_id("route").locator("polyline")).to_have_count(1)
    await expect(page.get_by_test_id("patrol-points")).to_have_text("3")
    await page.screenshot(path=str(shot_path("field-patrol-route")), full_page=True)

    # 居民: visit the first household of the grid, note what changed.
    await bar.get_by_text("居民").click()
    await page.get_by_test_id("households").get_by_role("button").first.click()
    form = page.get_by_test_id("visit-form")
    await form.locator("textarea[name=notes]").fill("老人身体尚好，孩子已上大学")
    await form.locator("input[name=photos]").set_input_files(
        {"name": "home.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg()}
    )
    await form.get_by_test_id("visit-submit").click()
    await expect(page.get_by_test_id("visit-saved")).to_contain_text("网格员")
    await expect(page.get_by_test_id("visit-photos").locator("img")).to_have_count(1)
    await page.screenshot(path=str(shot_path("field-visit")), full_page=True)

    # 上报 with the network off: the report waits on the phone (待发送 1), and goes when it is back.
    await bar.get_by_text("上报").click()
    report = page.get_by_test_id("report-form")
    await expect(report).to_be_visible()
    await context.set_offline(True)
    await report.locator("select[name=category]").select_option(index=1)
    await report.locator("textarea[name=description]").fill("路边井盖缺失（离线上报）")
    await report.locator("input[name=photos]").set_input_files(
        {"name": "found.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg()}
    )
    await page.get_by_test_id("report-submit").click()
    await expect(page.get_by_test_id("pending-bar")).to_be_visible()
    await expect(page.get_by_test_id("pending-count")).to_have_text("1")
    await page.screenshot(path=str(shot_path("field-offline-queued")), full_page=False)
    # Still offline, 我的 opens from the phone's copy and lists what waits.
    await page.goto(live.url(T + "/field/"))
    await expect(page.get_by_test_id("queue-list")).to_contain_text("巡查上报")
    await expect(page.get_by_test_id("pending-count")).to_have_text("1")
    await page.screenshot(path=str(shot_path("field-offline-me")), full_page=False)
    await context.set_offline(False)
    await expect(page.get_by_test_id("pending-bar")).to_be_hidden()
    await page.screenshot(path=str(shot_path("field-offline-sent")), full_page=False)

    from core.tenancy.service import get_tenant
    from plugins.smart_service.models import Event

    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        sent = await s.scalar(select(func.count(Event.id)).where(Event.description == "路边井盖缺失（离线上报）"))
    assert sent == 1
    # The service worker runs, and no field page scrolls sideways on the phone.
    assert await page.evaluate("navigator.serviceWorker.ready.then((r) => !!r.active)")
    for path in (
        "/field/",
        "/field/log",
        "/field/patrols",
        "/field/households",
        "/field/visits",
        "/smart-service/tasks",
    ):
        await page.goto(live.url(T + path))
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390, path

    # What was typed survives a lost page (the draft is kept on the phone).
    await page.goto(live.url(T + "/field/log"))
    await page.get_by_test_id("log-form").locator("textarea[name=body]").fill("东门路灯不亮，已告知物业")
    await page.reload()
    await expect(page.get_by_test_id("log-form").locator("textarea[name=body]")).to_have_value(
        "东门路灯不亮，已告知物业"
    )
    await page.get_by_test_id("log-submit").click()
    await expect(page.get_by_test_id("log-entries")).to_contain_text("东门路灯不亮")
    await page.goto(live.url(T + "/field/log"))
    await expect(page.get_by_test_id("log-form").locator("textarea[name=body]")).to_have_value("")
    await page.screenshot(path=str(shot_path("field-log")), full_page=True)
