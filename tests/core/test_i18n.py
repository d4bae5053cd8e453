"""Every UI string of core and the built-in plugins is translated to zh-Hans, placeholders intact."""

from __future__ import annotations

import re
from typing import Any

import pytest
from babel.messages.pofile import read_po

from core.web.i18n_catalogues import extract, po_path, units, untranslated

UNITS = units()
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize("name,dirs,locale_dir", UNITS, ids=[u[0] for u in UNITS])
def test_every_string_has_a_chinese_translation(name: str, dirs: Any, locale_dir: Any) -> None:
    missing = untranslated(locale_dir, extract(dirs))
    assert missing == [], f"{name}: untranslated (run `liuzhi i18n update`, then translate): {missing}"


@pytest.mark.parametrize("name,dirs,locale_dir", UNITS, ids=[u[0] for u in UNITS])
def test_translations_keep_their_placeholders(name: str, dirs: Any, locale_dir: Any) -> None:
    with po_path(locale_dir).open("rb") as fh:
        catalog = read_po(fh)
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) <= wanted | set(PLACEHOLDER.findall(ids[0])), (m.id, s)


async def test_pages_are_chinese_by_default_and_english_on_request(client: Any) -> None:
    r = await client.get("/t/shuangluan/login")
    assert "登录" in r.text and "用户名" in r.text
    r = await client.get("/platform/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Operator sign-in" in r.text
