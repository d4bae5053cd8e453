"""A user's walk through the app: from their home page, every same-tenant link they can click,
breadth first. Shared by the reachability, language and phone-layout tests."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

TENANT = "shuangluan"
HOME = f"/t/{TENANT}/"
# Not pages: files, exports, streams, sign-out.
SKIP = re.compile(r"\.(xlsx|csv|pdf|png|jpg|jpeg|svg|js|css|ics)$|/stream$|/files/|/logout|/export|/live$|/code$")
HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)"', re.I)


@dataclass
class Walk:
    pages: dict[str, int] = field(default_factory=dict)  # url -> status
    html: dict[str, str] = field(default_factory=dict)
    found_on: dict[str, str] = field(default_factory=dict)  # url -> the page that linked it


def links(html: str, here: str, home: str = HOME) -> Iterable[str]:
    for raw in HREF.findall(html):
        url = urljoin(here, raw.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith(home):
            continue
        path = parts.path
        if SKIP.search(path):
            continue
        # One page of a list is enough: pager and filter variants of the same path are the same page.
        yield path


async def walk(client: Any, limit: int = 60, per_prefix: int = 3, tenant: str = TENANT) -> Walk:
    """Visit up to ``limit`` distinct pages, at most ``per_prefix`` under one parent path (one
    event page stands for all events), following links found on the pages."""
    out = Walk()
    home = f"/t/{tenant}/"
    queue = [home]
    seen = {home}
    prefixes: dict[str, int] = {}
    while queue and len(out.pages) < limit:
        url = queue.pop(0)
        r = await client.get(url)
        out.pages[url] = r.status_code
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        out.html[url] = r.text
        for link in links(r.text, url, home):
            if link in seen:
                continue
            parent = re.sub(r"/\d+(/.*)?$", "/<id>", link)
            if parent != link:
                if prefixes.get(parent, 0) >= per_prefix:
                    continue
                prefixes[parent] = prefixes.get(parent, 0) + 1
            seen.add(link)
            out.found_on[link] = url
            queue.append(link)
    return out
