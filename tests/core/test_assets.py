"""Light on a weak signal: static files under content-hashed URLs, compressed once and cached for
a year; pages compressed; the login page loads only what it uses."""

from __future__ import annotations

import gzip
import re
from typing import Any

from tests.conftest import make_client


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)


async def test_a_page_links_its_styles_and_scripts_by_content_hash(client: Any) -> None:
    html = (await client.get("/t/shuangluan/login")).text
    urls = asset_urls(html)
    assert any(u.endswith("/core/liuzhi.css") for u in urls) and any(
        u.endswith("/vendor/htmx/htmx.min.js") for u in urls
    )
    assert "/static/" not in html  # every reference rewritten
    assert not any("htmx-sse" in u for u in urls)  # no live stream before sign-in: its script is not loaded


async def test_a_hashed_file_is_gzipped_and_cached_for_a_year(client: Any) -> None:
    url = next(u for u in asset_urls((await client.get("/t/shuangluan/login")).text) if u.endswith("htmx.min.js"))
    r = await client.get(url, headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "set-cookie" not in r.headers  # a shared cache may keep it
    assert int(r.headers["content-length"]) < len(r.content) / 2  # httpx decoded a much smaller body
    br = await client.get(url, headers={"accept-encoding": "gzip, deflate, br"})
    assert br.headers["content-encoding"] == "br" and int(br.headers["content-length"]) < int(
        r.headers["content-length"]
    )
    raw = await client.get(url, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.content == r.content


async def test_an_old_digest_still_answers_but_is_not_kept_for_long(client: Any) -> None:
    r = await client.get("/assets/000000000000/core/liuzhi.css")
    assert r.status_code == 200 and "immutable" not in r.headers["cache-control"]


async def test_unknown_or_escaping_asset_paths_are_404(client: Any) -> None:
    for path in ("/assets/abc/core/nope.css", "/assets/abc/core/../../config.py", "/assets/abc/nomount/x.js"):
        assert (await client.get(path)).status_code == 404, path


async def test_pages_are_compressed(app: Any) -> None:
    async with make_client(app) as c:
        r = await c.get("/t/shuangluan/login", headers={"accept-encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"


def test_live_streams_are_left_uncompressed(app: Any) -> None:
    # httpx's ASGI transport waits for a whole body, which a live stream never ends: check the rule.
    import re as regex

    patterns = app.compression_config.exclude
    assert any(regex.search(p, "/notifications/stream") for p in patterns)
    assert any(regex.search(p, "/smart-service/board/stream") for p in patterns)
    assert not any(regex.search(p, "/smart-service/events") for p in patterns)


def test_static_url_gives_the_hashed_url_and_falls_back_for_unknown_files(app: Any) -> None:
    assets = app.state.assets
    assert re.fullmatch(r"/assets/[0-9a-f]{12}/core/liuzhi\.css", assets.url("core/liuzhi.css"))
    assert assets.url("core/missing.js") == "/static/core/missing.js"
    assert gzip.decompress(assets.get("core/liuzhi.css").gzipped) == assets.get("core/liuzhi.css").body
