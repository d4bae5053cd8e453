"""Every role finds its work: each page a demo role reaches by clicking from its home opens for it
(no link to a page it is then refused), and reads in the role's language only — no English or raw
message ids in the Chinese UI, no Chinese in the English UI's controls; the district's own words
(片区 for 网格 …) wherever the term is shown.

One walk per role and language (tests/core/crawl.py), shared by the checks below."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest

from tests.conftest import form_post
from tests.core.crawl import HOME, Walk, walk

ROLES = ("admin", "subdistrict_officer", "community", "grid_worker", "resident", "volunteer")
_WALKS: dict[tuple[str, str], Walk] = {}

# Words a Chinese page may carry in Latin letters: formats, brands, units, codes, and the
# terminology keys a district admin types (grid_worker = 片区员).
ALLOWED = re.compile(
    r"\b(grid_worker|grid_leader|subdistrict|community|grid|Excel|PDF|QR|API|Open311|GeoJSON|OpenAPI|WeChat|Liuzhi|English|ID|SMS|PNG|JPG|JPEG|CSV|XLSX|TOTP|"
    r"km|kg|m|h|KB|MB|GB|GIS|SL|BK|PC|HTTP|HTTPS|URL|App|app|OK)\b"
)
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,'’-]+[A-Za-z][a-z]+){2,}\b")
PAGER = re.compile(r"\bPage \d+ of \d+\b|\bNext\b|\bPrevious\b")
WEEKDAYS = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
MESSAGE_ID = re.compile(r"\b[a-z]+(?:_[a-z]+)+\.[a-z_.]+\b|\b[a-z]+_[a-z]+(?:_[a-z]+)*\b")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Buttons, column heads and disclosure titles are the UI's own words (labels and legends carry data:
# candidates' names, ballot options, categories a district typed).
CONTROLS = re.compile(r"<(button|th|summary)\b[^>]*>(.*?)</\1>", re.S | re.I)
LATIN = re.compile(r"[A-Za-z]{2,}")


def visible(page: str) -> str:
    """The text a person reads in <main> and the navigation: no scripts, styles, inputs' values."""
    body = re.search(r"<body[^>]*>(.*)</body>", page, re.S)
    text = body.group(1) if body else page
    text = re.sub(r"<(script|style|template|textarea|select|code|pre)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", htmllib.unescape(text)).strip()


async def walked(signed_in: Any, who: str, locale: str) -> Walk:
    if (who, locale) not in _WALKS:
        client = await signed_in("shuangluan", who)
        if locale == "en":  # the choice is saved on the account: put it back for the other tests
            await form_post(client, "/t/shuangluan/account/locale", {"locale": "en", "next": HOME})
            try:
                _WALKS[(who, locale)] = await walk(client)
            finally:
                await form_post(client, "/t/shuangluan/account/locale", {"locale": "zh_Hans", "next": HOME})
        else:
            _WALKS[(who, locale)] = await walk(client)
    return _WALKS[(who, locale)]


@pytest.mark.parametrize("who", ROLES)
async def test_every_page_a_role_reaches_from_its_home_opens_for_it(signed_in: Any, who: str) -> None:
    w = await walked(signed_in, who, "zh_Hans")
    assert len(w.pages) >= 5, f"{who} reaches only {list(w.pages)}"
    refused = {url: (status, w.found_on.get(url)) for url, status in w.pages.items() if status != 200}
    assert refused == {}, f"{who} is offered links that do not open (url: status, linked from)"


@pytest.mark.parametrize("who", ROLES)
async def test_the_chinese_ui_shows_no_english_or_raw_ids(signed_in: Any, who: str) -> None:
    w = await walked(signed_in, who, "zh_Hans")
    problems = {}
    for url, page in w.html.items():
        text = ALLOWED.sub(" ", visible(page))
        found = ENGLISH_RUN.findall(text) + PAGER.findall(text) + WEEKDAYS.findall(text) + MESSAGE_ID.findall(text)
        if found:
            problems[url] = sorted(set(found))[:5]
    assert problems == {}, f"English or raw ids on {who}'s Chinese pages"


@pytest.mark.parametrize("who", ROLES)
async def test_the_english_ui_has_no_chinese_on_its_controls(signed_in: Any, who: str) -> None:
    w = await walked(signed_in, who, "en")
    problems = {}
    for url, page in w.html.items():
        main = re.search(r"<main[^>]*>(.*)</main>", page, re.S)
        for _tag, inner in CONTROLS.findall(main.group(1) if main else ""):
            text = re.sub(r"<(select|option)\b.*?</\1>", " ", inner, flags=re.S)
            text = re.sub(r"<[^>]+>", " ", text)
            # Untranslated = Chinese with no English at all ("Vote in 最美家庭" names a category).
            if CJK.search(text) and not LATIN.search(text):
                problems.setdefault(url, []).append(re.sub(r"\s+", " ", text).strip()[:40])
    assert problems == {}, f"Chinese on {who}'s English controls"


async def test_a_districts_own_words_are_shown_on_every_page(signed_in: Any) -> None:
    # 滦平县 calls its grids 片区 and their workers 片区员 (tenants/luanping/tenant.toml).
    admin = await signed_in("luanping", "admin")
    w = await walk(admin, limit=40, tenant="luanping")
    assert len(w.html) >= 10
    shown = {url: visible(page) for url, page in w.html.items()}
    assert any("片区" in text for text in shown.values())
    stale = {
        url: text[max(0, text.find("网格") - 20) : text.find("网格") + 20]
        for url, text in shown.items()
        if "网格" in text
    }
    assert stale == {}, "the default word is still shown"
