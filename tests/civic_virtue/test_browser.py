"""评选 in a real browser, on phones: a resident nominates a neighbour, the neighbour consents on
their own page, the community secretary shortlists and publishes the shortlist, the resident votes,
the secretary announces the winner, who appears in the role-model gallery — then withdraws consent
and is gone from it at once. Between steps the campaign's clock is moved (``Town.shift``), as
weeks would pass. Screenshots: tests/artifacts/cv-<step>-<database>.png.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from core.identity.models import User
from plugins.civic_virtue import campaigns
from plugins.civic_virtue.stages import Stage
from tests.browser import conftest as browser_harness
from tests.browser.conftest import LiveServer, shot_path, sign_in
from tests.civic_virtue.conftest import PASSWORD, Town, build

pytestmark = pytest.mark.browser
# The browser harness's fixtures (its conftest applies to tests/browser/ only).
browser = browser_harness.browser
live_server = browser_harness.live_server
new_context = browser_harness.new_context

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
STORY = "邻居老白十年如一日照顾楼里的独居老人，每天上门送饭、陪老人聊天，风雨无阻。"


@pytest.fixture
async def town(app: Any, fresh_tenant: Any) -> AsyncIterator[Town]:
    t = await build(app, fresh_tenant)
    async with t.tx() as s:
        for user in (await s.execute(select(User))).scalars():
            user.locale = "zh_Hans"
    yield t
    await t.close()


async def shot(page: Any, name: str) -> None:
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=shot_path(f"cv-{name}"), full_page=True)


async def phone(new_context: Any, live: LiveServer, town: Town, key: str) -> Any:
    context = await new_context(**PHONE)
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations (data-confirm)
    await sign_in(page, live, town.slug, await town.username(key), PASSWORD)
    return page


async def test_nominate_consent_shortlist_vote_gallery_withdraw(
    town: Town, live_server: LiveServer, new_context: Any
) -> None:
    live = live_server
    campaign = await town.campaign(Stage.NOMINATION, title="2026年“身边的榜样”评选")
    async with town.session() as s:
        first_category = (await campaigns.categories(s, campaign.id))[0]

    # 1. A resident nominates her neighbour on her phone.
    ann = await phone(new_context, live, town, "ann")
    await ann.goto(live.url(town.url("/civic-virtue/take-part/")))
    await ann.get_by_test_id("nominate").first.click()
    await ann.locator("select[name=category_id]").select_option(str(first_category.id))
    await ann.locator("input[name=nominee_name]").fill("邻居老白")
    await ann.locator("input[name=nominee_phone]").fill("13900000002")
    await ann.locator("select[name=node_id]").select_option(str(town.nodes["g1"].id))
    await ann.locator("input[name=headline]").fill("十年照顾独居老人")
    await ann.locator("textarea[name=story]").fill(STORY)
    await shot(ann, "1-nominate")
    await ann.get_by_test_id("submit-nomination").click()
    await expect(ann.get_by_test_id("by-me")).to_contain_text("邻居老白")

    # Before his consent nothing about him is public.
    anonymous = await (await new_context(**PHONE)).new_page()
    await anonymous.goto(live.url(town.url(f"/civic-virtue/campaigns/{campaign.id}/vote")))
    await expect(anonymous.locator("main")).not_to_contain_text("邻居老白")

    # 2. The neighbour agrees on his own phone.
    bob = await phone(new_context, live, town, "bob")
    await bob.goto(live.url(town.url("/civic-virtue/take-part/")))
    await expect(bob.get_by_test_id("about-me")).to_contain_text("十年照顾独居老人")
    await shot(bob, "2-asked-for-consent")
    await bob.get_by_test_id("give-consent").click()
    await expect(bob.get_by_test_id("my-consent")).to_have_text("已同意")

    # 3. Review: the community secretary shortlists him and publishes the shortlist (公示).
    await town.shift(campaign.id, Stage.REVIEW)
    staff = await phone(new_context, live, town, "organiser")
    await staff.goto(live.url(town.url(f"/civic-virtue/campaigns/{campaign.id}")))
    await staff.locator("[data-testid^=shortlist-]").first.click()
    await expect(staff.get_by_test_id("status").first).to_have_text("已入围")
    await staff.get_by_test_id("publish-shortlist").click()
    await expect(staff.get_by_test_id("stage")).to_have_text("评审")
    await expect(staff.locator("main")).to_contain_text("入围名单公示")
    await shot(staff, "3-shortlist-published")

    # 4. The vote opens; the resident votes on her phone.
    await town.shift(campaign.id, Stage.VOTING)
    await ann.goto(live.url(town.url(f"/civic-virtue/campaigns/{campaign.id}/vote")))
    await expect(ann.get_by_test_id("candidate")).to_contain_text("邻居老白")
    await ann.get_by_test_id("candidate").first.locator("input[name=nomination_id]").check()
    await ann.get_by_test_id("cast-1").click()
    await expect(ann.get_by_test_id("voted")).to_be_visible()
    await shot(ann, "4-voted")

    # 5. The vote closes; the secretary announces the winner; the gallery shows him.
    await town.shift(campaign.id, Stage.COUNTING)
    await staff.goto(live.url(town.url(f"/civic-virtue/campaigns/{campaign.id}")))
    await staff.get_by_test_id("award").click()
    await expect(staff.get_by_test_id("stage")).to_have_text("已表彰")
    await anonymous.goto(live.url(town.url("/civic-virtue/gallery/")))
    await expect(anonymous.get_by_test_id("role-model")).to_contain_text("邻居老白")
    await shot(anonymous, "5-gallery")

    # 6. He withdraws his consent: gone from the gallery and his page at once.
    await bob.goto(live.url(town.url("/civic-virtue/take-part/")))
    await bob.get_by_test_id("withdraw-consent").click()
    await expect(bob.get_by_test_id("my-consent")).to_have_text("未同意")
    await anonymous.goto(live.url(town.url("/civic-virtue/gallery/")))
    await expect(anonymous.get_by_test_id("role-model")).to_have_count(0)
    await shot(anonymous, "6-gone")
    async with town.session() as s:
        from plugins.civic_virtue.models import Nomination

        nid = (await s.execute(select(Nomination.id))).scalar_one()
    response = await anonymous.goto(live.url(town.url(f"/civic-virtue/gallery/{nid}")))
    assert response is not None and response.status == 404


async def test_the_themed_places_map_draws_the_grid_and_the_places_offline(
    town: Town, live_server: LiveServer, new_context: Any
) -> None:
    from plugins.civic_virtue import places

    async with town.tx("organiser") as s:
        await places.add(
            s, places.PlaceInput("stairwell", "孝老爱亲主题楼道", town.nodes["g1"], "孝老爱亲", lon=117.70, lat=40.95)
        )
        await places.add(
            s, places.PlaceInput("park", "睦邻文化主题公园", town.nodes["c1"], "邻里和睦", lon=117.71, lat=40.96)
        )
    context = await new_context(**PHONE)
    page = await context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.base) else None)
    await page.goto(live_server.url(town.url("/civic-virtue/places/")))
    await expect(page.get_by_test_id("place-marker")).to_have_count(2)
    await shot(page, "7-places-map")
    assert outside == []  # no tiles, no CDN: the map works without outside network
