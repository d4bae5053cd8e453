"""社会共治 — social co-governance. The table of contents of the plugin: manifest and hook implementations.

volunteers.py (registration, teams, activities, service records and points) · store.py (雷锋超市)
· homeservice.py (家政服务超市, purchased services) · training.py · property.py (红色物业) · rules.py
(star levels, points rules, volunteer numbers) · figures.py (widget, node, 我的) · routes/ · demo.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get

from core import hookimpl
from core.pluginhost.manifest import Action, DeclaredRole, Manifest, MenuItem, Widget
from core.web.context import ctx
from core.web.guards import requires
from core.web.render import render, render_string
from plugins.co_governance.settings import Settings

NAME = "co_governance"
VIEW = f"{NAME}.view"
VOLUNTEER_MANAGE = f"{NAME}.volunteer.manage"
VOLUNTEER_SELF = f"{NAME}.volunteer.self"
STORE_MANAGE = f"{NAME}.store.manage"
SERVICE_MANAGE = f"{NAME}.service.manage"
SERVICE_BOOK = f"{NAME}.service.book"
TRAINING_MANAGE = f"{NAME}.training.manage"
PROPERTY_MANAGE = f"{NAME}.property.manage"
PROPERTY_REVIEW = f"{NAME}.property.review"

_COMMUNITY = ("community_secretary", "community_worker")
_EVERYONE = ("resident", "volunteer", *_COMMUNITY, "grid_worker", "grid_leader", "building_head", "party_admin")

MANIFEST = Manifest(
    name=NAME,
    pillar="社会共治",
    title_zh="社会共治",
    title_en="Social co-governance",
    version="0.2.0",
    description_zh="志愿服务、积分、雷锋超市、家政服务、技能培训与就业、红色物业",
    description_en="Volunteers, points, Leifeng store, home services, training and jobs, red property management",
    settings=Settings,
    icon="社",
    actions=(
        Action(VIEW, "查看社会共治", "View social co-governance", ("subdistrict_officer", *_COMMUNITY, "party_admin")),
        Action(
            VOLUNTEER_MANAGE,
            "管理志愿者、队伍、活动与时长",
            "Manage volunteers, teams, activities and hours",
            _COMMUNITY,
        ),
        Action(VOLUNTEER_SELF, "志愿者注册、报名、兑换", "Volunteer: register, sign up, redeem", _EVERYONE),
        Action(STORE_MANAGE, "管理雷锋超市", "Manage the Leifeng store", _COMMUNITY),
        Action(
            SERVICE_MANAGE,
            "管理家政与购买服务",
            "Manage home and purchased services",
            ("subdistrict_officer", *_COMMUNITY),
        ),
        Action(SERVICE_BOOK, "预约并评价家政服务", "Book and rate home services", _EVERYONE),
        Action(
            TRAINING_MANAGE,
            "管理技能培训与就业",
            "Manage training and employment",
            ("subdistrict_officer", *_COMMUNITY),
        ),
        Action(
            PROPERTY_MANAGE,
            "管理红色物业",
            "Manage red property management",
            ("subdistrict_officer", *_COMMUNITY, "party_admin"),
        ),
        Action(PROPERTY_REVIEW, "评价物业服务", "Review property services", ("resident", "volunteer", "building_head")),
    ),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_models() -> list[Any]:
    from plugins.co_governance.models import MODELS

    return list(MODELS)


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@get("/co-governance/", guards=[requires(VIEW)])
async def overview(request: Request) -> Any:
    return await render(
        request, "co_governance/overview.html", {"settings": ctx(request).plugin_settings.get(NAME, {})}
    )


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


@hookimpl
def register_roles() -> list[DeclaredRole]:
    """A built-in role of every district, declared here rather than in core's list."""
    return [DeclaredRole("volunteer", "志愿者", "Volunteer", ("core.files.upload",))]
