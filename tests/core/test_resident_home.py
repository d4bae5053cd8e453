"""A resident's home reaches 随手拍, 我的上报, 预约代办 and every resident page of the enabled pillars;
their reports read in resident words. A district's terminology replaces the default words in
what is shown, never in what a form sends back."""

from __future__ import annotations

import re
from typing import Any

from core.web.terminology import apply
from tests.conftest import main_text

OFFICE_ONLY = ("已派遣", "已签收", "已立案", "核查中", "已反馈")


def tiles(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="lz-tiles".*?</nav>', html, re.S)
    assert nav is not None, "no tiles on the home page"
    return {
        main_text(label): href
        for href, label in re.findall(r'<a href="([^"]+)" class="lz-tile"[^>]*>(.*?)</a>', nav.group(0), re.S)
    }


async def test_a_residents_home_has_a_tile_for_each_of_their_pages(as_resident: Any) -> None:
    found = tiles((await as_resident.get("/t/shuangluan/")).text)
    for label, href in (
        ("随手拍", "/smart-service/report"),
        ("我的上报", "/smart-service/mine"),
        ("预约代办", "/smart-service/bookings/"),
    ):
        assert any(label in k for k in found), f"{label} missing: {sorted(found)}"
        assert f"/t/shuangluan{href}" in found.values()
    for href in found.values():
        assert (await as_resident.get(href)).status_code == 200, href


async def test_a_residents_reports_read_in_resident_words(as_resident: Any) -> None:
    text = main_text((await as_resident.get("/t/shuangluan/smart-service/mine")).text)
    assert any(word in text for word in ("已提交", "已受理", "处理中", "已办结"))
    assert not any(word in text for word in OFFICE_ONLY)


def test_terminology_changes_what_is_shown_not_what_is_sent() -> None:
    page = (
        '<nav><a href="/grid/">网格</a></nav><p>网格员 张三负责第一网格</p>'
        '<input name="name" value="第一网格"><textarea name="n">网格员</textarea><script>var x = "网格";</script>'
    )
    out = apply(page, {"grid": "片区", "grid_worker": "片区员"})
    assert '<a href="/grid/">片区</a>' in out and "<p>片区员 张三负责第一片区</p>" in out
    assert 'value="第一网格"' in out and '<textarea name="n">网格员</textarea>' in out and 'var x = "网格"' in out
    assert apply(page, {"grid": "网格"}) == page  # the default word: nothing to do
