"""No link to a page the user is then refused: ``may_open(request, href)`` answers from the route
the link leads to — its plugin switched on here, its ``requires(...)`` guard satisfied somewhere —
so pages built from plugins' figures and cards can drop the link and keep the number."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request

from core.web.context import ctx


def may_open(request: Request, href: str) -> bool:
    """``href`` is tenant-relative ("/party/lists?x=1"). Unknown paths answer False."""
    c = ctx(request)
    path = urlsplit(href).path or "/"
    try:
        _app, handler, *_rest = request.app.asgi_router.handle_routing(path=path.rstrip("/") or "/", method="GET")
    except Exception:  # no such route (404) or not a GET
        return False
    plugin = handler.opt.get("plugin") if handler.opt else None
    if plugin and plugin not in c.enabled:
        return False
    for guard in handler.guards or ():
        actions: Any = getattr(guard, "actions", None)
        if actions and not any(c.can(a) for a in actions):
            return False
    return True
