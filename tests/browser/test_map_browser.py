"""The map in a real browser: a resident on a 390 px phone drops a pin on the report form's map
(Leaflet from npm, served by the app, loaded after the page once the map's box nears the screen),
the form fills in the point and the report lands in the grid holding it; the community secretary's
live board, open before the report, shows the pin by itself, and the event's page shows it; with
JavaScript off the same form still reports from typed coordinates.

Screenshots: tests/artifacts/map-<step>-<database>.png.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from core.identity.models import User
from plugins.smart_service.models import Event
from tests.browser.conftest import LiveServer, shot_path, sign_in
from tests.plugins.smart_service.fixtures.boundaries import IN_G01, IN_G02, draw
from tests.plugins.smart_service.fixtures.district import PASSWORD, District, build

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
MAP = "[data-ss-map][data-ready]"
# htmx-sse fires htmx:sseOpen on the element holding sse-connect: remember when the board's stream is open.
WATCH_BOARD_STREAM = """
document.addEventListener("htmx:sseOpen", (e) => {
  if (e.target && e.target.classList && e.target.classList.contains("ss-board")) window.__boardStreamOpen = true;
});
"""


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    await draw(d)
    async with d.tx() as s:
        for user in (await s.execute(select(User))).scalars():
            user.locale = "zh_Hans"
    yield d
    await d.close()


async def shot(page: Any, name: str) -> None:
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=shot_path(name), full_page=True)


async def pixel_of(page: Any, lon: float, lat: float) -> dict[str, float]:
    """Where (lon, lat) is drawn on the page's map, relative to the map element."""
    return await page.evaluate(
        "([lon, lat]) => { const p = document.querySelector('[data-ss-map]').ssMap"
        ".latLngToContainerPoint([lat, lon]); return {x: p.x, y: p.y}; }",
        [lon, lat],
    )


async def test_a_resident_drops_a_pin_and_the_board_shows_it(
    district: District, live_server: LiveServer, new_context: Any
) -> None:
    d, live = district, live_server

    # 0. The community secretary has the live board open: the map has the boundaries and no pin yet.
    staff_context = await new_context()
    await staff_context.add_init_script(WATCH_BOARD_STREAM)
    staff = await staff_context.new_page()
    await sign_in(staff, live, d.slug, "community", PASSWORD)
    await staff.goto(live.url(d.url("/smart-service/board")))
    await staff.wait_for_function("() => window.__boardStreamOpen === true")
    await expect(staff.locator(MAP)).to_have_attribute("data-pins", "0")
    await expect(staff.locator(".leaflet-overlay-pane path:not([data-testid])")).to_have_count(3)  # sa, g01, g02

    # 1. On a phone, the report form's map shows the resident's grid; a tap drops the pin.
    resident = await (await new_context(**PHONE)).new_page()
    errors: list[str] = []
    resident.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(resident, live, d.slug, "resident", PASSWORD)
    await resident.goto(live.url(d.url("/smart-service/report")))
    the_map = resident.locator(MAP)
    await expect(the_map).to_be_visible()
    assert (await the_map.bounding_box())["width"] <= 390
    form = resident.get_by_test_id("report-form")
    await form.locator("select[name=category]").select_option("SR")
    await form.locator("textarea[name=description]").fill("路灯不亮，晚上很黑")
    await the_map.scroll_into_view_if_needed()
    where = await pixel_of(resident, *IN_G01)
    await the_map.click(position=where)
    await expect(resident.get_by_test_id("drop-pin")).to_be_visible()
    lon = float(await form.locator("input[name=lon]").input_value())
    lat = float(await form.locator("input[name=lat]").input_value())
    assert (lon, lat) == pytest.approx(IN_G01, abs=3e-4)  # within a pixel or two
    assert await form.locator("select[name=node_id]").input_value() == ""  # found from the point
    assert await form.locator("select[name=coord_system]").input_value() == "wgs84"
    await shot(resident, "map-1-resident-drops-a-pin")
    await resident.get_by_test_id("report-submit").click()
    await resident.wait_for_url(re.compile(r"/smart-service/mine/\d+$"))
    event = await d.event(int(resident.url.rsplit("/", 1)[1]))
    assert event.node_id == d.nodes["g01"].id
    assert (float(event.lon), float(event.lat)) == pytest.approx((lon, lat), abs=1e-6)
    assert errors == []

    # 2. The board's map shows the new pin by itself (the column swap brings the pins up to date).
    pin = staff.locator(f"[data-testid=event-pin][data-number='{event.number}']")
    await expect(pin).to_have_count(1)
    await expect(staff.locator(MAP)).to_have_attribute("data-pins", "1")
    await shot(staff, "map-2-board-shows-the-pin")
    await pin.click()
    await expect(staff.locator(".leaflet-popup-content")).to_contain_text(event.number)

    # 3. The event's page has its own small map with the pin, below the event: it loads (Leaflet
    # after the page, core's data-lz-lazy) when scrolled to.
    await staff.goto(live.url(d.url(f"/smart-service/events/{event.id}")))
    await staff.locator("[data-lz-lazy]").scroll_into_view_if_needed()
    await expect(staff.locator(f"{MAP} [data-testid=event-pin][data-number='{event.number}']")).to_have_count(1)
    await shot(staff, "map-3-event-page")


async def test_without_javascript_the_report_form_still_works_from_typed_coordinates(
    district: District, live_server: LiveServer, new_context: Any
) -> None:
    d, live = district, live_server
    page = await (await new_context(**PHONE, java_script_enabled=False)).new_page()
    await sign_in(page, live, d.slug, "community", PASSWORD)
    await page.goto(live.url(d.url("/smart-service/report")))
    await expect(page.locator("[data-ss-map-wrap]")).to_be_hidden()
    form = page.get_by_test_id("report-form")
    await form.locator("select[name=category]").select_option("SR")
    await form.locator("input[name=lon]").fill(str(IN_G02[0]))
    await form.locator("input[name=lat]").fill(str(IN_G02[1]))
    await shot(page, "map-4-no-javascript")
    await page.get_by_test_id("report-submit").click()
    await page.wait_for_load_state()
    async with d.app.state.db.session(d.tenant.id) as s:
        event = await s.scalar(select(Event).order_by(Event.created_at.desc()).limit(1))
    assert event is not None and event.node_id == d.nodes["g02"].id
