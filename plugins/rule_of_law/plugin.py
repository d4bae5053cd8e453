"""平安法治 — safety and rule of law. The table of contents of the plugin: manifest and hook implementations.

- ``rules.py``      time limits and the team composition rule (each encoded once)
- ``mediation.py``  the people's-mediation state machine (pure)
- ``cases.py``      cases: open, confidentiality, steps, lists; ``overdue.py`` the periodic flag
- ``screening.py``  矛盾纠纷排查 visits and disputes, handed to mediation or to an event
- ``referrals.py``  disputes ↔ smart-service events, linked both ways through core events and jobs
- ``teams.py``      全科网格 teams "1+1+X+Y"
- ``documents.py``  the agreement (第29条) and the case file (卷宗) as PDFs through core.services.documents
- ``sensitive.py``  特殊人群 registers and counselling notes, every read logged
- ``petitions.py``, ``counselling.py``  律师参与信访, 心理咨询
- ``indicators.py`` the headline figures; ``routes/`` pages and the JSON API; ``demo.py`` demo data
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request

from core import hookimpl
from core.pluginhost.manifest import Action, DeclaredRole, Figure, Manifest, MenuItem, MySection, Panel, Widget
from core.rbac.defaults import STAFF_GRANTS
from core.services.jobs.runner import JobSpec
from core.web.context import ctx
from core.web.render import render_string

NAME = "rule_of_law"
VIEW = f"{NAME}.view"
SCREEN = f"{NAME}.screening.record"
TEAM_EDIT = f"{NAME}.team.edit"
CASE_ACCEPT = f"{NAME}.case.accept"
CASE_READ = f"{NAME}.case.read"
SPECIAL_VIEW = f"{NAME}.special.view"
SPECIAL_EDIT = f"{NAME}.special.edit"
ACCESS_LOG = f"{NAME}.access_log.view"
PETITION_MANAGE = f"{NAME}.petition.manage"
PETITION_ADVISE = f"{NAME}.petition.advise"
COUNSEL = f"{NAME}.counselling.counsel"
BOOK = f"{NAME}.counselling.book"
REFER = f"{NAME}.counselling.refer"

# The roles this pillar brings to every district (``register_roles``); their grants of the pillar's
# own actions are the Actions' default roles below.
ROLES: tuple[DeclaredRole, ...] = (
    DeclaredRole("mediator", "调解员", "Mediator", STAFF_GRANTS),
    DeclaredRole("lawyer", "律师", "Lawyer", ()),
    DeclaredRole("counsellor", "心理咨询师", "Counsellor", ()),
    DeclaredRole("register_officer", "特殊人群专管员", "Special-population officer", ("core.grid.view",)),
)


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings (local practice), validated by msgspec; the admin form is generated from these."""

    mediation_months: Annotated[int, msgspec.Meta(ge=1, le=6, title="调解期限（月） Mediation period (months)")] = 1
    confirmation_days: Annotated[
        int, msgspec.Meta(ge=1, le=90, title="司法确认申请期限（天） Judicial confirmation period (days)")
    ] = 30
    team_min_instructors: Annotated[int, msgspec.Meta(ge=0, le=5, title="团队指导员人数 Team instructors")] = 1
    team_min_leaders: Annotated[int, msgspec.Meta(ge=0, le=5, title="团队网格长人数 Team grid heads")] = 1
    team_min_part_time: Annotated[int, msgspec.Meta(ge=0, le=50, title="兼职网格员至少（X） Part-time members (X)")] = 2
    team_min_other_forces: Annotated[int, msgspec.Meta(ge=0, le=50, title="其他力量至少（Y） Other forces (Y)")] = 1
    counselling_rooms: Annotated[
        str, msgspec.Meta(max_length=300, title="心理咨询室（逗号分隔） Counselling rooms (comma-separated)")
    ] = "行宫社区心理咨询室,输送机社区心理咨询室"


_GRID = ("grid_worker", "grid_leader")
_COMMUNITY = ("community_secretary", "community_worker")

MANIFEST = Manifest(
    name=NAME,
    pillar="平安法治",
    title_zh="平安法治",
    title_en="Safety and rule of law",
    version="0.2.0",
    description_zh="全科网格、矛盾纠纷排查、人民调解、律师参与信访、心理咨询、特殊人群",
    description_en="Comprehensive grids, dispute screening, people's mediation, petitions, counselling, registers",
    settings=Settings,
    icon="安",
    actions=(
        Action(
            VIEW,
            "查看平安法治",
            "View safety and rule of law",
            ("subdistrict_officer", *_COMMUNITY, *_GRID, "mediator"),
        ),
        Action(SCREEN, "矛盾纠纷排查", "Record dispute screening", (*_GRID, *_COMMUNITY)),
        Action(TEAM_EDIT, "组建网格团队", "Form grid teams", ("subdistrict_officer", "community_secretary")),
        Action(CASE_ACCEPT, "受理调解案件", "Accept mediation cases", ("mediator",)),
        # 第15条: case contents are for the case's own mediators; others need this grant.
        Action(CASE_READ, "查阅调解卷宗", "Read mediation case files", ()),
        Action(
            PETITION_MANAGE, "登记信访并指派律师", "Register petitions and assign lawyers", ("subdistrict_officer",)
        ),
        Action(PETITION_ADVISE, "律师参与信访", "Advise on petitions", ("lawyer",)),
        Action(BOOK, "预约心理咨询", "Book counselling", ("resident",)),
        Action(REFER, "转介心理咨询", "Refer to counselling", (*_COMMUNITY, *_GRID)),
        Action(COUNSEL, "心理咨询", "Counsel", ("counsellor",)),
        # Sensitive registers: only the pillar's own officer role (and the district admin's "*").
        Action(SPECIAL_VIEW, "查看特殊人群", "View special-population registers", ("register_officer",)),
        Action(SPECIAL_EDIT, "维护特殊人群与走访", "Edit registers and record visits", ("register_officer",)),
        Action(ACCESS_LOG, "查看敏感信息访问日志", "View the sensitive-data access log", ()),
    ),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_models() -> list[Any]:
    from plugins.rule_of_law.models import MODELS

    return list(MODELS)


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_jobs() -> list[JobSpec]:
    """Overdue mediation cases flagged when one falls due (overdue.py moves its slot; ten minutes
    apart at most), a case once across processes.
    And the referral jobs (referrals.py) that link disputes and smart-service events both ways."""
    from plugins.rule_of_law import overdue, referrals

    return [JobSpec(overdue.JOB, overdue.job, every_seconds=600), *referrals.JOBS]


@hookimpl
async def on_event(tenant_id: int, event: Any, context: Any) -> None:
    """An event referred to mediation, or smart_service's answer to a dispute handed on: queue the
    job that opens the dispute or links it (referrals.py)."""
    if event.name.startswith("smart_service.referral."):
        from plugins.rule_of_law import referrals

        await referrals.hear(tenant_id, event, context)


@hookimpl
def register_routes() -> list[Any]:
    from plugins.rule_of_law.routes import handlers

    return handlers()


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any, storage: Any) -> None:
    from plugins.rule_of_law import demo

    await demo.seed(session, tenant, nodes, storage=storage)


@hookimpl
async def usage_figures(session: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from core.i18n import gettext as _
    from plugins.rule_of_law.models import Case, Dispute

    return {
        _("Disputes screened"): int(await session.scalar(select(func.count(Dispute.id))) or 0),
        _("Mediation cases"): int(await session.scalar(select(func.count(Case.id))) or 0),
    }


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [
        MenuItem("平安法治", "Safety and rule of law", "/rule-of-law/", VIEW, "安", 50),
        MenuItem("人民调解", "Mediation", "/rule-of-law/cases/", (VIEW, CASE_ACCEPT, CASE_READ), "调", 51),
        MenuItem("矛盾纠纷排查", "Dispute screening", "/rule-of-law/screening/new", SCREEN, "排", 52),
        MenuItem("律师参与信访", "Petitions", "/rule-of-law/petitions/", (PETITION_MANAGE, PETITION_ADVISE), "信", 53),
        MenuItem("心理咨询", "Counselling", "/rule-of-law/counselling/", (COUNSEL, REFER, BOOK), "心", 54),
        MenuItem("特殊人群", "Special registers", "/rule-of-law/registers/", SPECIAL_VIEW, "特", 55),
    ]


async def _figures(c: Any, prefixes: list[str]) -> Any:
    from plugins.rule_of_law import indicators

    return await indicators.figures(c.db, prefixes, c.plugin_settings.get(NAME, {}))


@hookimpl
async def dashboard_widgets(request: Request) -> list[Widget]:
    c = ctx(request)
    if not c.can(VIEW) or c.db is None:
        return []
    f = await _figures(c, c.scope_prefixes(VIEW))
    html = render_string(request, "rule_of_law/widget.html", {"f": f, "c": c})
    return [Widget("平安法治", "Safety and rule of law", html, 50, "/rule-of-law/")]


@hookimpl
async def node_panels(request: Request, node: Any) -> list[Panel]:
    """The figures for a node's subtree on its page (only for staff whose scope covers it)."""
    c = ctx(request)
    if c.db is None or not c.can(VIEW, node.path):
        return []
    f = await _figures(c, [node.path])
    html = render_string(request, "rule_of_law/widget.html", {"f": f, "c": c})
    return [Panel("平安法治", "Safety and rule of law", html, 50)]


@hookimpl
async def node_figures(request: Request, node: Any, session: Any) -> list[Figure]:
    from plugins.rule_of_law import indicators

    f = await indicators.figures(session, [node.path], ctx(request).plugin_settings.get(NAME, {}))
    href = f"/rule-of-law/?node={node.id}"
    out = [
        Figure("排查纠纷", "Disputes screened", f.disputes, "件", "", href, 50),
        Figure("调解中", "Cases open", f.cases_open, "件", "", href, 51),
        Figure("已办结", "Cases closed", f.cases_closed, "件", "", href, 52),
        Figure("超期案件", "Overdue cases", f.overdue, "件", "", href, 54),
        Figure("团队不齐", "Incomplete teams", f.teams_incomplete, "支", "", href, 56),
    ]
    if f.success_rate is not None:
        out.append(Figure("调解成功率", "Success rate", f.success_rate, "%", "%", href, 53))
    if f.average_days is not None:
        out.append(Figure("平均办结天数", "Average days to close", f.average_days, "天", "days", href, 55))
    return out


@hookimpl
async def my_page(request: Request, user_id: int, session: Any) -> MySection | None:
    from plugins.rule_of_law import counselling

    mine = [a for a in await counselling.of_resident(session, user_id) if a.state == "booked"]
    if not mine:
        return None
    return MySection(
        "心理咨询",
        "Counselling",
        figures=(Figure("已预约", "Booked", len(mine), "次", ""),),
        href="/rule-of-law/counselling/",
        order=50,
    )


@hookimpl
def register_roles() -> list[DeclaredRole]:
    """调解员 (a built-in role of every district, declared here rather than in core's list), and the
    pillar's 律师, 心理咨询师 and 特殊人群专管员."""
    return list(ROLES)


@hookimpl
async def worklist_items(request: Request, session: Any) -> list[Any]:
    from plugins.rule_of_law import worklist

    actions = {"view": VIEW, "accept": CASE_ACCEPT, "read": CASE_READ, "petition": PETITION_MANAGE}
    return await worklist.items(request, session, actions)


@hookimpl
def audit_terms() -> dict[str, Any]:
    """How the district's audit log names this pillar's records (people's names masked)."""
    from core.pluginhost.manifest import AuditTerm

    return {
        "rl_cases": AuditTerm("调解案件", "mediation case", label="number"),
        "rl_disputes": AuditTerm("矛盾纠纷", "dispute", label="number"),
        "rl_petitions": AuditTerm("信访事项", "petition", label="number"),
        "rl_special_people": AuditTerm("特殊人群人员", "special-register person", label="name", mask=True),
        "rl_teams": AuditTerm("调解队伍", "mediation team", label="name"),
    }
