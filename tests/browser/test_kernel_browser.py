"""The kernel as a user sees it in a real browser: sign-in, navigation per tenant, language switch,
the phone menu, one session per tenant, and the expired-form page. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from core import i18n
from core.config import Settings
from tests.browser.conftest import LiveServer, shot_path, sign_in

pytestmark = pytest.mark.browser

PILLARS_ZH = ["党建领治", "居民自治", "服务智治", "社会共治", "平安法治", "文化德治"]
LUANPING_PILLARS = ["服务智治", "平安法治"]
CORE_DASHBOARD_ZH = "工作台"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def in_chinese(message: str) -> str:
    """What the page shows for an English source string in zh_Hans (the source itself until translated)."""
    trans = i18n.CATALOGUES.get("zh_Hans")
    return trans.gettext(message) if trans is not None else message


@pytest.fixture
async def keep_admin_locale(migrated: Settings) -> AsyncIterator[None]:
    """Switching language is saved on the account: put shuangluan's admin back as it was, whatever happens."""
    from sqlalchemy import select

    from core.db.engine import Database
    from core.identity.models import User
    from core.tenancy.service import get_tenant

    db = Database(migrated.database_url)
    tenant = await get_tenant(db, "shuangluan")
    async with db.session(tenant.id) as s:
        before = (await s.execute(select(User.locale).where(User.username == "admin"))).scalar_one()
    try:
        yield
    finally:
        async with db.transaction(tenant.id) as s:
            user = (await s.execute(select(User).where(User.username == "admin"))).scalar_one()
            user.locale = before
        await db.dispose()


async def nav_titles(page: Any) -> list[str]:
    texts = await page.locator("#lz-nav a").all_inner_texts()
    # Each link is "<icon> <title>"; the icon is one symbol.
    return [t.strip().split(" ", 1)[-1].strip() for t in texts]


async def menu_layout(page: Any) -> dict[str, bool]:
    """Where the menu sits: links one under another, inside the menu, and (on a wide screen) beside <main>."""
    return await page.evaluate(
        """() => {
            const nav = document.getElementById('lz-nav').getBoundingClientRect();
            const main = document.getElementById('lz-main').getBoundingClientRect();
            const links = [...document.querySelectorAll('#lz-nav a')].map((a) => a.getBoundingClientRect());
            return {
                stacked: links.every((r, i) => i === 0 || r.top >= links[i - 1].bottom - 1),
                inside: links.every((r) => r.left >= nav.left - 1 && r.right <= nav.right + 1),
                beside_main: nav.right <= main.left + 1,
            };
        }"""
    )


async def test_an_admin_signs_in_sees_six_pillars_and_switches_language(
    live_server: LiveServer, new_context: Any, keep_admin_locale: None
) -> None:
    page = await (await new_context()).new_page()
    await page.goto(live_server.url("/t/shuangluan/"))
    await page.wait_for_url("**/t/shuangluan/login?next=/t/shuangluan/")
    await expect(page.locator("input[name=username]")).to_be_visible()

    await sign_in(page, live_server, "shuangluan", "admin")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(page.locator("[data-testid=widgets] .lz-card")).to_have_count(6)  # one widget per pillar
    nav = page.locator("#lz-nav")
    await expect(nav).to_be_visible()
    for title in PILLARS_ZH:
        await expect(nav.get_by_role("link", name=title)).to_be_visible()
    assert [t for t in await nav_titles(page) if t in PILLARS_ZH] == PILLARS_ZH  # in pillar order
    assert await menu_layout(page) == {"stacked": True, "inside": True, "beside_main": True}
    # Pico CSS was served from node_modules and applied (its custom properties are defined).
    assert await page.evaluate("getComputedStyle(document.body).getPropertyValue('--pico-font-family').length > 0")
    await page.screenshot(path=shot_path("kernel-dashboard-zh"), full_page=True)

    await page.get_by_test_id("switch-locale").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("main h1")).to_have_text("Dashboard")
    await expect(nav.get_by_role("link", name="Smart service")).to_be_visible()
    await expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    await expect(nav.get_by_role("link", name="服务智治")).to_have_count(0)
    await page.screenshot(path=shot_path("kernel-dashboard-en"), full_page=True)

    await nav.get_by_role("link", name="Smart service").click()
    await page.wait_for_url(live_server.url("/t/shuangluan/smart-service/"))
    await expect(page.locator("main h1")).to_have_text("Events")  # the pillar opens on its inbox
    await expect(nav.get_by_role("link", name="Smart service")).to_have_attribute("aria-current", "page")
    # The inbox's map loads after the page (Leaflet and its layers): let it settle before switching.
    await expect(page.locator("[data-ss-map][data-ready]")).to_have_count(1)

    await page.get_by_test_id("switch-locale").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    # Switching language stays on the page (the layout's "next" currently drops the trailing slash).
    assert page.url.rstrip("/") == live_server.url("/t/shuangluan/smart-service")
    await expect(page.locator("main h1")).to_have_text(in_chinese("Events"))
    await expect(nav.get_by_role("link", name="服务智治")).to_be_visible()
    await expect(nav.get_by_role("link", name="Smart service")).to_have_count(0)


async def test_a_second_district_shows_only_its_own_pillars(live_server: LiveServer, new_context: Any) -> None:
    page = await (await new_context()).new_page()
    await sign_in(page, live_server, "luanping", "admin")
    await expect(page.locator("[data-testid=widgets] .lz-card")).to_have_count(len(LUANPING_PILLARS))
    titles = await nav_titles(page)
    assert [t for t in titles if t in PILLARS_ZH] == LUANPING_PILLARS

    response = await page.goto(live_server.url("/t/luanping/party/"))
    assert response is not None and response.status == 404
    await expect(page.locator("main h1")).to_have_text(in_chinese("Page not found"))
    await expect(page.locator("main")).not_to_contain_text("党建领治")
    await page.screenshot(path=shot_path("kernel-luanping-404"), full_page=True)


async def test_on_a_phone_the_menu_opens_from_the_burger_and_nothing_scrolls_sideways(
    live_server: LiveServer, new_context: Any
) -> None:
    page = await (await new_context(**PHONE)).new_page()
    await sign_in(page, live_server, "shuangluan", "grid_worker")
    burger = page.locator("button.lz-burger")
    nav = page.locator("#lz-nav")
    await expect(burger).to_be_visible()
    await expect(nav).to_be_hidden()
    await page.screenshot(path=shot_path("kernel-phone-dashboard"), full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    await burger.tap()
    await expect(nav).to_be_visible()
    await expect(burger).to_have_attribute("aria-expanded", "true")
    await expect(nav.get_by_role("link", name="服务智治")).to_be_visible()
    await expect(nav.get_by_role("link", name=CORE_DASHBOARD_ZH)).to_be_visible()
    layout = await menu_layout(page)
    assert layout["stacked"] and layout["inside"], layout
    await page.screenshot(path=shot_path("kernel-phone-menu"), full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    await burger.tap()
    await expect(nav).to_be_hidden()


async def test_a_session_belongs_to_one_district(live_server: LiveServer, new_context: Any) -> None:
    page = await (await new_context()).new_page()
    await sign_in(page, live_server, "shuangluan", "admin")
    await expect(page.locator("[data-testid=widgets] .lz-card")).to_have_count(6)  # one widget per pillar

    await page.goto(live_server.url("/t/luanping/"))
    await page.wait_for_url("**/t/luanping/login?next=/t/luanping/")
    await expect(page.locator("input[name=username]")).to_be_visible()
    await expect(page.locator("#lz-nav")).to_have_count(0)
    await expect(page.locator(".lz-user")).to_have_count(0)


async def test_a_form_without_its_token_gets_the_expired_form_page_and_keeps_the_user_signed_in(
    live_server: LiveServer, new_context: Any
) -> None:
    page = await (await new_context()).new_page()
    await sign_in(page, live_server, "shuangluan", "admin")

    async with page.expect_navigation() as nav_info:
        await page.evaluate(
            """() => {
                const form = document.querySelector('form[action$="/logout"]');
                form.querySelector('input[name="_csrf_token"]').remove();
                form.submit();
            }"""
        )
    response = await nav_info.value
    assert response is not None and response.status == 403
    await expect(page.locator("main [role=alert]")).to_have_text(
        in_chinese("Your form has expired. Reload the page and try again.")
    )
    await page.screenshot(path=shot_path("kernel-csrf-expired"), full_page=True)

    # Not signed out: the start page still opens as the admin.
    await page.goto(live_server.url("/t/shuangluan/"))
    assert page.url == live_server.url("/t/shuangluan/")
    await expect(page.locator("[data-testid=widgets] .lz-card")).to_have_count(6)  # one widget per pillar
