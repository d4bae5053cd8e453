"""服务智治's closed loop in a real browser: a resident on a phone reports a problem with a photo, the
community secretary's live board counts it without a reload, the secretary accepts, registers and
dispatches it to the grid worker, who signs for it, handles it and reports the result with an
"after" photo on a phone; the secretary inspects and closes it while the board empties again, and
the resident reads "closed" on the timeline and rates the result.

The district is the smart_service tests' small one (tests/plugins/smart_service/fixtures), its
people switched to Chinese, the language the pages are made for. Screenshots go to
tests/artifacts/ss-<step>-<database>.png.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from core import i18n
from core.identity.models import User
from tests.browser.conftest import LiveServer, shot_path, sign_in
from tests.plugins.smart_service.fixtures.district import PASSWORD, District, build
from tests.plugins.smart_service.fixtures.images import phone_jpeg

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESCRIPTION = "小区东门垃圾堆了三天没人清运"
BOARD_TIMEOUT_MS = 10_000
# Set on the board page once; a reload would lose it.
MARK_BOARD = "() => { window.__boardNotReloaded = true; }"
BOARD_NOT_RELOADED = "() => window.__boardNotReloaded === true"
# htmx-sse fires htmx:sseOpen on the element that holds sse-connect; remember when the board's stream is open.
WATCH_BOARD_STREAM = """
document.addEventListener("htmx:sseOpen", (e) => {
  if (e.target && e.target.classList && e.target.classList.contains("ss-board")) window.__boardStreamOpen = true;
});
"""


def zh(message: str) -> str:
    """What a zh_Hans page shows for an English source string."""
    trans = i18n.CATALOGUES.get("zh_Hans")
    return trans.gettext(message) if trans is not None else message


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    async with d.tx() as s:
        for user in (await s.execute(select(User))).scalars():
            user.locale = "zh_Hans"
    yield d
    await d.close()


async def shot(page: Any, name: str) -> None:
    """A full-page screenshot from the top (scrolled down, the sticky header lands mid-picture)."""
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=shot_path(name), full_page=True)


async def column_count(page: Any, key: str) -> int:
    return int(await page.locator(f"#ss-col-{key}").get_attribute("data-count"))


async def wait_for_count(page: Any, key: str, count: int) -> None:
    """The board's column shows ``count`` — reached by the page itself (SSE → htmx), within 10 s."""
    await page.wait_for_function(
        "([key, n]) => { const el = document.getElementById('ss-col-' + key); return el && el.dataset.count === n; }",
        arg=[key, str(count)],
        timeout=BOARD_TIMEOUT_MS,
    )


async def staff_act(page: Any, action: str, state: str, **fields: str) -> None:
    """Press one action's button on the event panel (htmx swaps the panel) and wait for the new state."""
    form = page.locator(f"#ss-event-panel form[data-action={action}]")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await form.locator("button[type=submit]").click()
    await expect(page.locator(f"#ss-event-panel strong[data-state={state}]")).to_be_visible()
    await expect(page.locator("#ss-event-panel [role=alert]")).to_have_count(0)


async def worker_act(page: Any, action: str) -> None:
    await page.locator(f"main form[action$='/{action}'] button[type=submit]").click()
    await page.wait_for_load_state()
    await expect(page.get_by_test_id("task-error")).to_have_count(0)


async def test_a_resident_reports_from_a_phone_and_staff_close_it_while_the_board_updates_by_itself(
    district: District, live_server: LiveServer, new_context: Any, tmp_path: Path
) -> None:
    d, live = district, live_server
    before_jpg = tmp_path / "IMG_0001.jpg"
    before_jpg.write_bytes(phone_jpeg())
    after_jpg = tmp_path / "IMG_0002.jpg"
    after_jpg.write_bytes(phone_jpeg(gps=False, orientation=1))

    # The community secretary has the live board open on a desktop.
    staff_context = await new_context()
    await staff_context.add_init_script(WATCH_BOARD_STREAM)
    board = await staff_context.new_page()
    await sign_in(board, live, d.slug, "community", PASSWORD)
    await board.goto(live.url(d.url("/smart-service/board")))
    await board.wait_for_function("() => window.__boardStreamOpen === true")
    await board.evaluate(MARK_BOARD)
    assert await column_count(board, "new") == 0
    await shot(board, "ss-1-board-empty")

    # 1. A resident reports on a phone: category, description, a photo with GPS; no location typed.
    resident = await (await new_context(**PHONE)).new_page()
    await sign_in(resident, live, d.slug, "resident", PASSWORD)
    await resident.goto(live.url(d.url("/smart-service/report")))
    form = resident.get_by_test_id("report-form")
    await form.locator("select[name=category]").select_option("SR")
    await form.locator("textarea[name=description]").fill(DESCRIPTION)
    await form.locator("input[name=photos]").set_input_files(str(before_jpg))
    await expect(resident.locator("#ss-preview img")).to_have_count(1)  # the page previews the photo
    await shot(resident, "ss-2-report-form")
    await resident.get_by_test_id("report-submit").click()
    await resident.wait_for_url(re.compile(r"/smart-service/mine/\d+$"))
    event_id = int(resident.url.rsplit("/", 1)[1])
    await expect(resident.get_by_test_id("state")).to_have_text("已提交")  # the resident's words
    await resident.goto(live.url(d.url("/smart-service/mine")))
    mine = resident.get_by_test_id("my-reports")
    await expect(mine).to_contain_text(DESCRIPTION)
    await expect(mine).to_contain_text("已提交")
    await shot(resident, "ss-3-my-reports")

    # 2. The board counts the new report by itself.
    await wait_for_count(board, "new", 1)
    await expect(board.locator("#ss-col-new .ss-card")).to_contain_text(DESCRIPTION)
    assert await board.evaluate(BOARD_NOT_RELOADED)
    await shot(board, "ss-4-board-new")

    # 3. The secretary opens it (in another tab: the board stays open), accepts, registers, dispatches.
    href = await board.locator("#ss-col-new .ss-card").first.get_attribute("href")
    assert href == d.url(f"/smart-service/events/{event_id}")
    staff = await staff_context.new_page()
    await staff.goto(live.url(href))
    await expect(staff.locator("#ss-event-panel")).to_contain_text(DESCRIPTION)
    await staff_act(staff, "accept", "accepted")
    await staff_act(staff, "register", "registered")
    worker_id = str(d.users["worker"].id)
    await staff_act(staff, "dispatch", "dispatched", assignee_user_id=worker_id, note="请今天处理")
    await shot(staff, "ss-5-event-dispatched")
    await wait_for_count(board, "dispatched", 1)
    await wait_for_count(board, "new", 0)

    # The grid worker, on a phone, signs for it, starts, and reports the result with an "after" photo.
    worker = await (await new_context(**PHONE)).new_page()
    await sign_in(worker, live, d.slug, "worker", PASSWORD)
    await worker.goto(live.url(d.url("/smart-service/tasks")))
    await worker.locator(f"a[href$='/smart-service/tasks/{event_id}']").click()
    await worker.wait_for_url(re.compile(rf"/smart-service/tasks/{event_id}$"))
    await worker_act(worker, "sign")
    await expect(worker.get_by_test_id("state")).to_have_text(zh("Signed for"))
    await worker_act(worker, "handle")
    await expect(worker.get_by_test_id("state")).to_have_text(zh("Being handled"))
    feedback = worker.get_by_test_id("feedback-form")
    await feedback.locator("input[name=after]").set_input_files(str(after_jpg))
    await feedback.locator("textarea[name=note]").fill("已清运，地面已冲洗")
    await shot(worker, "ss-6-worker-feedback")
    await feedback.locator("button[type=submit]").click()
    await worker.wait_for_load_state()
    await expect(worker.get_by_test_id("task-error")).to_have_count(0)
    await expect(worker.get_by_test_id("state")).to_have_text(zh("Handled, awaiting inspection"))
    await wait_for_count(board, "inspection", 1)

    # The secretary sees the photos before and after, inspects, passes and closes.
    await staff.reload()
    panel = staff.locator("#ss-event-panel")
    await expect(panel.locator(".ss-photos > div").nth(0).locator("img")).to_have_count(1)  # before: the report's
    await expect(panel.locator(".ss-photos > div").nth(1).locator("img")).to_have_count(1)  # after: the worker's
    await staff_act(staff, "inspect", "inspecting")
    await staff_act(staff, "pass", "inspected")
    await staff_act(staff, "close", "closed")
    await shot(staff, "ss-7-event-closed")

    # The board lets it go from every open column, still without a reload.
    await wait_for_count(board, "inspection", 0)
    for key in ("new", "dispatched", "handling", "inspection", "overdue"):
        assert await column_count(board, key) == 0, key
    await expect(board.locator(".ss-card")).to_have_count(0)
    assert await board.evaluate(BOARD_NOT_RELOADED)
    await shot(board, "ss-8-board-after")

    # 4. The resident reads "closed" on the timeline and rates the result 5.
    await resident.goto(live.url(d.url(f"/smart-service/mine/{event_id}")))
    await expect(resident.get_by_test_id("state")).to_have_text("已办结")  # the resident's words
    await expect(resident.get_by_test_id("timeline").locator("li").last).to_contain_text(zh("Close"))
    rate = resident.get_by_test_id("rate-form")
    await rate.locator("input[name=rating][value='5']").check()
    await rate.locator("textarea[name=comment]").fill("处理很快，谢谢！")
    await rate.locator("button[type=submit]").click()
    await resident.wait_for_url(re.compile(rf"/smart-service/mine/{event_id}$"))
    await expect(resident.get_by_test_id("rating")).to_contain_text("★★★★★")
    await expect(resident.get_by_test_id("rate-form")).to_have_count(0)
    await shot(resident, "ss-9-rated")
