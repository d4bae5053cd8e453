"""社会共治 on a phone, in a real browser: the demo volunteer signs up for an activity, shows the QR
check-in code, the organiser scans it in and (hours later) out, the volunteer sees the hours, star
level and points grow, redeems an item at the 雷锋超市 and downloads the certificate of service.

Runs on the demo district 双滦区 (its demo volunteer has 96 hours). The passing of the activity's
hours is simulated by moving the check-in time back. Screenshots: tests/artifacts/cg-<step>-<db>.png.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core.grids.models import GridNode
from core.services.activities import ActivitySignup
from core.tenancy.models import Tenant
from plugins.co_governance import volunteers
from plugins.co_governance.models import StoreItem, Volunteer
from plugins.co_governance.numbers import LOCAL
from tests.browser.conftest import LiveServer, shot_path, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
T = "/t/shuangluan"


async def _setup(app: Any) -> tuple[Any, int, int]:
    async with app.state.db.session(None) as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "shuangluan"))
    async with app.state.db.transaction(tenant.id) as s:
        community = await s.scalar(select(GridNode).where(GridNode.code == "sl-ybs-sa"))
        start = datetime.now(LOCAL).replace(second=0, microsecond=0) + timedelta(minutes=30)
        act = await volunteers.publish_activity(
            s,
            title="双安社区滦河岸边捡拾垃圾（浏览器）",
            node=community,
            starts_at=start,
            ends_at=start + timedelta(hours=5),
            category="环境保护",
            organiser="双安社区居委会",
            capacity=20,
            place="滦河大桥东侧",
        )
        item = StoreItem(name="环保布袋（浏览器）", price=2, stock=5, node_id=community.id, node_path=community.path)
        s.add(item)
        await s.flush()
        return tenant, act.id, item.id


def _number(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text) or "0")


async def test_a_volunteer_on_a_phone_serves_earns_redeems_and_gets_a_certificate(
    app: Any, live_server: LiveServer, new_context: Any
) -> None:
    tenant, activity_id, item_id = await _setup(app)
    phone = await (await new_context(**PHONE)).new_page()
    await sign_in(phone, live_server, "shuangluan", "volunteer")
    await phone.goto(live_server.url(f"{T}/co-governance/me/"))
    hours_before = _number(await phone.get_by_test_id("hours").inner_text())
    points_before = _number(await phone.get_by_test_id("points").inner_text())
    card = phone.get_by_test_id("activity").filter(has_text="滦河岸边捡拾垃圾（浏览器）")
    await card.get_by_test_id("sign-up").click()
    await phone.get_by_test_id("notice").wait_for()
    await phone.screenshot(path=shot_path("cg-1-signed-up"), full_page=True)

    # the volunteer shows the code; the organiser scans it in
    await (
        phone.get_by_test_id("activity")
        .filter(has_text="滦河岸边捡拾垃圾（浏览器）")
        .get_by_test_id("show-code")
        .click()
    )
    await phone.get_by_test_id("qr").wait_for()
    await phone.screenshot(path=shot_path("cg-2-check-in-code"), full_page=True)
    await phone.locator("main summary").click()
    token = await phone.get_by_test_id("token").inner_text()
    organiser = await (await new_context(**PHONE)).new_page()
    await sign_in(organiser, live_server, "shuangluan", "community_worker")
    await organiser.goto(live_server.url(f"{T}/co-governance/activities/{activity_id}"))
    await organiser.locator("input[name=token]").fill(token)
    await organiser.get_by_test_id("scan-form").locator("button").click()
    assert "已签到" in await organiser.get_by_test_id("notice").inner_text()

    # four hours later (moved back in the database), the volunteer shows a fresh code to check out
    async with app.state.db.transaction(tenant.id) as s:
        act_start = datetime.now(LOCAL) - timedelta(hours=4, minutes=30)
        from core.services.activities import Activity

        await s.execute(update(Activity).where(Activity.id == activity_id).values(starts_at=act_start))
        await s.execute(
            update(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id)
            .values(checked_in_at=datetime.now(LOCAL) - timedelta(hours=4))
        )
    await phone.reload()
    await phone.locator("main summary").click()
    token = await phone.get_by_test_id("token").inner_text()
    await organiser.locator("input[name=token]").fill(token)
    await organiser.get_by_test_id("scan-form").locator("button").click()
    assert "已签退" in await organiser.get_by_test_id("notice").inner_text()
    await organiser.screenshot(path=shot_path("cg-3-organiser-sheet"), full_page=True)

    # hours, star level and points on the volunteer's page
    await phone.goto(live_server.url(f"{T}/co-governance/me/"))
    hours_after = _number(await phone.get_by_test_id("hours").inner_text())
    points_after = _number(await phone.get_by_test_id("points").inner_text())
    assert hours_after - hours_before == Decimal("4.00")
    assert points_after - points_before == Decimal("4.00")  # 环境保护: 1 point an hour
    if hours_after >= 100:
        assert (
            "一星" in await phone.get_by_test_id("star").inner_text()
            or "星" in await phone.get_by_test_id("star").inner_text()
        )
    await phone.screenshot(path=shot_path("cg-4-hours-and-points"), full_page=True)

    # 雷锋超市: redeem the bag
    await phone.get_by_test_id("to-store").click()
    bag = phone.get_by_test_id("item").filter(has_text="环保布袋（浏览器）")
    await bag.get_by_test_id("redeem").click()
    notice = await phone.get_by_test_id("notice").inner_text()
    assert "环保布袋（浏览器）" in notice and "LF-" in notice
    assert _number(await phone.get_by_test_id("balance").inner_text()) == points_after - 2
    await phone.screenshot(path=shot_path("cg-5-redeemed"), full_page=True)
    async with app.state.db.session(tenant.id) as s:
        assert await s.scalar(select(StoreItem.stock).where(StoreItem.id == item_id)) == 4

    # the certificate of service
    await phone.goto(live_server.url(f"{T}/co-governance/me/"))
    async with phone.expect_download() as download_info:
        await phone.get_by_test_id("certificate").click()
    download = await download_info.value
    pdf = await download.path()
    assert pdf is not None and Path(pdf).read_bytes()[:5] == b"%PDF-"
    async with app.state.db.session(tenant.id) as s:
        v = await s.scalar(select(Volunteer).where(Volunteer.name == "志愿者（演示）"))
        assert v.number in download.suggested_filename

    # the organiser's overview: headline figures, the star-level chart and hours by community
    await organiser.goto(live_server.url(f"{T}/co-governance/"))
    await organiser.get_by_test_id("headline").wait_for()
    await organiser.locator("#cg-stars-chart").wait_for()
    assert await organiser.get_by_test_id("hours-overview").locator("tbody tr").count() >= 1
    await organiser.screenshot(path=shot_path("cg-6-overview"), full_page=True)
