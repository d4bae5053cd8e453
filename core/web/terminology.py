"""A district's own words, wherever the term is shown: a tenant that calls a 网格 a 片区 (terminology
``grid = "片区"``) reads 片区 on every Chinese page — menus, headings, plugins' pages — not only where a
template asks ``c.term``. Applied once, to the text of a rendered page; form values, scripts and
attributes are left alone so nothing typed or submitted is changed."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Terminology key -> the word the UI uses by default (zh-Hans). Longer words first: 网格员 before 网格.
DEFAULT_WORDS: Mapping[str, str] = {
    "grid_worker": "网格员",
    "grid_leader": "网格长",
    "subdistrict": "街道",
    "community": "社区",
    "grid": "网格",
}
# Text between tags, outside elements whose content is data or code.
_RAW = re.compile(r"(<(textarea|script|style|pre|code)\b.*?</\2>)", re.S | re.I)
_TEXT = re.compile(r">([^<]+)<")


def replacements(terminology: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for key, default in DEFAULT_WORDS.items():
        word = (terminology.get(key) or "").strip()
        if word and word != default:
            pairs.append((default, word))
    return sorted(pairs, key=lambda p: -len(p[0]))


def apply(html: str, terminology: Mapping[str, str] | None) -> str:
    pairs = replacements(terminology or {})
    if not pairs or not any(default in html for default, _w in pairs):
        return html

    def words(text: str) -> str:
        for default, word in pairs:
            text = text.replace(default, word)
        return text

    def outside_raw(chunk: str) -> str:
        return _TEXT.sub(lambda m: ">" + words(m.group(1)) + "<", chunk)

    parts = _RAW.split(html)
    # re.split with two groups yields [text, whole raw element, tag name, text, …].
    out = []
    i = 0
    while i < len(parts):
        out.append(outside_raw(parts[i]))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
        i += 3
    return "".join(out)
