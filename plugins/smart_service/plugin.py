"""服务智治 — smart service. The table of contents of the plugin: manifest and hook implementations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request

from core import hookimpl
from core.pluginhost.manifest import Action, DeclaredRole, Manifest, MenuItem, Widget
from core.services.jobs.runner import JobSpec
from core.web.context import ctx
from core.web.render import render_string
from plugins.smart_service import services

NAME = "smart_service"
VIEW = f"{NAME}.view"
# http(s), a host (t{s}.… for subdomains), then a path holding {z}, {x} and {y}; or empty.
TILE_URL_PATTERN = r"^$|^https?://[A-Za-z0-9.{}-]+(:[0-9]+)?/(?=.*\{z\})(?=.*\{x\})(?=.*\{y\})[^\s\"'<>\\]*$"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Tenant settings, validated by msgspec; the admin form is generated from these fields."""

    # A base map under the boundaries (天地图 or the district's own tile server, WGS84/CGCS2000 Web
    # Mercator tiles); empty: the boundaries alone on a plain background. routes/maps.py reads it.
    map_tile_url: Annotated[
        str,
        msgspec.Meta(
            max_length=500,
            pattern=TILE_URL_PATTERN,
            title="底图瓦片地址 Base-map tile URL",
            description="https://…{z}…{x}…{y}…（天地图可用 t{s} 子域名与 tk 密钥）；留空则只画边界",
        ),
    ] = ""
    map_tile_attribution: Annotated[str, msgspec.Meta(max_length=200, title="底图署名 Base-map attribution")] = ""

    hotline: Annotated[str, msgspec.Meta(max_length=20, title="服务热线 Hotline")] = "12345"
    proxy_service_days: Annotated[int, msgspec.Meta(ge=1, le=30, title="代办时限（工作日） Proxy service days")] = 5
    allow_anonymous_reports: Annotated[bool, msgspec.Meta(title="允许匿名随手拍 Allow anonymous reports")] = False
    notify_by_sms: Annotated[bool, msgspec.Meta(title="短信通知 Notify by SMS")] = True
    notify_by_wechat: Annotated[bool, msgspec.Meta(title="微信通知 Notify by WeChat")] = True
    work_order_adapter: Annotated[
        str, msgspec.Meta(max_length=50, pattern=r"^[a-z0-9_.-]+$", title="12345 工单接口 Work-order adapter")
    ] = "log"
    # 综合指标 weights (local practice; indicators.COMPOSITE): relative, need not add up to 100.
    weight_on_time_closure: Annotated[int, msgspec.Meta(ge=0, le=100, title="按期结案率权重 Weight: on time")] = 40
    weight_on_time_handling: Annotated[int, msgspec.Meta(ge=0, le=100, title="按期处置率权重 Weight: handled")] = 30
    weight_rework: Annotated[int, msgspec.Meta(ge=0, le=100, title="返工率权重 Weight: rework (inverted)")] = 10
    weight_satisfaction: Annotated[int, msgspec.Meta(ge=0, le=100, title="满意率权重 Weight: satisfaction")] = 20
    dispute_category: Annotated[
        str, msgspec.Meta(max_length=32, title="转入纠纷的事件分类代码 Category code for referred disputes")
    ] = ""


_COMMUNITY = ("community_secretary", "community_worker")
_GRID = ("grid_worker", "grid_leader")
# Roles this pillar brings: staff of a 区直部门 who work their unit's queue, and the account 12345's
# system (or its operators) uses to enter orders and answer with the caller's evaluation.
ROLES: tuple[DeclaredRole, ...] = (
    DeclaredRole("department_staff", "区直部门工作人员", "Department staff", ()),
    DeclaredRole("hotline_operator", "12345 热线接线员", "12345 hotline operator", ()),
)

MANIFEST = Manifest(
    name=NAME,
    pillar="服务智治",
    title_zh="服务智治",
    title_en="Smart service",
    version="0.1.0",
    description_zh="事件闭环、三级派遣、随手拍、预约代办、Open311",
    description_en="Closed-loop events, three-level dispatch, resident reports, proxy services, Open311",
    settings=Settings,
    icon="服",
    actions=(
        Action(
            VIEW,
            "查看服务智治",
            "View smart service",
            (
                "subdistrict_officer",
                "community_secretary",
                "community_worker",
                "grid_leader",
                "grid_worker",
                "hotline_operator",  # follows the orders it entered, wherever they went
            ),
        ),
        # The event lifecycle (lifecycle.py names which of these each transition needs). The district
        # command centre is district_admin, who has every action.
        Action(
            f"{NAME}.event.report",
            "上报事件",
            "Report an event",
            ("grid_worker", "grid_leader", *_COMMUNITY, "resident"),
        ),
        Action(f"{NAME}.event.accept", "受理事件", "Accept an event", _COMMUNITY),
        Action(f"{NAME}.event.register", "立案", "Register an event", _COMMUNITY),
        Action(
            f"{NAME}.event.dispatch", "派遣与改派", "Dispatch and re-dispatch", (*_COMMUNITY, "subdistrict_officer")
        ),
        Action(f"{NAME}.event.sign", "签收事件", "Sign for an event", ("grid_worker", "grid_leader")),
        Action(f"{NAME}.event.handle", "处置与反馈", "Handle and report the result", ("grid_worker", "grid_leader")),
        Action(f"{NAME}.event.return", "退单", "Return an event", ("grid_worker", "grid_leader")),
        Action(f"{NAME}.event.inspect", "核查与返工", "Inspect or send back for rework", _COMMUNITY),
        Action(f"{NAME}.event.close", "结案", "Close an event", _COMMUNITY),
        Action(f"{NAME}.event.merge", "并单", "Merge duplicate events", (*_COMMUNITY, "subdistrict_officer")),
        Action(f"{NAME}.event.approve", "审批延期与挂账", "Approve extensions and parking", ("subdistrict_officer",)),
        Action(f"{NAME}.event.supervise", "督办", "Supervise an event", ("subdistrict_officer",)),
        Action(f"{NAME}.event.rate", "评价结果", "Rate the result", ("resident",)),
        Action(f"{NAME}.event.revisit", "回访", "Record a follow-up visit", _COMMUNITY),
        Action(
            f"{NAME}.event.reopen", "重办", "Reopen for handling again", ("hotline_operator", "subdistrict_officer")
        ),
        # Queues, intake channels, following an area (units.py, workorders.py, follows).
        Action(
            f"{NAME}.unit.work",
            "处理本单位待办",
            "Work my unit's queue",
            ("department_staff", "subdistrict_officer", *_COMMUNITY, *_GRID),
        ),
        Action(
            f"{NAME}.intake",
            "录入12345工单与上级交办",
            "Enter 12345 orders and superiors' tasks",
            ("hotline_operator", "subdistrict_officer"),
        ),
        Action(f"{NAME}.area.follow", "关注片区", "Follow an area", ("resident", *_COMMUNITY, *_GRID)),
        Action(
            f"{NAME}.event.publish",
            "填写公开办理情况",
            "Write the status note for residents",
            (*_COMMUNITY, "subdistrict_officer"),
        ),
        # 转人民调解 (referrals.py): offered only while the mediation pillar is on.
        Action(
            f"{NAME}.event.refer", "转人民调解", "Refer to people's mediation", (*_COMMUNITY, "subdistrict_officer")
        ),
        # 预约代办 (bookings.py): residents and staff book; community staff take and do them.
        Action(
            f"{NAME}.booking.request",
            "预约代办",
            "Book a proxy service",
            ("resident", *_COMMUNITY, "grid_worker", "grid_leader"),
        ),
        Action(f"{NAME}.booking.handle", "办理代办", "Handle proxy services", _COMMUNITY),
        # Configuration: categories, working calendar, handling units and the dispatch catalogue.
        Action(f"{NAME}.config.edit", "维护事件分类、工作日历与派单目录", "Edit categories, calendar and dispatch", ()),
    ),
    # The grid worker's phone: tasks to sign and handle, and what they find to report.
    mobile_tabs=(
        MenuItem("任务", "Tasks", "/smart-service/tasks", (f"{NAME}.event.sign", f"{NAME}.event.handle"), "任", 10),
        MenuItem("上报", "Report", "/smart-service/report?source=grid_patrol", f"{NAME}.event.report", "报", 20),
    ),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_models() -> list[Any]:
    from core.db.engine import TenantSession
    from plugins.smart_service import reference
    from plugins.smart_service.models import MODELS
    from plugins.smart_service.rollup_models import MODELS as ROLLUP_MODELS
    from plugins.smart_service.work_models import MODELS as WORK_MODELS

    # Every process that has the models writes them: a written category, calendar or key moves the
    # tenant's version there, so the reference data cached in any process expires (reference.py).
    reference.watch(TenantSession)
    return [*MODELS, *WORK_MODELS, *ROLLUP_MODELS]


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_roles() -> list[DeclaredRole]:
    """区直部门工作人员 and the 12345 hotline operator."""
    return list(ROLES)


@hookimpl
def register_jobs() -> list[JobSpec]:
    """The SLA clock: breached stages are supervised and escalated one level up, once. The
    indicator rollups (rollups.py). Telling
    people of a change (notifications.py), sending replies to 12345 (workorders.py), and the
    referral jobs (referrals.py) that turn a heard dispute into an event and link both ways."""
    from plugins.smart_service import notifications, referrals, rollups, sla_schedule, workorders

    return [
        # Each minute at most; the sweep moves its slot to the district's next deadline (sla_schedule).
        JobSpec(services.SLA_JOB, sla_schedule.job, every_seconds=60),
        JobSpec(rollups.JOB, rollups.job, every_seconds=rollups.EVERY_SECONDS),  # and after changes
        JobSpec(notifications.JOB, notifications.job),
        JobSpec(workorders.SEND_JOB, workorders.send_job, max_attempts=8, retry_seconds=60),
        *referrals.JOBS,
    ]


# Pages with a map (templates/smart_service/_map.html): they get the tenant's base map as ``basemap``.
MAP_PAGES = frozenset(
    {"smart_service/report.html", "smart_service/inbox.html", "smart_service/board.html", "smart_service/event.html"}
)


@hookimpl
def extra_template_vars(request: Request, template: str) -> dict[str, Any] | None:
    if template not in MAP_PAGES:
        return None
    from plugins.smart_service.routes.maps import map_config

    return {"basemap": map_config(request)}


@hookimpl
def node_panels(request: Request, node: Any) -> list[Any]:
    """A grid node's page: a map of its boundaries and the open events in it (for who sees events there)."""
    from core.pluginhost.manifest import Panel
    from plugins.smart_service.routes.maps import map_config

    c = ctx(request)
    if not c.can(VIEW, node.path):
        return []

    html = render_string(
        request,
        "smart_service/node_map.html",
        {"node": node, "basemap": map_config(request), "c": c, "locale": c.locale},
    )
    return [Panel("事件地图", "Events on the map", html, 20)]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.smart_service.routes import admin as admin_routes
    from plugins.smart_service.routes import api as api_routes
    from plugins.smart_service.routes import bookings as booking_routes
    from plugins.smart_service.routes import indicators as indicator_routes
    from plugins.smart_service.routes import intake as intake_routes
    from plugins.smart_service.routes import mobile as mobile_routes
    from plugins.smart_service.routes import open311 as open311_routes
    from plugins.smart_service.routes import queue as queue_routes
    from plugins.smart_service.routes import resident as resident_routes
    from plugins.smart_service.routes import staff as staff_routes
    from plugins.smart_service.routes.maps import handlers as map_handlers

    return [
        *map_handlers,  # GeoJSON for the maps: boundaries, events, residents' public view
        *staff_routes.handlers,  # inbox (at /smart-service/), event page, board
        *admin_routes.handlers,  # categories, calendar, handling units, dispatch catalogue
        *resident_routes.handlers,  # 随手拍: report, 我也遇到, my reports, rating
        *mobile_routes.handlers,  # grid workers' tasks: sign, handle, return, feedback
        *api_routes.handlers,  # /api/v1/smart-service/… for a mini-program
        *booking_routes.handlers,  # 预约代办: book, take, record the result
        *open311_routes.handlers,  # Open311 GeoReport v2 at /open311/v2/ (and FixMyStreet's updates)
        *indicator_routes.handlers,  # indicators dashboard and its Excel export
        *queue_routes.handlers,  # a unit's queue, unit members, 自处置, followed areas
        *intake_routes.handlers,  # 12345 orders and 上级交办 in, replies out, 12345's callback; anonymous reports
    ]


@hookimpl
async def file_access(request: Request, file: Any) -> bool | None:
    """Event photos: staff whose smart_service.view scope covers the event, its assignee, or the
    resident who reported it. Anyone else: no (404)."""
    from plugins.smart_service.photos import OWNER_TYPE

    if file.owner_type != OWNER_TYPE:
        return None
    c = ctx(request)
    if c.db is None or c.user is None or not file.owner_id:
        return False
    try:
        event = await services.get_event(c.db, int(file.owner_id))
    except (services.EventNotFound, ValueError):
        return False
    if c.user.id in (event.reporter_user_id, event.assignee_user_id):
        return True
    return c.can(VIEW, event.node_path)


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any, storage: Any) -> None:
    """Categories, calendar, units and the dispatch catalogue; for 双滦区 also events (with real
    photo files, so only when a storage is given) and bookings."""
    from plugins.smart_service import demo

    await demo.seed(session, tenant, nodes, storage=storage)


@hookimpl
async def usage_figures(session: Any) -> dict[str, int]:
    """For the operator's usage page: events reported, and how many are still open."""
    from sqlalchemy import func, select

    from core.i18n import gettext as _
    from plugins.smart_service.lifecycle import FINAL
    from plugins.smart_service.models import Event

    total = await session.scalar(select(func.count(Event.id)))
    finished = await session.scalar(select(func.count(Event.id)).where(Event.state.in_([s.value for s in FINAL])))
    return {_("Events reported"): int(total or 0), _("Events still open"): int(total or 0) - int(finished or 0)}


@hookimpl
async def on_event(tenant_id: int, event: Any, context: Any) -> None:
    """Live board: every committed change of an event reaches the tenant's open boards (the job that
    tells the people it concerns was queued with the change itself: notifications.queue_telling).
    A dispute referred by the mediation pillar (or its answer to our referral) queues a job
    (referrals.py)."""
    if event.name.startswith(f"{NAME}.event."):
        from plugins.smart_service import board, rollups, sla_schedule

        board.publish(context, tenant_id, event.payload)
        await rollups.heard(context, tenant_id)  # the indicator rollups catch up within a minute
        await sla_schedule.heard(context, tenant_id, event.payload)  # an earlier deadline: sweep then
    elif event.name.startswith("rule_of_law."):
        from plugins.smart_service import referrals

        await referrals.hear(tenant_id, event, context)


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [
        MenuItem("服务智治", "Smart service", "/smart-service/", VIEW, "服", 30),
        MenuItem("随手拍", "Report a problem", "/smart-service/report", f"{NAME}.event.report", "拍", 3),
        MenuItem("我的上报", "My reports", "/smart-service/mine", f"{NAME}.event.report", "报", 4),
        MenuItem(
            "预约代办",
            "Proxy services",
            "/smart-service/bookings/",
            (f"{NAME}.booking.request", f"{NAME}.booking.handle"),
            "约",
            31,
        ),
        MenuItem("考核指标", "Indicators", "/smart-service/indicators", VIEW, "指", 32),
        MenuItem("本单位待办", "My unit's queue", "/smart-service/queue", f"{NAME}.unit.work", "办", 33),
        MenuItem("工单录入", "Enter a work order", "/smart-service/intake", f"{NAME}.intake", "单", 34),
        MenuItem("关注片区", "Areas I follow", "/smart-service/follows", f"{NAME}.area.follow", "关", 35),
    ]


@hookimpl
def dashboard_widgets(request: Request) -> list[Widget]:
    if not ctx(request).can(VIEW):
        return []
    html = render_string(request, "smart_service/widget.html", {})
    return [Widget("服务智治", "Smart service", html, 30, "/smart-service/")]


@hookimpl
async def worklist_items(request: Request, session: Any) -> list[Any]:
    from plugins.smart_service import worklist

    return await worklist.items(request, session)


# The audit log in words: "改派事件 SL-…" from a transition row, "修改事件 SL-…" from the event's own.
_EVENT_VERBS = {
    "report": ("上报事件", "Reported event"),
    "accept": ("受理事件", "Accepted event"),
    "reject": ("不予立案", "Did not register event"),
    "register": ("立案事件", "Registered event"),
    "dispatch": ("派遣事件", "Dispatched event"),
    "redispatch": ("改派事件", "Re-dispatched event"),
    "sign": ("签收事件", "Signed for event"),
    "return": ("退回事件", "Returned event"),
    "handle": ("处置事件", "Started handling event"),
    "feedback": ("反馈事件", "Reported the result of event"),
    "inspect": ("核查事件", "Inspected event"),
    "pass": ("核查通过事件", "Passed the inspection of event"),
    "rework": ("返工事件", "Sent back for rework event"),
    "close": ("结案事件", "Closed event"),
    "merge": ("并单事件", "Merged event"),
    "supervise": ("督办事件", "Supervised event"),
    "escalate": ("超时升级事件", "Escalated event"),
}


@hookimpl
def audit_terms() -> dict[str, Any]:
    from core.pluginhost.manifest import AuditTerm

    return {
        "ss_events": AuditTerm("事件", "event", label="number"),
        "ss_event_transitions": AuditTerm(
            "事件流转", "event step", verb_key="action", verbs=_EVENT_VERBS, refers=("event_id", "ss_events")
        ),
        "ss_bookings": AuditTerm("预约代办", "booking", label="number"),
        "ss_categories": AuditTerm("事件类别", "event category", label="name_zh"),
        "ss_handling_units": AuditTerm("处置单位", "handling unit", label="name"),
    }
