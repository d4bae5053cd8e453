"""Security as a user meets it in a real browser: a district admin turns on two-step sign-in by
scanning a QR code, signs out and signs in again with a code from the app — and no page along the
way trips the Content-Security-Policy (no inline script or style is blocked)."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from playwright.async_api import expect

from tests.browser.conftest import LiveServer, shot_path
from tests.core.accounts import accounts_at_root

pytestmark = pytest.mark.browser
PASSWORD = "admin-pass-123"


@pytest.fixture
async def chief(app: Any, fresh_tenant: Any) -> str:
    await accounts_at_root(app, fresh_tenant, {"chief": "district_admin"}, PASSWORD)
    return fresh_tenant.slug


async def password_step(page: Any, live: LiveServer, slug: str) -> None:
    await page.goto(live.url(f"/t/{slug}/login"))
    await page.locator("input[name=username]").fill("chief")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("main form button[type=submit]").click()


async def test_an_admin_enrols_a_phone_and_signs_in_with_a_code(
    live_server: LiveServer, new_context: Any, chief: str
) -> None:
    context = await new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    await password_step(page, live_server, chief)
    await page.wait_for_url(live_server.url(f"/t/{chief}/"))
    await page.goto(live_server.url(f"/t/{chief}/account/"))
    await page.get_by_test_id("manage-2fa").click()
    qr = page.get_by_test_id("totp-qr")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG QR rendered
    await page.locator("main details summary").click()
    secret = (await page.get_by_test_id("totp-secret").inner_text()).strip()
    await page.screenshot(path=shot_path("security-2fa-enrol"), full_page=True)
    await page.get_by_test_id("totp-code").fill(pyotp.TOTP(secret).now())
    await page.locator("main form button[type=submit]").click()
    await expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    await page.screenshot(path=shot_path("security-2fa-codes"), full_page=True)

    await context.clear_cookies()
    await password_step(page, live_server, chief)
    await page.wait_for_url(live_server.url(f"/t/{chief}/login/code"))
    # The next time step's code: the one used to enrol is spent.
    await page.get_by_test_id("totp-code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    await page.screenshot(path=shot_path("security-2fa-code"), full_page=True)
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_url(live_server.url(f"/t/{chief}/"))
    await expect(page.locator("main h1")).to_be_visible()
    assert blocked == []


async def test_the_pages_staff_use_run_under_the_policy(live_server: LiveServer, new_context: Any) -> None:
    """The grid map (colours set by script), the tree editor, the dispatch board (htmx, SSE) and
    the indicators (charts) work with no inline code, and the browser reports no CSP violation."""
    from tests.browser.conftest import sign_in

    page = await (await new_context()).new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    await sign_in(page, live_server, "shuangluan", "admin")
    for path in ("/grid/", "/admin/", "/residents/", "/smart-service/board", "/smart-service/indicators"):
        response = await page.goto(live_server.url("/t/shuangluan" + path))
        assert response is not None and response.status == 200, path
        assert "frame-ancestors 'none'" in (await response.all_headers())["content-security-policy"]
    await expect(page.locator("canvas").first).to_be_visible()  # Chart.js drew under the policy
    assert blocked == []
