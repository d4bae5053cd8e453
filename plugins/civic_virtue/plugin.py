"""文化德治 — culture and virtue. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get

from core import hookimpl
from core.pluginhost.manifest import Action, Manifest, MenuItem, Widget
from core.web.context import ctx
from core.web.guards import requires
from core.web.render import render, render_string

NAME = "civic_virtue"
VIEW = f"{NAME}.view"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    publicity_days: Annotated[int, msgspec.Meta(ge=1, le=30, title="公示期（天） Publicity period (days)")] = 7
    votes_per_resident: Annotated[int, msgspec.Meta(ge=1, le=10, title="每位居民票数 Votes per resident")] = 1


MANIFEST = Manifest(
    name=NAME,
    pillar="文化德治",
    title_zh="文化德治",
    title_en="Culture and virtue",
    version="0.1.0",
    description_zh="榜样评选、邻里节、文化主题楼道",
    description_en="Role-model campaigns, neighbourhood festivals, themed places",
    settings=Settings,
    icon="文",
    actions=(
        Action(
            VIEW, "查看文化德治", "View culture and virtue", ("community_secretary", "community_worker", "resident")
        ),
    ),
)


@get("/civic-virtue/", guards=[requires(VIEW)])
async def overview(request: Request) -> Any:
    settings = ctx(request).plugin_settings.get(NAME, {})
    return await render(request, "civic_virtue/overview.html", {"settings": settings})


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_routes() -> list[Any]:
    return [overview]


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [MenuItem("文化德治", "Culture and virtue", "/civic-virtue/", VIEW, "文", 60)]


@hookimpl
def dashboard_widgets(request: Request) -> list[Widget]:
    if not ctx(request).can(VIEW):
        return []
    html = render_string(request, "civic_virtue/widget.html", {})
    return [Widget("文化德治", "Culture and virtue", html, 60, "/civic-virtue/")]
