"""社会共治 — social co-governance. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get

from core import hookimpl
from core.pluginhost.manifest import Action, Manifest, MenuItem, Widget
from core.web.context import ctx
from core.web.guards import requires
from core.web.render import render, render_string

NAME = "co_governance"
VIEW = f"{NAME}.view"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    points_per_hour: Annotated[int, msgspec.Meta(ge=1, le=100, title="每小时积分 Points per volunteer hour")] = 1
    store_name: Annotated[str, msgspec.Meta(min_length=1, max_length=40, title="积分商店名称 Points store name")] = (
        "雷锋超市"
    )


MANIFEST = Manifest(
    name=NAME,
    pillar="社会共治",
    title_zh="社会共治",
    title_en="Social co-governance",
    version="0.1.0",
    description_zh="志愿服务、积分、雷锋超市、家政服务、红色物业",
    description_en="Volunteers, points, Leifeng store, home services, red property management",
    settings=Settings,
    icon="社",
    actions=(
        Action(
            VIEW, "查看社会共治", "View social co-governance", ("community_secretary", "community_worker", "volunteer")
        ),
    ),
)


@get("/co-governance/", guards=[requires(VIEW)])
async def overview(request: Request) -> Any:
    settings = ctx(request).plugin_settings.get(NAME, {})
    return await render(request, "co_governance/overview.html", {"settings": settings})


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_routes() -> list[Any]:
    return [overview]


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [MenuItem("社会共治", "Social co-governance", "/co-governance/", VIEW, "社", 40)]


@hookimpl
def dashboard_widgets(request: Request) -> list[Widget]:
    if not ctx(request).can(VIEW):
        return []
    html = render_string(request, "co_governance/widget.html", {})
    return [Widget("社会共治", "Social co-governance", html, 40, "/co-governance/")]
