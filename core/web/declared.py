"""Pages a plugin declares in its manifest (``landing``, ``menu``, ``widget``): the host mounts the
landing page, lists the menu items and renders the dashboard card, so a pillar's shell is data.

A plugin that still registers its own route at the landing path, or returns the same menu item or
card from its hooks, keeps its own: the declared one steps aside (no duplicate route at start-up).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from litestar import Request, get
from litestar.handlers import BaseRouteHandler

from core.pluginhost.manifest import Manifest, MenuItem, Widget
from core.web.context import ctx
from core.web.guards import requires, signed_in
from core.web.render import render, render_string

log = logging.getLogger("liuzhi.plugins")


def _paths(routes: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for r in routes:
        if isinstance(r, BaseRouteHandler):
            out.update(p.rstrip("/") or "/" for p in r.paths)
    return out


def landing_route(manifest: Manifest, own_routes: Iterable[Any] = ()) -> Any | None:
    """The GET handler of the manifest's landing page, or None (none declared, or the plugin has its own)."""
    page = manifest.landing
    if page is None:
        return None
    if (page.path.rstrip("/") or "/") in _paths(own_routes):
        log.warning("%s: has its own route at %s; the declared landing is not mounted", manifest.name, page.path)
        return None

    async def landing(request: Request) -> Any:
        settings = ctx(request).plugin_settings.get(manifest.name, {})
        return await render(request, page.template, {"settings": settings, "manifest": manifest})

    guard = requires(page.action) if page.action else signed_in
    return get(page.path, guards=[guard], name=f"{manifest.name}.landing", opt={"plugin": manifest.name})(landing)


def menu(manifests: dict[str, Manifest], enabled: Iterable[str]) -> list[MenuItem]:
    """The declared menu items of the enabled plugins (the caller filters by action)."""
    return [item for name in sorted(set(enabled)) if name in manifests for item in manifests[name].menu]


def widgets(request: Request, manifests: dict[str, Manifest], enabled: Iterable[str]) -> list[tuple[str, Widget]]:
    """The declared dashboard cards the signed-in user may see, rendered; one that fails is skipped."""
    c = ctx(request)
    out = []
    for name in sorted(set(enabled)):
        manifest = manifests.get(name)
        spec = manifest.widget if manifest is not None else None
        if spec is None or (spec.action is not None and not c.can(spec.action)):
            continue
        try:
            html = render_string(
                request, spec.template, {"settings": c.plugin_settings.get(name, {}), "manifest": manifest}
            )
        except Exception:
            log.exception("plugin %s: its declared card %s failed to render; skipped", name, spec.template)
            continue
        href = spec.href or (manifest.landing.path if manifest.landing else None)
        out.append((name, Widget(manifest.title_zh, manifest.title_en, html, spec.order, href)))
    return out
