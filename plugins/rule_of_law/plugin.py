"""平安法治 — safety and rule of law. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get

from core import hookimpl
from core.pluginhost.manifest import Action, Manifest, MenuItem, Widget
from core.web.context import ctx
from core.web.guards import requires
from core.web.render import render, render_string

NAME = "rule_of_law"
VIEW = f"{NAME}.view"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    mediation_days: Annotated[int, msgspec.Meta(ge=1, le=90, title="调解期限（天） Mediation time limit (days)")] = 30
    team_pattern: Annotated[str, msgspec.Meta(min_length=1, max_length=40, title="网格团队构成 Grid team pattern")] = (
        "1+1+X+Y"
    )


MANIFEST = Manifest(
    name=NAME,
    pillar="平安法治",
    title_zh="平安法治",
    title_en="Safety and rule of law",
    version="0.1.0",
    description_zh="全科网格、矛盾纠纷排查、人民调解",
    description_en="Comprehensive grids, dispute screening, people's mediation",
    settings=Settings,
    icon="安",
    actions=(
        Action(
            VIEW,
            "查看平安法治",
            "View safety and rule of law",
            ("subdistrict_officer", "community_secretary", "grid_leader", "grid_worker", "mediator"),
        ),
    ),
)


@get("/rule-of-law/", guards=[requires(VIEW)])
async def overview(request: Request) -> Any:
    settings = ctx(request).plugin_settings.get(NAME, {})
    return await render(request, "rule_of_law/overview.html", {"settings": settings})


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_routes() -> list[Any]:
    return [overview]


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [MenuItem("平安法治", "Safety and rule of law", "/rule-of-law/", VIEW, "安", 50)]


@hookimpl
def dashboard_widgets(request: Request) -> list[Widget]:
    if not ctx(request).can(VIEW):
        return []
    html = render_string(request, "rule_of_law/widget.html", {})
    return [Widget("平安法治", "Safety and rule of law", html, 50, "/rule-of-law/")]
