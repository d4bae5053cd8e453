"""党建领治 — party leadership. The table of contents of the plugin: manifest and hook implementations.

models.py       tables (tenant-owned, tenant_id in every key)
rules.py        pure rules: project states, 五事联办 routing, 评议 scoring, agreement status
settings.py     the tenant's local practice (targets, marks, points, categories, terms)
members.py      双报到: units, members, posts, party activities, 服务记录卡, quarterly feedback
review.py       年度评议 and its export
lists.py        三项清单: needs, resources, projects (认领 → done), notice-board publication
agreements.py   共建协议 and the expiry reminder job
committees.py   大工委/大党委, 联席会议 and decisions
matters.py      五事联办
captains.py     网络楼长
figures.py      the 双报到 overview and headline figures
routes/         staff pages, the member's phone pages, the JSON API
demo/           demo data for 双滦区
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from litestar import Request

from core import hookimpl
from core.pluginhost.manifest import Action, DeclaredRole, Figure, Manifest, MenuItem, MySection, Panel, Widget
from core.rbac.defaults import STAFF_GRANTS
from core.services.jobs.runner import JobSpec
from core.web.context import ctx
from core.web.render import render_string
from plugins.party_leadership.settings import NAME, Settings

VIEW = f"{NAME}.view"
LISTS = f"{NAME}.lists.edit"
MEMBERS_VIEW = f"{NAME}.members.view"
MEMBERS_EDIT = f"{NAME}.members.edit"
COMMITTEE = f"{NAME}.committee.edit"
AGREEMENTS = f"{NAME}.agreement.edit"
MATTERS = f"{NAME}.matter.file"
REVIEW = f"{NAME}.review.run"

_PARTY = ("party_admin", "community_secretary")  # the party roles: the only ones who see membership data

MANIFEST = Manifest(
    name=NAME,
    pillar="党建领治",
    title_zh="党建领治",
    title_en="Party leadership",
    version="1.0.0",
    description_zh="大工委/大党委、三项清单、共建协议、五事联办、双报到、网络楼长",
    description_en="Joint committees, three lists, co-building agreements, five joint matters, "
    "dual registration, online building captains",
    settings=Settings,
    icon="党",
    actions=(
        Action(VIEW, "查看党建领治", "View party leadership", (*_PARTY, "subdistrict_officer", "community_worker")),
        Action(LISTS, "维护三项清单与项目", "Keep the three lists and projects", (*_PARTY, "community_worker")),
        # Party membership is sensitive personal information (个人信息保护法 第28条): party roles only.
        Action(MEMBERS_VIEW, "查看党员与报到信息", "View party members and registrations", _PARTY),
        Action(MEMBERS_EDIT, "登记报到、岗位与服务记录", "Register members, posts and service", _PARTY),
        Action(COMMITTEE, "维护大工委/大党委与联席会议", "Keep joint committees and meetings", _PARTY),
        Action(AGREEMENTS, "维护共建协议", "Keep co-building agreements", _PARTY),
        Action(MATTERS, "五事联办", "File and route joint matters", (*_PARTY, "community_worker")),
        Action(REVIEW, "年度评议与导出", "Run and export the yearly review", _PARTY),
    ),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_roles() -> list[DeclaredRole]:
    return [DeclaredRole("party_admin", "党组织管理员", "Party organisation admin", STAFF_GRANTS)]


@hookimpl
def register_models() -> list[Any]:
    from plugins.party_leadership.models import MODELS

    return list(MODELS)


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_jobs() -> list[JobSpec]:
    """共建协议 reminders before expiry: when one falls due (agreements.py moves the job's slot;
    an hour apart at most), each reminder once across processes."""
    from plugins.party_leadership import agreements

    return [JobSpec(agreements.REMIND_JOB, agreements.reminder_job, every_seconds=3600)]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.party_leadership.routes import (
        agreements,
        api,
        buildings,
        committees,
        matters,
        me,
        members,
        overview,
        posts,
        projects,
        review,
        units,
    )

    return [
        *overview.handlers,  # headline figures and hours served per unit
        *projects.handlers,  # 三项清单 and projects
        *agreements.handlers,  # 共建协议 and the actions taken on them
        *committees.handlers,  # 大工委/大党委, 联席会议 and decisions
        *matters.handlers,  # 五事联办
        *buildings.handlers,  # 网络楼长 coverage
        *units.handlers,  # 双报到 units and their quarterly feedback (party roles only)
        *members.handlers,  # 双报到 members and their 服务记录卡
        *posts.handlers,  # service posts, party activities and attendance
        *review.handlers,  # 年度评议 and its export; an employer's view of its members' results
        *me.handlers,  # the member's phone pages: report in, posts, activities, hours, buildings
        *api.handlers,  # /api/v1/party/… for a mini-program
    ]


@hookimpl
async def on_plugin_enabled(tenant: Any, session: Any) -> None:
    """The tenant role that lets reported members join the community's party activities."""
    from plugins.party_leadership.members import ensure_member_role

    await ensure_member_role(session)


@hookimpl
async def file_access(request: Request, file: Any) -> bool | None:
    """Project photos and signed agreements: staff whose scope covers the community."""
    from sqlalchemy import select

    from plugins.party_leadership.models import Agreement, Project

    if file.owner_type == "core.documents":
        return await _receipt_access(request, file)
    if file.owner_type not in (f"{NAME}.project", f"{NAME}.agreement"):
        return None
    c = ctx(request)
    if c.db is None or c.user is None or not file.owner_id:
        return False
    model, action = (Project, VIEW) if file.owner_type == f"{NAME}.project" else (Agreement, AGREEMENTS)
    path = await c.db.scalar(select(model.node_path).where(model.id == int(file.owner_id)))
    return path is not None and c.can(action, path)


async def _receipt_access(request: Request, file: Any) -> bool | None:
    """报到回执 PDFs: the member, the unit's contact, party staff in scope. Other documents: not ours."""
    from sqlalchemy import select

    from core.services.documents.models import Document
    from plugins.party_leadership.models import Member, Unit

    c = ctx(request)
    if c.db is None or c.user is None:
        return None
    doc = await c.db.scalar(select(Document).where(Document.file_id == file.id, Document.source == NAME))
    if doc is None or not doc.subject_id:
        return None
    member = unit = None
    if doc.subject_type == f"{NAME}.member":
        member = await c.db.scalar(select(Member).where(Member.id == int(doc.subject_id)))
        if member is not None and member.unit_id:
            unit = await c.db.scalar(select(Unit).where(Unit.id == member.unit_id))
    elif doc.subject_type == f"{NAME}.unit":
        unit = await c.db.scalar(select(Unit).where(Unit.id == int(doc.subject_id)))
    if member is not None and member.user_id == c.user.id:
        return True
    if unit is not None and unit.contact_user_id == c.user.id:
        return True
    return c.can(MEMBERS_VIEW, doc.node_path) if doc.node_path else False


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any, storage: Any) -> None:
    """For 双滦区: units, members, projects, agreements and captains at the seed's sizes."""
    from plugins.party_leadership import demo

    await demo.seed(session, tenant, nodes)


@hookimpl
async def usage_figures(session: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from core.i18n import gettext as _
    from plugins.party_leadership.models import Member, Unit

    units = await session.scalar(select(func.count(Unit.id)))
    members = await session.scalar(select(func.count(Member.id)))
    return {_("Units reported"): int(units or 0), _("Members reported"): int(members or 0)}


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [
        MenuItem("党建领治", "Party leadership", "/party/", VIEW, "党", 10),
        MenuItem("我的报到", "My party service", "/party/me", None, "报", 11),
    ]


@hookimpl
async def dashboard_widgets(request: Request) -> list[Widget]:
    from plugins.party_leadership import figures

    c = ctx(request)
    if not c.can(VIEW) or c.db is None:
        return []
    head = await figures.headline(c.db, c.scope_prefixes(VIEW), date.today().year)
    html = render_string(request, "party_leadership/widget.html", {"h": head})
    return [Widget("党建领治", "Party leadership", html, 10, "/party/")]


@hookimpl
async def node_panels(request: Request, node: Any) -> list[Panel]:
    """The node's 双报到, projects and captains, for staff who see the pillar there."""
    from plugins.party_leadership import figures

    c = ctx(request)
    if c.db is None or not c.can(VIEW, node.path):
        return []
    head = await figures.headline(c.db, [node.path], date.today().year)
    html = render_string(request, "party_leadership/widget.html", {"h": head})
    return [Panel("党建领治", "Party leadership", html, 10)]


@hookimpl
async def node_figures(request: Request, node: Any, session: Any) -> list[Figure]:
    """A community's (or the district's) 双报到 and 三项清单 at a glance."""
    from plugins.party_leadership import figures

    h = await figures.headline(session, [node.path], date.today().year)
    if not (h.units or h.members or h.projects_open or h.projects_done or h.with_captain):
        return []
    return [
        Figure("报到单位", "Units reported", h.units, "个", "", "/party/", 10),
        Figure("报到党员", "Members reported", h.members, "名", "", "/party/", 11),
        Figure("今年服务时长", "Hours served this year", float(h.hours), "小时", "h", "/party/", 12),
        Figure(
            "项目（进行中/完成）",
            "Projects open / done",
            f"{h.projects_open}/{h.projects_done}",
            "",
            "",
            "/party/lists",
            13,
        ),
        Figure("有网络楼长的楼栋", "Buildings with a captain", h.with_captain, "栋", "", "/party/buildings", 14),
        Figure("无网络楼长的楼栋", "Buildings without a captain", h.without_captain, "栋", "", "/party/buildings", 15),
    ]


@hookimpl
async def my_page(request: Request, user_id: int, session: Any) -> MySection | None:
    """A member's hours and posts; a resident's building captain (group link and contact)."""
    from plugins.party_leadership import captains, members
    from plugins.party_leadership.settings import settings_of

    out_figures: list[Figure] = []
    html = ""
    member = await members.member_of_user(session, user_id)
    year = date.today().year
    if member is not None:
        card = await members.service_card(session, member, year)
        target = settings_of(await _settings(session)).annual_hours_target
        out_figures.append(
            Figure("今年服务时长", "Hours served this year", float(card.hours), "小时", "h", "/party/me")
        )
        out_figures.append(Figure("年度目标", "Yearly target", target, "小时", "h", "/party/me"))
        out_figures.append(Figure("认领岗位", "Posts held", len(await members.posts_of(session, member.id)), "个", ""))
    from core.services.accounts import linked_resident

    resident = await linked_resident(session, user_id)
    if resident is not None:
        from sqlalchemy import select

        from core.grids.basedata import Residence

        paths = list(
            (
                await session.execute(
                    select(Residence.node_id).where(Residence.resident_id == resident.id, Residence.moved_out.is_(None))
                )
            ).scalars()
        )
        from core.grids.models import GridNode

        node_paths = (
            list((await session.execute(select(GridNode.path).where(GridNode.id.in_(paths)))).scalars())
            if paths
            else []
        )
        mine = await captains.for_resident_paths(session, node_paths)
        if mine:
            names = await _captain_names(session, [c.member_id for c, _n in mine])
            html = render_string(
                request,
                "party_leadership/_my_building.html",
                {"rows": [(c, n, names.get(c.member_id, "")) for c, n in mine]},
            )
    if not out_figures and not html:
        return None
    return MySection("党建领治", "Party leadership", tuple(out_figures), html, "/party/me", 10)


async def _settings(session: Any) -> dict[str, Any] | None:
    from sqlalchemy import select

    from core.tenancy.models import TenantPlugin

    return await session.scalar(select(TenantPlugin.settings).where(TenantPlugin.plugin == NAME))


async def _captain_names(session: Any, member_ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    from plugins.party_leadership.models import Member

    return dict((await session.execute(select(Member.id, Member.name).where(Member.id.in_(member_ids)))).all())


@hookimpl
async def worklist_items(request: Request, session: Any) -> list[Any]:
    from plugins.party_leadership import worklist

    return await worklist.items(request, session, {"matters": MATTERS, "lists": LISTS, "view": VIEW})


@hookimpl
def audit_terms() -> dict[str, Any]:
    """How the district's audit log names this pillar's records (people's names masked)."""
    from core.pluginhost.manifest import AuditTerm

    return {
        "pl_members": AuditTerm("党员", "party member", label="name", mask=True),
        "pl_units": AuditTerm("报到单位", "reporting unit", label="name"),
        "pl_matters": AuditTerm("报到事项", "matter", label="title"),
        "pl_needs": AuditTerm("需求清单", "need", label="title"),
        "pl_projects": AuditTerm("项目清单", "project", label="title"),
        "pl_agreements": AuditTerm("共建协议", "agreement", label="title"),
        "pl_meetings": AuditTerm("联席会议", "joint meeting", label="title"),
    }
