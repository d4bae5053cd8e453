"""平安法治 in a real browser: a grid worker on a phone logs a screening visit with a neighbours'
dispute and hands it to mediation; the mediator accepts it, records a session and the agreement,
downloads the agreement PDF (its text checked), and records the follow-up visit. Demo district
双滦区; screenshots go to tests/artifacts/rl-<step>-<database>.png."""

from __future__ import annotations

import io
import re
from typing import Any

import pypdf
import pytest

from tests.browser.conftest import LiveServer, shot_path, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
T = "/t/shuangluan"


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=shot_path(f"rl-{name}"), full_page=True)


async def open_step(page: Any, action: str) -> Any:
    form = page.locator(f"[data-testid=form-{action}]")
    if not await form.is_visible():
        await page.locator(f"details:has([data-testid=form-{action}]) > summary").click()
    return form


async def test_a_dispute_from_a_phone_is_mediated_to_an_agreement_and_followed_up(
    live_server: LiveServer, new_context: Any
) -> None:
    live = live_server
    worker = await (await new_context(**PHONE)).new_page()
    await sign_in(worker, live, "shuangluan", "grid_worker")
    await worker.goto(live.url(f"{T}/rule-of-law/screening/new"))
    form = worker.locator("[data-testid=screening-form]")
    await form.locator("input[name=place]").fill("安顺乐居2号楼")
    await form.locator("textarea[name=note]").fill("入户走访")
    await form.locator("input[name=found][value=yes]").check()
    await form.locator("select[name=kind]").select_option("neighbour")
    await form.locator("select[name=risk]").select_option("medium")
    await form.locator("input[name=parties]").fill("韩立新、邓秋菊")
    await form.locator("textarea[name=summary]").fill("楼上夜间拖拽家具噪音大，楼下老人无法休息")
    await form.locator("select[name=handoff]").select_option("mediation")
    await shot(worker, "1-screening-phone")
    await form.locator("button[type=submit]").click()
    await worker.wait_for_url(re.compile(r".*/rule-of-law/disputes/\d+$"))
    assert "已移交调解" in await worker.locator("[data-testid=dispute-status]").inner_text()
    case_href = await worker.locator("[data-testid=case-link]").get_attribute("href")
    assert case_href
    await shot(worker, "2-dispute-phone")

    mediator = await (await new_context(**PHONE)).new_page()
    await sign_in(mediator, live, "shuangluan", "mediator")
    await mediator.goto(live.url(case_href))
    form = await open_step(mediator, "accept")
    await form.locator("input[name=origin][value=application]").check()
    await form.locator("button[type=submit]").click()
    await mediator.wait_for_load_state()
    assert "已受理" in await mediator.locator("[data-testid=state]").inner_text()

    form = await open_step(mediator, "session")
    await form.locator("input[name=attendees]").fill("韩立新、邓秋菊、调解员")
    await form.locator("textarea[name=note]").fill("双方陈述，约定晚十点后不拖动家具")
    await form.locator("button[type=submit]").click()
    await mediator.wait_for_load_state()
    assert "调解中" in await mediator.locator("[data-testid=state]").inner_text()

    form = await open_step(mediator, "agree")
    await form.locator("input[name=p1_age]").fill("45")
    await form.locator("input[name=p2_address]").fill("安顺乐居2号楼1单元201")
    await form.locator("textarea[name=facts]").fill("楼上夜间拖拽家具产生噪音")
    await form.locator("textarea[name=matters]").fill("噪音扰民，楼上住户承担主要责任")
    await form.locator("textarea[name=terms]").fill("韩立新在椅脚加装防噪垫，晚十点后不拖动家具")
    await form.locator("textarea[name=performance]").fill("三日内加装完毕")
    await shot(mediator, "3-agreement-form")
    await form.locator("button[type=submit]").click()
    await mediator.wait_for_load_state()
    assert "达成协议" in await mediator.locator("[data-testid=state]").inner_text()
    assert "司法确认" in await mediator.locator("[data-testid=confirmation]").inner_text()
    await shot(mediator, "4-agreed")

    pdf_href = await mediator.locator("[data-testid=agreement-pdf]").get_attribute("href")
    assert pdf_href
    pdf = await mediator.request.get(live.url(pdf_href))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(await pdf.body())).pages).replace("\n", "")
    for needle in ("人民调解协议书", "韩立新", "邓秋菊", "防噪垫", "三日内加装完毕", "司法确认", "人民调解员"):
        assert needle in text, needle

    form = await open_step(mediator, "follow_up")
    await form.locator("input[name=performance][value=performed]").check()
    await form.locator("textarea[name=note]").fill("已加装防噪垫，楼下表示满意")
    await form.locator("button[type=submit]").click()
    await mediator.wait_for_load_state()
    assert "已回访" in await mediator.locator("[data-testid=state]").inner_text()
    assert "已加装防噪垫" in await mediator.locator("[data-testid=timeline]").inner_text()
    await shot(mediator, "5-followed-up")
