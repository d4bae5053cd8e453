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
    # The shell comes as one stylesheet and one script (core/web/assets.py BUNDLES) …
    assert [u for u in urls if u.endswith((".css", ".js"))] == [
        next(u for u in urls if u.endswith("/core/shell.css")),
        next(u for u in urls if u.endswith("/core/shell.js")),
    ]
    assert "/static/" not in html  # every reference rewritten
    # … and the sign-in form uses no htmx, so it is not sent; nor the live stream's extension.
    assert not any("htmx" in u for u in urls)


async def test_htmx_comes_to_pages_whose_markup_uses_it(as_admin: Any) -> None:
    home = (await as_admin.get("/t/shuangluan/")).text
    users = (await as_admin.get("/t/shuangluan/admin/users")).text  # its search form has hx-get
    assert "hx-" not in home and not any("htmx" in u for u in asset_urls(home))
    assert any(u.endswith("/vendor/htmx/htmx.min.js") for u in asset_urls(users))
    assert not any("htmx-sse" in u for u in asset_urls(users))  # the bell's stream needs no htmx
    assert "data-lz-stream=" in users and "<!--lz:" not in users


def test_the_live_stream_extension_comes_with_an_element_that_opens_a_stream(app: Any) -> None:
    from core.web.assets import SCRIPTS_SLOT

    assets = app.state.assets
    page = assets.on_demand(f'<head>{SCRIPTS_SLOT}</head><div hx-ext="sse" sse-connect="/s" hx-get="/x"></div>')
    assert page.index("/vendor/htmx/htmx.min.js") < page.index("/vendor/htmx-sse/sse.min.js")
    assert (
        assets.on_demand(f"<head>{SCRIPTS_SLOT}</head><p>hx-get= in words only</p>")
        == "<head></head><p>hx-get= in words only</p>"
    )


def test_the_shell_stylesheet_is_pico_light_and_liuzhi_in_one_file(app: Any) -> None:
    assets = app.state.assets
    shell = assets.get("core/shell.css").body.decode()
    pico = assets.get("vendor/pico/pico.min.css").body.decode()
    assert shell.startswith('@charset "UTF-8";') and "Pico CSS" in shell  # its licence comment kept
    assert assets.get("core/liuzhi.css").body.decode() in shell and assets.get("core/field.css").body.decode() in shell
    assert "[data-theme=light]" in shell and "prefers-color-scheme:dark" not in shell
    assert not re.search(r"(^|})\[data-theme=dark\]", shell)  # no rule of the dark scheme
    assert pico.count("[data-theme=dark]{") == 1 and len(shell) < len(pico)  # the file itself is whole
    script = assets.get("core/shell.js").body.decode()
    assert "lzLazy" in script and 'getElementById("lz-offline")' in script


async def test_a_hashed_file_is_gzipped_and_cached_for_a_year(client: Any) -> None:
    url = next(u for u in asset_urls((await client.get("/t/shuangluan/login")).text) if u.endswith("shell.js"))
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
