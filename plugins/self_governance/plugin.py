"""居民自治 — resident self-governance. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get

from core import hookimpl
from core.pluginhost.manifest import Action, Manifest, MenuItem, Widget
from core.web.context import ctx
from core.web.guards import requires
from core.web.render import render, render_string

NAME = "self_governance"
VIEW = f"{NAME}.view"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    notice_days: Annotated[int, msgspec.Meta(ge=1, le=60, title="会议公告期（天） Notice period (days)")] = 15
    extraordinary_share_percent: Annotated[
        int, msgspec.Meta(ge=1, le=100, title="临时会议提议比例 % Share to call an extraordinary meeting")
    ] = 20


MANIFEST = Manifest(
    name=NAME,
    pillar="居民自治",
    title_zh="居民自治",
    title_en="Resident self-governance",
    version="0.1.0",
    description_zh="三方联动、民主议事、业主大会表决、居民会议",
    description_en="Three-party linkage, deliberation, owners' votes, residents' meetings",
    settings=Settings,
    icon="居",
    actions=(
        Action(
            VIEW,
            "查看居民自治",
            "View resident self-governance",
            ("community_secretary", "community_worker", "building_head", "resident"),
        ),
    ),
)


@get("/self-governance/", guards=[requires(VIEW)])
async def overview(request: Request) -> Any:
    settings = ctx(request).plugin_settings.get(NAME, {})
    return await render(request, "self_governance/overview.html", {"settings": settings})


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_routes() -> list[Any]:
    return [overview]


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [MenuItem("居民自治", "Resident self-governance", "/self-governance/", VIEW, "居", 20)]


@hookimpl
def dashboard_widgets(request: Request) -> list[Widget]:
    if not ctx(request).can(VIEW):
        return []
    html = render_string(request, "self_governance/widget.html", {})
    return [Widget("居民自治", "Resident self-governance", html, 20, "/self-governance/")]
