"""Every role's home in a real browser: screenshots at 390 × 844 and 1366 × 900, and on a phone no
page a phone role reaches from its home scrolls sideways (wide tables become cards or scroll
inside their own box). Screenshots go to tests/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer, shot_path, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
ROLES = ("admin", "subdistrict_officer", "community", "community_worker", "grid_worker", "resident", "volunteer")
PHONE_ROLES = ("grid_worker", "resident", "community_worker", "volunteer")
PAGES_PER_ROLE = 25

# Same-tenant page links of the current page (no files, exports, streams, sign-out).
LINKS = """(home) => [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href)
  .filter(h => h.startsWith(location.origin + home))
  .map(h => h.split('#')[0])
  .filter(h => !/\\.(xlsx|csv|pdf|png|jpg|svg)$|\\/stream$|\\/files\\//.test(h))
  .filter(h => !/\\/logout|\\/export|\\/live$|\\/code$/.test(h)))]"""
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.mark.parametrize("who", ROLES)
async def test_every_roles_home_on_a_phone_and_a_desktop(live_server: LiveServer, new_context: Any, who: str) -> None:
    for name, options in (("phone", PHONE), ("desktop", DESKTOP)):
        context = await new_context(**options)
        page = await context.new_page()
        await sign_in(page, live_server, "shuangluan", who)
        await page.screenshot(path=str(shot_path(f"home-{who}-{name}")), full_page=False)
        wide, inner = await page.evaluate(WIDTH)
        assert wide <= inner + 1, f"{who}'s home scrolls sideways on a {name}: {wide} > {inner}"


@pytest.mark.parametrize("who", PHONE_ROLES)
async def test_no_page_a_phone_role_reaches_scrolls_sideways(
    live_server: LiveServer, new_context: Any, who: str
) -> None:
    context = await new_context(**PHONE)
    page = await context.new_page()
    await sign_in(page, live_server, "shuangluan", who)
    home = "/t/shuangluan/"
    queue, seen, wide = [live_server.url(home)], {live_server.url(home)}, {}
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.pop(0)
        response = await page.goto(url)
        visited += 1
        if response is None or response.status != 200:
            continue
        scroll, inner = await page.evaluate(WIDTH)
        if scroll > inner + 1:
            wide[url.removeprefix(live_server.base)] = scroll
        for link in await page.evaluate(LINKS, home):
            path = link.split("?")[0]
            if path not in seen:
                seen.add(path)
                queue.append(link)
    assert visited >= 5
    assert wide == {}, f"pages wider than the phone for {who} (scrollWidth)"
