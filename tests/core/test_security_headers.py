"""Every page carries the security headers, and no page needs inline script or style to work.

The crawl follows every link a district admin (and the platform operator) can reach from their
home page, so a page added later is checked without being listed here.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urldefrag, urlparse

import httpx

from tests.conftest import make_client

HREF = re.compile(r'(?:href|hx-get)="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle=", re.I)
EVENT_ATTR = re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I)
SKIP = re.compile(r"/(logout|stream)$|\.xlsx$|/export|/errors$|/templates/|/files/")


def check_headers(r: httpx.Response, https: bool = False) -> list[str]:
    problems = []
    policy = r.headers.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in policy:
        problems.append("CSP without frame-ancestors 'none'")
    if "unsafe-inline" in policy or "script-src 'self'" not in policy or "style-src 'self'" not in policy:
        problems.append(f"CSP allows inline code: {policy!r}")
    if r.headers.get("x-content-type-options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not r.headers.get("referrer-policy"):
        problems.append("no Referrer-Policy")
    if https != ("strict-transport-security" in r.headers):
        problems.append(f"HSTS {'missing' if https else 'sent over plain HTTP'}")
    return problems


def check_markup(html: str, policy: str) -> list[str]:
    problems = []
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("inline <style>", INLINE_STYLE),
        ("style attribute", STYLE_ATTR),
        ("event-handler attribute", EVENT_ATTR),
    ):
        m = pattern.search(html)
        if m:
            problems.append(f"{name}: {m.group(0)[:80]}")
    for nonce in re.findall(r'nonce="([^"]+)"', html):
        if f"'nonce-{nonce}'" not in policy:
            problems.append(f"nonce {nonce} not in the policy")
    return problems


async def crawl(
    client: httpx.AsyncClient, start: str, inside: str, limit: int = 160, minimum: int = 20
) -> dict[str, list[str]]:
    seen, queue, problems = {start}, deque([start]), {}
    while queue and len(seen) <= limit:
        url = queue.popleft()
        r = await client.get(url)
        found = check_headers(r)
        if r.headers.get("content-type", "").startswith("text/html"):
            found += check_markup(r.text, r.headers.get("content-security-policy", ""))
            for href in HREF.findall(r.text):
                href = urldefrag(href.replace("&amp;", "&"))[0]
                path = urlparse(href).path
                if href.startswith(inside) and not SKIP.search(path) and href not in seen:
                    seen.add(href)
                    queue.append(href)
        if found:
            problems[f"{url} ({r.status_code})"] = found
    assert len(seen) >= minimum, seen
    return problems


async def test_every_page_a_district_admin_reaches_has_the_headers(as_admin: Any) -> None:
    problems = await crawl(as_admin, "/t/shuangluan/", "/t/shuangluan/")
    assert problems == {}


async def test_every_page_a_grid_worker_reaches_has_the_headers(as_grid_worker: Any) -> None:
    problems = await crawl(as_grid_worker, "/t/shuangluan/", "/t/shuangluan/", limit=60)
    assert problems == {}


async def test_every_platform_page_has_the_headers(as_operator: Any) -> None:
    problems = await crawl(as_operator, "/platform/", "/platform/", limit=40, minimum=1)
    assert problems == {}


async def test_error_pages_login_and_json_carry_the_headers(client: Any) -> None:
    for url in (
        "/t/shuangluan/login",
        "/platform/login",
        "/t/shuangluan/no-such-page",
        "/no-such-tenant-route",
        "/healthz",
    ):
        r = await client.get(url)
        assert check_headers(r) == [], url


async def test_hsts_only_over_https(app: Any) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)), base_url="https://localhost"
    ) as c:
        r = await c.get("/t/shuangluan/login")
    assert r.headers["strict-transport-security"].startswith("max-age=")
    async with make_client(app) as c:
        r = await c.get("/t/shuangluan/login")
    assert "strict-transport-security" not in r.headers


async def test_a_page_cannot_be_framed(client: Any) -> None:
    r = await client.get("/t/shuangluan/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
