"""Static files for a weak signal: served under content-hashed URLs (``/assets/<hash>/<mount>/<path>``)
with a year-long ``immutable`` cache, compressed once in memory (brotli; gzip for older clients), so
a phone downloads each file once per release and a warm page needs no request for them at all.

``static_url("core/liuzhi.css")`` (a Jinja global, also ``Assets.url``) gives a file's hashed URL;
pages that still write ``/static/<mount>/<path>`` are rewritten to it when rendered (``rewrite``),
so a plugin's templates gain it without a change. The plain ``/static/…`` paths keep answering.

What every page needs comes as one stylesheet and one script (``BUNDLES``: on a slow link each
further file costs its headers and, past the browser's six connections, a round trip); htmx only
to pages whose markup uses it (``on_demand``).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

PREFIX = "/assets"
YEAR = "public, max-age=31536000, immutable"
# Text worth compressing; images and fonts are already compressed.
COMPRESSIBLE = (".css", ".js", ".svg", ".json", ".map", ".txt", ".html", ".webmanifest")
_STATIC_REF = re.compile(r'((?:src|href)=")/static/([A-Za-z0-9_./@-]+?)(")')

# Files every page loads, joined into one each (built in memory on first use, never committed).
# Pico's dark scheme is left out: the layout fixes data-theme="light".
BUNDLES: dict[str, tuple[str, ...]] = {
    "core/shell.css": ("vendor/pico/pico.min.css", "core/liuzhi.css", "core/field.css"),
    "core/shell.js": ("core/liuzhi.js", "core/offline.js"),
}
# The layout's mark where htmx goes when the rendered page uses it: an hx-* attribute anywhere
# (htmx's live-stream extension too when an element opens a stream with sse-connect).
SCRIPTS_SLOT = "<!--lz:htmx-->"
_HX_USE = re.compile(r"\s(?:data-)?hx-[a-z][a-z:-]*=")
_SSE_USE = re.compile(r"\s(?:data-)?sse-connect=")


def _brotli(body: bytes) -> bytes | None:
    try:
        import brotli
    except ImportError:  # an install without it serves gzip
        return None
    return bytes(brotli.compress(body, quality=11))


def _top_level_rules(css: str) -> list[str]:
    """``css`` cut at its top-level closing braces (a minified sheet without braces in strings)."""
    rules, depth, start = [], 0, 0
    for i, ch in enumerate(css):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                rules.append(css[start : i + 1])
                start = i + 1
    rules.append(css[start:])
    return rules


def light_only(css: str) -> str:
    """Pico without its dark scheme (a sixth of its size), for pages that fix data-theme="light"."""

    def dark(rule: str) -> bool:
        head = rule.split("{", 1)[0].replace(" ", "")
        return "prefers-color-scheme:dark" in head or head.startswith("[data-theme=dark]")

    return "".join(r for r in _top_level_rules(css) if not dark(r))


TRANSFORMS = {"vendor/pico/pico.min.css": light_only}


@dataclass(frozen=True)
class Asset:
    digest: str
    body: bytes
    gzipped: bytes | None
    brotlied: bytes | None
    media_type: str


class Assets:
    """The app's static mounts (``"core"`` → core/web/static, ``"vendor/htmx"`` → node_modules …),
    each file read, hashed and compressed on first use and kept for the process's life (files only
    change with a release, which restarts the process)."""

    def __init__(
        self, mounts: dict[str, Path], *, cache: bool = True, bundles: dict[str, tuple[str, ...]] | None = None
    ) -> None:
        # Longest mount first: "plugins/x" before a hypothetical "plugins".
        self.mounts = dict(sorted(mounts.items(), key=lambda kv: -len(kv[0])))
        self.cache = cache
        self.bundles = BUNDLES if bundles is None else bundles
        self._files: dict[str, Asset | None] = {}

    def _locate(self, rel: str) -> Path | None:
        for mount, folder in self.mounts.items():
            if rel.startswith(mount + "/"):
                path = (folder / rel[len(mount) + 1 :]).resolve()
                root = folder.resolve()
                if path.is_file() and (path == root or root in path.parents):
                    return path
                return None
        return None

    def _read(self, rel: str) -> bytes | None:
        if rel in self.bundles:
            parts = [self._part(p) for p in self.bundles[rel]]
            # ";" keeps one script's last statement from running into the next file's first.
            glue = b"\n;\n" if rel.endswith(".js") else b"\n"
            return glue.join(p for p in parts if p is not None)
        path = self._locate(rel)
        return None if path is None else path.read_bytes()

    def _part(self, rel: str) -> bytes | None:
        """A file as a bundle takes it (the file itself is served as it is)."""
        body = self._read(rel)
        if body is not None and rel in TRANSFORMS:
            body = TRANSFORMS[rel](body.decode()).encode()
        return body

    def get(self, rel: str) -> Asset | None:
        if rel in self._files:
            return self._files[rel]
        body = self._read(rel)
        asset = None
        if body is not None:
            name = Path(rel).name
            media = mimetypes.guess_type(name)[0] or "application/octet-stream"
            worth = Path(name).suffix in COMPRESSIBLE and len(body) > 512
            packed = gzip.compress(body, 9, mtime=0) if worth else None
            asset = Asset(hashlib.sha256(body).hexdigest()[:12], body, packed, _brotli(body) if worth else None, media)
        if self.cache:
            self._files[rel] = asset
        return asset

    def url(self, rel: str) -> str:
        """The hashed URL of ``rel`` (``"core/liuzhi.css"``); the plain ``/static/`` path if unknown."""
        rel = rel.lstrip("/")
        asset = self.get(rel)
        return f"{PREFIX}/{asset.digest}/{rel}" if asset else f"/static/{rel}"

    def on_demand(self, html: str) -> str:
        """Fill the layout's ``SCRIPTS_SLOT``: htmx for a page whose markup uses it, else nothing."""
        if SCRIPTS_SLOT not in html:
            return html
        tags = ""
        if _HX_USE.search(html):
            tags = f'<script src="{self.url("vendor/htmx/htmx.min.js")}" defer></script>'
            if _SSE_USE.search(html):
                tags += f'<script src="{self.url("vendor/htmx-sse/sse.min.js")}" defer></script>'
        return html.replace(SCRIPTS_SLOT, tags, 1)

    def rewrite(self, html: str) -> str:
        """Point every ``src``/``href`` at ``/static/…`` in a rendered page to its hashed URL."""
        if "/static/" not in html:
            return html
        return _STATIC_REF.sub(lambda m: m.group(1) + self.url(m.group(2)) + m.group(3), html)


@get(f"{PREFIX}/{{digest:str}}/{{rel:path}}", opt={"area": "public", "skip_session": True}, include_in_schema=False)
async def serve_asset(request: Request, digest: FromPath[str], rel: FromPath[str]) -> Response[bytes]:
    assets: Assets = request.app.state.assets
    asset = assets.get(rel.lstrip("/"))
    if asset is None:
        raise NotFoundException()
    # A file a stylesheet names relatively (leaflet's images/) arrives under the sheet's digest:
    # serve the current file either way; only an exact digest may be cached for a year.
    headers = {"Cache-Control": YEAR if digest == asset.digest else "public, max-age=300", "Vary": "Accept-Encoding"}
    body = asset.body
    accepted = {e.split(";")[0].strip() for e in request.headers.get("accept-encoding", "").split(",")}
    if asset.brotlied is not None and "br" in accepted:
        body = asset.brotlied
        headers["Content-Encoding"] = "br"
    elif asset.gzipped is not None and "gzip" in accepted:
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)


def static_url_global(assets: Assets) -> Any:
    return assets.url
