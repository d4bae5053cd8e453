"""社会共治 — social co-governance. The table of contents of the plugin: manifest and hook implementations.

volunteers.py (registration, teams, activities, service records and points) · store.py (雷锋超市)
· homeservice.py (家政服务超市, purchased services) · training.py · property.py (红色物业) · rules.py
(star levels, points rules, volunteer numbers) · figures.py (widget, node, 我的) · routes/ · demo.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request

from core import hookimpl
from core.pluginhost.manifest import Action, DeclaredRole, Figure, Manifest, MenuItem, MySection, Panel, Widget
from core.web.context import ctx
from core.web.render import render_string
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


@hookimpl
def register_routes() -> list[Any]:
    from plugins.co_governance.routes import api, property, services, staff, store_staff, training, volunteer

    return [
        *staff.handlers,  # overview, volunteers, teams, activities with check-in/out and hours
        *volunteer.handlers,  # the volunteer's phone pages: register, sign up, code, store, certificate
        *store_staff.handlers,  # 雷锋超市 catalogue, hand-over and cancellation
        *services.handlers,  # 家政服务超市: offers, bookings, ratings; providers and contracts
        *training.handlers,  # courses, trainees, employment
        *property.handlers,  # 红色物业 companies, party coverage, quarterly reviews
        *api.handlers,  # /api/v1/co-governance/… for a mini-program
    ]


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [
        MenuItem("社会共治", "Social co-governance", "/co-governance/", VIEW, "社", 40),
        MenuItem("志愿服务", "Volunteering", "/co-governance/me/", VOLUNTEER_SELF, "志", 41),
        MenuItem("家政服务", "Home services", "/co-governance/services/", SERVICE_BOOK, "家", 42),
        MenuItem("物业评价", "Property reviews", "/co-governance/property/", PROPERTY_REVIEW, "物", 43),
    ]


@hookimpl
async def dashboard_widgets(request: Request) -> list[Widget]:
    """Volunteers, hours this year, points issued and redeemed, bookings, trained and employed."""
    from plugins.co_governance import figures

    c = ctx(request)
    if not c.can(VIEW) or c.db is None:
        return []
    head = await figures.headline(c.db, c.scope_prefixes(VIEW))
    html = render_string(request, "co_governance/widget.html", {"head": head})
    return [Widget("社会共治", "Social co-governance", html, 40, "/co-governance/")]


@hookimpl
def register_roles() -> list[DeclaredRole]:
    """A built-in role of every district, declared here rather than in core's list."""
    return [
        DeclaredRole(
            "volunteer", "志愿者", "Volunteer", ("core.files.upload", "core.activity.join", "core.ballot.vote")
        )
    ]


@hookimpl
async def node_figures(request: Request, node: Any, session: Any) -> list[Figure]:
    from plugins.co_governance import figures

    head = await figures.headline(session, [node.path])
    return [
        Figure("志愿者", "Volunteers", head.volunteers, "人", "", "/co-governance/volunteers/", 40),
        Figure("今年志愿服务时长", "Volunteer hours this year", str(head.hours_year), "小时", "h", None, 41),
        Figure("今年发放积分", "Points issued this year", str(head.points_issued), "分", "pts", None, 42),
        Figure("已兑换积分", "Points redeemed", head.points_redeemed, "分", "pts", None, 43),
        Figure("家政预约", "Home-service bookings", head.bookings, "单", "", None, 44),
        Figure("培训结业 / 就业", "Trained / employed", f"{head.trained} / {head.employed}", "人", "", None, 45),
    ]


@hookimpl
async def node_panels(request: Request, node: Any) -> list[Panel]:
    from plugins.co_governance import figures

    c = ctx(request)
    if c.db is None or not c.can(VIEW, node.path):
        return []
    head = await figures.headline(c.db, [node.path])
    return [
        Panel(
            "社会共治", "Social co-governance", render_string(request, "co_governance/widget.html", {"head": head}), 40
        )
    ]


@hookimpl
async def my_page(request: Request, user_id: int, session: Any) -> MySection | None:
    """A volunteer's number, hours, star level and points; nothing for someone not registered."""
    from plugins.co_governance import rules, volunteers

    volunteer = await volunteers.by_user(session, user_id)
    if volunteer is None:
        return None
    standing = await volunteers.standing(session, volunteer)
    return MySection(
        "志愿服务",
        "Volunteering",
        figures=(
            Figure("累计服务时长", "Hours in all", str(standing.hours), "小时", "h"),
            Figure("星级", "Star level", rules.STAR_NAMES[standing.star] or "—", "", ""),
            Figure("志愿积分", "Points", str(standing.points), "分", "pts", "/co-governance/store/"),
        ),
        href="/co-governance/me/",
        order=40,
    )


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any, storage: Any) -> None:
    """双滦区 at the seed's sizes (684 trained, 473 employed, 26 property companies …), in bulk."""
    from plugins.co_governance import demo

    await demo.seed(session, tenant, nodes)


@hookimpl
async def usage_figures(session: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from core.i18n import gettext as _
    from plugins.co_governance.models import Redemption, Volunteer

    return {
        _("Volunteers"): int(await session.scalar(select(func.count(Volunteer.id))) or 0),
        _("Redemptions"): int(await session.scalar(select(func.count(Redemption.id))) or 0),
    }


@hookimpl
async def on_event(tenant_id: int, event: Any, app_state: Any) -> None:
    """Hours served at any pillar's activity (a party member's service, say) count here once the
    person is a registered volunteer: the record and points follow the check-out. Idempotent, so
    the pillar's own check-out path (which records at once) and this listener never double-count."""
    if event.name not in ("activity.attended", "activity.hours_changed") or app_state is None:
        return
    payload = event.payload
    if payload.get("source") == NAME:
        return  # recorded in the same transaction by our own routes
    from plugins.co_governance import rules, settings, volunteers

    db = getattr(app_state, "db", None)
    if db is None:
        return
    async with db.transaction(tenant_id) as s:
        from core.tenancy.models import TenantPlugin

        row = await s.scalar(select_settings(TenantPlugin))
        rule = rules.PointsRule.of(settings.of(row or {}))
        await volunteers.record_attendance(s, int(payload["activity_id"]), int(payload["user_id"]), rule)


def select_settings(model: Any) -> Any:
    from sqlalchemy import select

    return select(model.settings).where(model.plugin == NAME)


@hookimpl
async def worklist_items(request: Request, session: Any) -> list[Any]:
    from plugins.co_governance import worklist

    return await worklist.items(request, session, {"service": SERVICE_MANAGE, "store": STORE_MANAGE})


@hookimpl
def audit_terms() -> dict[str, Any]:
    """How the district's audit log names this pillar's records (people's names masked)."""
    from core.pluginhost.manifest import AuditTerm

    return {
        "cg_volunteers": AuditTerm("志愿者", "volunteer", label="name", mask=True),
        "cg_teams": AuditTerm("志愿服务队", "volunteer team", label="name"),
        "cg_bookings": AuditTerm("家政预约", "home-service booking", label="number"),
        "cg_redemptions": AuditTerm("积分兑换", "redemption", label="number"),
        "cg_store_items": AuditTerm("兑换商品", "store item", label="name"),
        "cg_property_companies": AuditTerm("物业企业", "property company", label="name"),
        "cg_courses": AuditTerm("培训课程", "course", label="title"),
    }
