"""The pages install as a web app: the manifest, its icons and the service worker, per tenant.

The service worker is served at the tenant's root so its scope covers the tenant's pages; what it
caches it learns at run time from the pages (their stylesheets and scripts, whatever their URLs)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from core.web.deps import Ctx
from core.web.guards import public

SW_SOURCE = Path(__file__).resolve().parents[2] / "web" / "static" / "sw.js"
ICON_SIZES = (192, 512)


@get("/manifest.webmanifest", guards=[public], opt={"exclude_from_csrf": True})
async def manifest(rc: Ctx) -> Response[Any]:
    if rc.tenant is None:
        raise NotFoundException()
    colour = rc.tenant.branding.get("primary_color") or "#b3261e"
    body = {
        "name": rc.tenant.name(rc.locale),
        "short_name": rc.tenant.name(rc.locale)[:12],
        "lang": "en" if rc.locale == "en" else "zh-Hans",
        "start_url": rc.url("/"),
        "scope": rc.url("/"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": colour,
        "icons": [
            {"src": rc.url(f"/pwa/icons/{n}"), "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any maskable"}
            for n in ICON_SIZES
        ],
    }
    return Response(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@lru_cache(maxsize=32)
def _icon(size: int, colour: str) -> bytes:
    """A plain icon in the district's colour: a rounded square with a white ring (no font needed)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(img)
    r = size // 4
    draw.ellipse(
        (size // 2 - r, size // 2 - r, size // 2 + r, size // 2 + r), outline="white", width=max(4, size // 16)
    )
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


@get("/pwa/icons/{size:int}", guards=[public], opt={"exclude_from_csrf": True})
async def icon(rc: Ctx, size: FromPath[int]) -> Response[bytes]:
    if rc.tenant is None or size not in ICON_SIZES:
        raise NotFoundException()
    colour = str(rc.tenant.branding.get("primary_color") or "#b3261e")
    if not (len(colour) == 7 and colour.startswith("#")):
        colour = "#b3261e"
    return Response(_icon(size, colour), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@get("/sw.js", guards=[public], opt={"exclude_from_csrf": True})
async def service_worker(request: Request, rc: Ctx) -> Response[bytes]:
    if rc.tenant is None:
        raise NotFoundException()
    # Always revalidated: a new deployment's worker replaces the old one on the next visit.
    return Response(
        SW_SOURCE.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": request.url.path.rsplit("/", 1)[0] + "/"},
    )


handlers = [manifest, icon, service_worker]
