"""A 12345 work order through every level (issue #15) in a real browser: the hotline operator
enters the order (number, deadline, 12345 category) and dispatches it at once to 区城管局; a clerk
of the bureau, on a phone, finds it in the unit's queue, signs for it, handles it and reports the
result with an "after" photo; that reply goes back to 12345 through the work-order adapter (its
log); the community closes the case, the closure goes back too, and the operator's bell shows it.

The district is the smart_service tests' small one with its levels (fixtures/district.py), people
switched to Chinese. Screenshots: tests/artifacts/ssq-<step>-<database>.png. (Pins on the map are
another test's part.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from core.identity.models import User
from core.services.events import delivered
from core.services.jobs.runner import JobRunner
from plugins.smart_service import services as sv
from tests.browser.conftest import LiveServer, shot_path, sign_in
from tests.browser.test_smart_service_browser import PHONE, zh
from tests.plugins.smart_service.fixtures.district import PASSWORD, District, build, with_levels
from tests.plugins.smart_service.fixtures.images import phone_jpeg

pytestmark = pytest.mark.browser

ORDER = "12345-20261207-0815"
DESCRIPTION = "来电人反映双安社区东门外人行道井盖缺失，夜间行人易踩空，请尽快处理。"


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    d.levels = await with_levels(d)  # type: ignore[attr-defined]
    async with d.tx() as s:
        for user in (await s.execute(select(User))).scalars():
            user.locale = "zh_Hans"
    yield d
    await d.close()


async def shot(page: Any, name: str) -> None:
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=shot_path(name), full_page=True)


async def run_jobs(d: District) -> None:
    """What the app's job runner does every second: here once, on the test's own app."""
    await delivered()
    await JobRunner(d.app.state.db, d.app.state.plugins).run_pending()


async def test_a_12345_order_is_handled_by_a_departments_clerk_and_answered_back(
    district: District, live_server: LiveServer, new_context: Any, tmp_path: Path, caplog: Any
) -> None:
    d, live = district, live_server
    caplog.set_level(logging.INFO, logger="liuzhi.smart_service.work_orders")
    after_jpg = tmp_path / "IMG_0815.jpg"
    after_jpg.write_bytes(phone_jpeg(gps=False, orientation=1))

    # 1. The 12345 operator enters the order on a desktop and sends it straight to 区城管局.
    operator = await (await new_context()).new_page()
    await sign_in(operator, live, d.slug, "hotline", PASSWORD)
    await operator.goto(live.url(d.url("/smart-service/intake")))
    form = operator.get_by_test_id("intake-form")
    await form.locator("input[name=external_number]").fill(ORDER)
    await form.locator("input[name=due_at]").fill("2030-12-09T17:00")
    await form.locator("input[name=external_category]").fill("城乡建设/市政设施")
    await form.locator("textarea[name=description]").fill(DESCRIPTION)
    await form.locator("select[name=category]").select_option("SR")
    await form.locator("select[name=node_id]").select_option(str(d.nodes["g01"].id))
    await form.locator("input[name=caller_name]").fill("王女士")
    await form.locator("input[name=caller_phone]").fill("13800001234")
    await form.get_by_test_id("intake-unit").select_option(str(d.levels["cgj"]))  # type: ignore[attr-defined]
    await shot(operator, "ssq-1-intake-form")
    await form.get_by_test_id("intake-submit").click()
    await operator.wait_for_url(re.compile(r"/smart-service/events/\d+$"))
    event_id = int(operator.url.rsplit("/", 1)[1])
    card = operator.get_by_test_id("work-order")
    await expect(card).to_contain_text(ORDER)
    await expect(card).to_contain_text("城乡建设/市政设施")
    await expect(operator.locator("#ss-event-panel strong[data-state=dispatched]")).to_be_visible()
    await expect(operator.locator("#ss-event-panel")).to_contain_text("区城管局")
    await shot(operator, "ssq-2-order-dispatched")

    # 2. A clerk of the bureau, on a phone, finds it in the unit's queue and works it.
    clerk = await (await new_context(**PHONE)).new_page()
    await sign_in(clerk, live, d.slug, "chengguan", PASSWORD)
    await clerk.goto(live.url(d.url("/smart-service/queue")))
    await expect(clerk.get_by_test_id("my-units")).to_contain_text("区城管局")
    queue = clerk.get_by_test_id("queue")
    await expect(queue).to_contain_text(DESCRIPTION[:20])
    await shot(clerk, "ssq-3-clerk-queue")
    await queue.locator(f"a[href$='/smart-service/tasks/{event_id}']").click()
    await clerk.wait_for_url(re.compile(rf"/smart-service/tasks/{event_id}$"))
    for action, state in (("sign", "Signed for"), ("handle", "Being handled")):
        await clerk.locator(f"main form[action$='/{action}'] button[type=submit]").click()
        await clerk.wait_for_load_state()
        await expect(clerk.get_by_test_id("state")).to_have_text(zh(state))
    feedback = clerk.get_by_test_id("feedback-form")
    await feedback.locator("input[name=after]").set_input_files(str(after_jpg))
    await feedback.locator("textarea[name=note]").fill("已补装井盖并设置警示标志")
    await shot(clerk, "ssq-4-clerk-feedback")
    await feedback.locator("button[type=submit]").click()
    await clerk.wait_for_load_state()
    await expect(clerk.get_by_test_id("task-error")).to_have_count(0)
    await expect(clerk.get_by_test_id("state")).to_have_text(zh("Handled, awaiting inspection"))
    width = await clerk.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the task page is {width}px wide on a 390px phone"

    # 3. The reply goes back to 12345 through the adapter.
    await run_jobs(d)
    assert f"[hotline_12345] reply {ORDER}" in caplog.text and "已补装井盖并设置警示标志" in caplog.text

    # 4. The community inspects and closes; the closure goes back, and the operator is told.
    async with d.tx() as s:
        for action in ("inspect", "pass", "close"):
            await sv.transition(s, event_id, action, d.users["community"], app_state=d.app.state)
    await run_jobs(d)
    assert f"[hotline_12345] close {ORDER}" in caplog.text
    await operator.goto(live.url(d.url(f"/smart-service/events/{event_id}")))
    messages = operator.get_by_test_id("order-messages")
    await expect(messages.locator("li[data-kind=reply][data-status=sent]")).to_have_count(1)
    await expect(messages.locator("li[data-kind=close][data-status=sent]")).to_have_count(1)
    bell = operator.locator("#lz-unread")
    await expect(bell).to_be_visible()
    await expect(bell).to_have_text("1")
    await shot(operator, "ssq-5-closed-replied")
    await operator.locator("a.lz-bell").click()
    number = (await d.event(event_id)).number
    await expect(operator.locator("main")).to_contain_text(f"您上报的事件 {number} 已办结")
    await shot(operator, "ssq-6-bell-closure")
