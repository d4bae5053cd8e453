"""党建领治 — party leadership. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core import hookimpl
from core.pluginhost.manifest import Action, CardSpec, DeclaredRole, Manifest, MenuItem, Page
from core.rbac.defaults import STAFF_GRANTS

NAME = "party_leadership"
VIEW = f"{NAME}.view"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    meetings_per_year: Annotated[int, msgspec.Meta(ge=1, le=52, title="联席会议次数/年 Joint meetings per year")] = 4
    member_service_hours_target: Annotated[
        int, msgspec.Meta(ge=0, le=500, title="党员年度服务时长目标 Member service hours per year")
    ] = 50


MANIFEST = Manifest(
    name=NAME,
    pillar="党建领治",
    title_zh="党建领治",
    title_en="Party leadership",
    version="0.1.0",
    description_zh="三项清单、共建协议、双报到、网络楼长",
    description_en="Three lists, co-building agreements, dual registration, online building captains",
    settings=Settings,
    icon="党",
    actions=(
        Action(
            VIEW, "查看党建领治", "View party leadership", ("party_admin", "subdistrict_officer", "community_secretary")
        ),
    ),
    landing=Page("/party/", "party_leadership/overview.html", VIEW),
    menu=(MenuItem("党建领治", "Party leadership", "/party/", VIEW, "党", 10),),
    widget=CardSpec("party_leadership/widget.html", 10, VIEW),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_roles() -> list[DeclaredRole]:
    return [DeclaredRole("party_admin", "党组织管理员", "Party organisation admin", STAFF_GRANTS)]
