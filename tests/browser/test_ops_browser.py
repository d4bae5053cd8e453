"""The operator on a phone: from the district list to a district's usage, and its limits set."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from core.tenancy.models import Tenant
from core.tenancy.service import get_tenant
from tests.browser.conftest import LiveServer, shot_path
from tests.conftest import DEMO_PASSWORD

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_an_operator_opens_a_districts_usage_and_sets_its_limits_on_a_phone(
    app: Any, live_server: LiveServer, new_context: Any
) -> None:
    page = await (await new_context(**PHONE)).new_page()
    await page.goto(live_server.url("/platform/login"))
    await page.fill("input[name=username]", "operator")
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.locator("form:has(input[name=password]) button[type=submit]").click()
    await page.wait_for_url(live_server.url("/platform/"))
    row = page.locator("tr[data-slug=luanping]")
    await row.get_by_role("button", name="用量与限额").click()
    await expect(page.locator("h1")).to_contain_text("滦平县")
    usage = page.locator("#usage")
    for label in ("账号", "实有人口", "今日请求数", "后台任务", "上报事件"):
        await expect(usage).to_contain_text(label)
    await expect(usage.locator("svg rect")).to_have_count(14)  # requests per day, two weeks
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.fill("#f-api_per_minute", "90")
    await page.fill("#f-upload_mb", "abc")
    await page.get_by_role("button", name="保存限额").click()
    await expect(page.locator("#e-upload_mb")).to_contain_text("整数")  # refused on the form
    await page.fill("#f-upload_mb", "")
    await page.get_by_role("button", name="保存限额").click()
    await expect(page.get_by_role("status")).to_contain_text("限额已保存")
    await expect(page.locator("#f-api_per_minute")).to_have_value("90")
    await page.screenshot(path=shot_path("ops-phone-usage"), full_page=True)
    tenant = await get_tenant(app.state.db, "luanping")
    try:
        assert tenant.limits == {"api_per_minute": 90}
    finally:
        async with app.state.db.transaction(None) as s:
            (await s.get(Tenant, tenant.id)).limits = {}
        app.state.tenant_cache.clear()
