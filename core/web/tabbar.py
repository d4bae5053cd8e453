"""The field staff's bottom tab bar on the phone: 任务 and 上报 from the enabled plugins' manifests
(``mobile_tabs``), 巡查, 居民 and 我的 from core's field work. Shown to users who record field work."""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.pluginhost.manifest import MenuItem
from core.web.context import ctx

FIELD_RECORD = "core.field.record"
CORE_TABS = (
    MenuItem("巡查", "Patrol", "/field/patrol", FIELD_RECORD, "巡", 30),
    MenuItem("居民", "Residents", "/field/households", FIELD_RECORD, "居", 40),
    MenuItem("我的", "Me", "/field/", FIELD_RECORD, "我", 50),
)
MAX_TABS = 5


def _allowed(c: Any, action: str | tuple[str, ...] | None) -> bool:
    if action is None:
        return True
    return any(c.can(a) for a in ((action,) if isinstance(action, str) else action))


def build_tabs(request: Request) -> list[dict[str, str]]:
    """The tabs for this user, or [] when they do no field work (the bar is not shown)."""
    c = ctx(request)
    if c.user is None or c.tenant is None or not c.can(FIELD_RECORD):
        return []
    host = request.app.state.plugins
    items = [t for name, m in host.manifests.items() if name in c.enabled for t in m.mobile_tabs]
    items.extend(CORE_TABS)
    visible = sorted((i for i in items if _allowed(c, i.action)), key=lambda i: (i.order, i.title_zh))[:MAX_TABS]
    here = c.here.split("?", 1)[0]
    out = []
    for i in visible:
        href = c.url(i.href)
        path = href.split("?", 1)[0]
        active = here == path if path == c.url("/field/") else here.startswith(path)
        out.append({"title": i.title(c.locale), "href": href, "icon": i.icon, "active": "1" if active else ""})
    return out
