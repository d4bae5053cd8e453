"""The layout's moving parts: navigation from enabled plugins, the notification bell."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy import func, select

from core.i18n import gettext as _
from core.pluginhost.manifest import MenuItem
from core.web import declared
from core.web.context import ctx
from core.web.tabbar import build_tabs

CORE_MENU = (
    MenuItem("工作台", "Dashboard", "/", None, "台", 0),
    MenuItem("网格", "Grid", "/grid/", "core.grid.view", "网", 5),
    MenuItem("实有人口", "Residents", "/residents/", "core.resident.view", "人", 6),
    MenuItem("单位组织", "Organisations", "/organisations/", "core.org.view", "组", 7),
    MenuItem("批量导入", "Import", "/import/", "core.grid.import", "导", 8),
    MenuItem("我的", "My page", "/me/", None, "我", 1),
    MenuItem("活动", "Activities", "/activities/", ("core.activity.join", "core.activity.manage"), "活", 2),
    MenuItem("积分", "Points", "/points/", ("core.points.view", "core.points.post"), "积", 9),
    MenuItem("表决", "Ballots", "/ballots/manage", "core.ballot.manage", "决", 9),
    MenuItem("公示", "Notices", "/notices/manage", "core.notice.manage", "公", 9),
    MenuItem("授权记录", "Consents", "/consents/", "core.consent.view", "授", 9),
    MenuItem("账号关联", "Account links", "/accounts/links", "core.account.link", "联", 9),
    MenuItem("外勤", "Field work", "/field/", "core.field.record", "勤", 3),
    MenuItem("民情日志", "Daily logs", "/field/logs", "core.field.view", "志", 10),
    MenuItem("巡查记录", "Patrols", "/field/patrols", "core.field.view", "巡", 10),
    MenuItem("走访记录", "Visits", "/field/visits", "core.field.view", "访", 10),
)
ADMIN_MENU = (
    MenuItem(
        "辖区设置",
        "District settings",
        "/admin/",
        ("core.admin.view", "core.admin.users", "core.admin.roles", "core.admin.audit", "core.admin.plugins"),
        "设",
        900,
    ),
)


def _allowed(c: Any, action: str | tuple[str, ...] | None) -> bool:
    if action is None:
        return True
    return any(c.can(a) for a in ((action,) if isinstance(action, str) else action))


async def build_menu(request: Request) -> list[dict[str, str]]:
    c = ctx(request)
    if c.user is None:
        return []
    items: list[MenuItem] = list(CORE_MENU)
    host = request.app.state.plugins
    for _name, result in await host.run("menu_items", c.enabled, request=request):
        items.extend(result if isinstance(result, list | tuple) else [result])
    hooked = {i.href for i in items if isinstance(i, MenuItem)}
    items.extend(i for i in declared.menu(host.manifests, c.enabled) if i.href not in hooked)
    items.extend(ADMIN_MENU)
    visible = [i for i in items if isinstance(i, MenuItem) and _allowed(c, i.action)]
    visible.sort(key=lambda i: (i.order, i.title_zh))
    here = request.scope["path"].rstrip("/") + "/"  # Litestar strips the trailing slash; menu hrefs keep it
    return [
        {
            "title": i.title(c.locale),
            "href": c.url(i.href),
            "icon": i.icon,
            "active": "1" if (i.href == "/" and here == "/") or (i.href != "/" and here.startswith(i.href)) else "",
        }
        for i in visible
    ]


async def unread_count(request: Request) -> int:
    from core.services.notifications.models import InAppNotification

    c = ctx(request)
    if c.user is None or c.db is None:
        return 0
    return int(
        await c.db.scalar(
            select(func.count())
            .select_from(InAppNotification)
            .where(InAppNotification.user_id == c.user.id, InAppNotification.read_at.is_(None))
        )
        or 0
    )


def page_title(*parts: str) -> str:
    return " · ".join([*parts, _("Liuzhi")])


async def page_context(request: Request, template: str) -> dict[str, Any]:
    """Everything the layout needs for a full page: menu from enabled plugins, user, tenant."""
    c = ctx(request)
    out: dict[str, Any] = {"c": c, "tenant": c.tenant, "user": c.user, "locale": c.locale}
    if c.tenant is not None:
        out["menu"] = await build_menu(request)
        out["unread"] = await unread_count(request)
        out["tabbar"] = build_tabs(request)
        out.update(await _extra_vars(request, template))
    else:
        out["menu"] = []
        out["unread"] = 0
    return out


async def partial_context(request: Request, template: str) -> dict[str, Any]:
    """What a block rendered alone (htmx) sees: the page's variables but the layout's own (menu,
    unread count), so a partial and its full page agree on every plugin's extra_template_vars."""
    c = ctx(request)
    out: dict[str, Any] = {"c": c, "tenant": c.tenant, "user": c.user, "locale": c.locale}
    if c.tenant is not None:
        out.update(await _extra_vars(request, template))
    return out


async def _extra_vars(request: Request, template: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _name, extra in await request.app.state.plugins.run(
        "extra_template_vars", ctx(request).enabled, request=request, template=template
    ):
        if isinstance(extra, dict):
            out.update(extra)
    return out
