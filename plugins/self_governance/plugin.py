"""居民自治 — resident self-governance. The table of contents of the plugin: manifest and hook implementations.

procedures.py   三方联动 and 四议两公开 as data, one pure transition function
matters.py      议题: raise, move with a record per step, publish decisions and results
meetings.py     居民会议 / 居民代表会议 / 民主议事: 应到 from the register, 实到, quorum, motions, minutes
assemblies.py   业主大会 e-vote on core ballots (民法典 第278条 in core's owners_278 rule)
petitions.py    requests to call a meeting (1/5 of residents, 20% of owners)
committees.py   业委会: terms, posts, party vetting (红色业委会), 备案, 换届 reminders
covenants.py    居民公约 / 管理规约 versions with the vote or meeting that adopted each
settings.py     tenant settings (statutory defaults) and their thresholds
routes/         staff.py (pages), owners.py (residents' phone pages), api.py (JSON, bearer tokens)
glance.py       dashboard widget, node panel and figures, 我的 page
demo.py         双安社区 安顺乐居
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request

from core import hookimpl
from core.pluginhost.manifest import Action, Figure, Manifest, MenuItem, MySection, Panel, Widget
from core.web.context import ctx
from core.web.render import render_string
from plugins.self_governance import procedures
from plugins.self_governance.actions import (
    ASSEMBLY,
    CHECK_IN,
    COMMITTEE,
    COVENANT,
    MEETING,
    RAISE,
    SIGN,
    VET,
    VIEW,
    VOTE,
)
from plugins.self_governance.settings import NAME, Settings

_COMMUNITY = ("community_secretary", "community_worker")
_STAFF = ("subdistrict_officer", *_COMMUNITY, "grid_leader", "grid_worker", "party_admin")

MANIFEST = Manifest(
    name=NAME,
    pillar="居民自治",
    title_zh="居民自治",
    title_en="Resident self-governance",
    version="0.2.0",
    description_zh="三方联动、民主议事、业主大会表决（民法典第278条）、业委会、居民会议",
    description_en="Three-party linkage, deliberation, owners' votes (Civil Code art. 278), committees, meetings",
    settings=Settings,
    icon="居",
    actions=(
        Action(VIEW, "查看居民自治", "View resident self-governance", (*_STAFF, "building_head")),
        Action(RAISE, "提出议题", "Raise a matter", (*_STAFF, "building_head", "resident")),
        # 三方联动: with party_leadership on, a district grants the lead step to its party roles here.
        Action(
            procedures.LEAD,
            "党组织牵头（议题）",
            "Lead a matter (party organisation)",
            ("community_secretary", "party_admin"),
        ),
        Action(procedures.ORGANISE, "居委会组织（议题）", "Organise a matter (residents' committee)", _COMMUNITY),
        Action(
            procedures.EXECUTE,
            "业委会执行（议题）",
            "Carry out a matter (owners' committee)",
            (*_COMMUNITY, "building_head"),
        ),
        Action(MEETING, "组织会议与点名", "Run meetings and take attendance", _COMMUNITY),
        Action(CHECK_IN, "会议签到", "Check in at a meeting", ("resident",)),
        Action(ASSEMBLY, "组织业主大会表决", "Run owners' assembly votes", _COMMUNITY),
        Action(VOTE, "业主投票", "Vote as an owner", ("resident",)),
        Action(COMMITTEE, "管理业委会", "Keep owners' committees", _COMMUNITY),
        Action(VET, "业委会候选人审核", "Vet committee candidates", ("community_secretary", "party_admin")),
        Action(COVENANT, "公约备案", "File covenants", _COMMUNITY),
        Action(SIGN, "联名提议召开会议", "Sign a request for a meeting", ("resident",)),
    ),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_models() -> list[Any]:
    from plugins.self_governance.models import MODELS

    return list(MODELS)


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_routes() -> list[Any]:
    from plugins.self_governance.routes import api, owners, staff

    return [*staff.handlers, *owners.handlers, *api.handlers]


@hookimpl
async def dashboard_widgets(request: Request) -> list[Widget]:
    c = ctx(request)
    if not c.can(VIEW) or c.db is None:
        return []
    from plugins.self_governance import glance

    data = await glance.widget_context(c.db, c.scope_prefixes(VIEW), settings_of(request))
    html = render_string(request, "self_governance/widget.html", {"c": c, **data})
    return [Widget("居民自治", "Resident self-governance", html, 20, "/self-governance/")]


@hookimpl
async def node_figures(request: Request, node: Any, session: Any) -> list[Figure]:
    if node.kind not in ("district", "subdistrict", "town", "community", "grid", "estate"):
        return []
    from plugins.self_governance import glance

    return await glance.figures(session, node, settings_of(request))


@hookimpl
async def node_panels(request: Request, node: Any) -> list[Panel]:
    """A community's or estate's 公开栏 link and its figures."""
    c = ctx(request)
    if c.db is None or node.kind not in ("community", "grid", "estate") or not c.can(VIEW, node.path):
        return []
    from plugins.self_governance import glance

    figures = await glance.figures(c.db, node, settings_of(request))
    html = render_string(
        request, "self_governance/panel.html", {"c": c, "locale": c.locale, "node": node, "figures": figures}
    )
    return [Panel("居民自治", "Resident self-governance", html, 20)]


@hookimpl
async def my_page(request: Request, user_id: int, session: Any) -> MySection | None:
    from plugins.self_governance import glance

    return await glance.my_section(session, user_id)


@hookimpl
async def file_access(request: Request, file: Any) -> bool | None:
    """A proxy vote's signed document: staff who run the estate's votes."""
    if file.owner_type != "self_governance.proxy":
        return None
    c = ctx(request)
    if c.db is None or not file.owner_id:
        return False
    from core.services.errors import NotFound
    from plugins.self_governance import assemblies

    try:
        assembly = await assemblies.get(c.db, int(file.owner_id))
    except (NotFound, ValueError):
        return False
    return c.can(ASSEMBLY, assembly.node_path)


@hookimpl
async def usage_figures(session: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from core.i18n import translator
    from plugins.self_governance.models import Assembly, Matter

    _ = translator(NAME).gettext
    return {
        _("Matters raised"): int(await session.scalar(select(func.count(Matter.id))) or 0),
        _("Owners' assemblies"): int(await session.scalar(select(func.count(Assembly.id))) or 0),
    }


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any) -> None:
    """双安社区 安顺乐居: owners, the 红色业委会, votes, meetings, matters (see demo.py)."""
    from plugins.self_governance import demo

    await demo.seed(session, tenant, nodes)


def settings_of(request: Request) -> Settings:
    from plugins.self_governance.settings import of

    return of(ctx(request).plugin_settings.get(NAME))


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [
        MenuItem("居民自治", "Resident self-governance", "/self-governance/", VIEW, "居", 20),
        MenuItem("业主表决与议题", "Owners' votes and matters", "/self-governance/my/", (VOTE, RAISE), "票", 21),
    ]


@hookimpl
async def worklist_items(request: Request, session: Any) -> list[Any]:
    from plugins.self_governance import worklist

    return await worklist.items(request, session)


@hookimpl
def audit_terms() -> dict[str, Any]:
    """How the district's audit log names this pillar's records (people's names masked)."""
    from core.pluginhost.manifest import AuditTerm

    return {
        "sg_matters": AuditTerm("议题", "matter", label="title"),
        "sg_assemblies": AuditTerm("业主大会", "owners' assembly", label="title"),
        "sg_meetings": AuditTerm("议事会议", "meeting", label="title"),
        "sg_committees": AuditTerm("业委会", "owners' committee", label="name"),
        "sg_covenants": AuditTerm("居民公约", "covenant", label="title"),
        "sg_petitions": AuditTerm("居民联名", "petition", label="title"),
    }
