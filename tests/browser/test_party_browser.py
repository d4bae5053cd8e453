"""党建领治's 双报到 in a real browser: an in-service member reports in to 双安社区 on a phone and
claims a post, signs up for the community's activity and shows the check-in code; the community
secretary scans it on the attendance list, records the served time, and the hours appear on the
member's 服务记录卡; the secretary scores the year and downloads the 评议 export with the member in it.

The district is the party_leadership tests' small one (tests/party_leadership/conftest.py), in
Chinese. Screenshots go to tests/artifacts/pl-<step>-<database>.png.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from plugins.party_leadership import members
from plugins.party_leadership.settings import settings_of
from tests.browser.conftest import LiveServer, shot_path, sign_in
from tests.party_leadership.conftest import PASSWORD, District, build

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant, locale="zh_Hans")
    yield d
    for c in d.clients:
        await c.aclose()


async def shot(page: Any, name: str) -> None:
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=shot_path(name), full_page=True)


async def test_a_member_reports_in_on_a_phone_serves_and_shows_up_in_the_review_export(
    district: District, live_server: LiveServer, new_context: Any, tmp_path: Path
) -> None:
    d, live = district, live_server
    categories = settings_of({}).categories()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    async with d.tx("secretary") as s:
        node = await members.community(s, d.nodes["sa"].id)
        from datetime import date

        unit = await members.register_unit(s, node, name="国网双滦供电公司", on=date(start.year, 1, 5))
        await members.create_post(
            s, node, category="法律咨询与援助", title="法律咨询岗", categories=categories, capacity=3
        )
        act = await members.publish_activity(
            s,
            node,
            title="普法宣传进社区",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            category="法律咨询与援助",
            categories=categories,
            place="双安社区党群服务中心",
        )

    # 1. The member reports in on a phone and claims a post.
    phone = await (await new_context(**PHONE)).new_page()
    await sign_in(phone, live, d.slug, "m1", PASSWORD)
    await phone.goto(live.url(d.url("/party/me")))
    form = phone.get_by_test_id("report-form")
    await form.locator("select[name=node_id]").select_option(str(d.nodes["sa"].id))
    await form.locator("select[name=unit_id]").select_option(str(unit.id))
    await form.locator("input[name=branch]").fill("供电公司第一党支部")
    await shot(phone, "pl-1-report-in")
    await phone.get_by_test_id("report-in").click()
    await expect(phone.get_by_test_id("reported")).to_contain_text("双安社区")
    await phone.get_by_test_id("claim-post").first.click()
    await expect(phone.get_by_test_id("my-posts")).to_contain_text("法律咨询岗")

    # 2. … signs up for the activity and opens the check-in code.
    await phone.get_by_test_id("sign-up").first.click()
    await phone.get_by_test_id("my-code").click()
    token = (await phone.get_by_test_id("token").inner_text()).strip()
    assert token
    await shot(phone, "pl-2-check-in-code")

    # 3. The secretary scans it on the attendance list and records the served time.
    desk = await (await new_context()).new_page()
    await sign_in(desk, live, d.slug, "secretary", PASSWORD)
    await desk.goto(live.url(d.url(f"/party/activities/{act.id}")))
    await desk.locator("input[name=token]").fill(token)
    await desk.get_by_test_id("scan").click()
    row = desk.get_by_test_id("attendee").filter(has_text="张党员")
    await expect(row.get_by_test_id("check-out")).to_be_visible()  # checked in: check-out is offered
    await row.get_by_test_id("set-hours").fill("2.5")
    await row.locator("input[name=reason]").fill("按纸质签到表")
    await row.get_by_test_id("save-hours").click()
    await expect(desk.get_by_test_id("attendee").filter(has_text="张党员")).to_contain_text("2.5")
    await shot(desk, "pl-3-attendance")

    # 4. The hours are on the member's service record card.
    await phone.goto(live.url(d.url("/party/me")))
    await expect(phone.get_by_test_id("card-hours")).to_contain_text("2.5")
    await expect(phone.get_by_test_id("service-card")).to_contain_text("普法宣传进社区")
    await shot(phone, "pl-4-service-card")

    # 5. The secretary scores the year and downloads the export for the employers.
    await desk.goto(live.url(d.url("/party/review")))
    await desk.get_by_test_id("run-review").click()
    await expect(desk.get_by_test_id("review")).to_contain_text("张党员")
    await shot(desk, "pl-5-review")
    async with desk.expect_download() as info:
        await desk.get_by_test_id("export").click()
    download = await info.value
    path = tmp_path / "review.xlsx"
    await download.save_as(path)
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1], r[3]) for r in rows] == [("张党员", "国网双滦供电公司", 2.5)]
