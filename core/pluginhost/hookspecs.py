"""The plugin contract. Every hook a plugin may implement, in one file; docs/plugins.md mirrors it.

Hooks may return a value, a callable or an awaitable; the host resolves all three.
Start-up hooks run once per app for every installed plugin. Per-request hooks run only for the
plugins the current tenant has enabled.

The spec decides how a hook is called (``PluginHost.run``): ``firstresult=True`` stops at the first
answer that is not None; ``@contained`` means a plugin that raises is logged and skipped (the page
still renders, a file stays hidden) instead of failing the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core.pluginhost.markers import hookspec

if TYPE_CHECKING:
    import click
    from jinja2 import Environment
    from litestar import Litestar, Request
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.grids.models import GridNode
    from core.pluginhost.manifest import (
        AuditTerm,
        DeclaredRole,
        Figure,
        Manifest,
        MenuItem,
        MySection,
        Notification,
        Panel,
        Widget,
        WorkItem,
    )
    from core.services.events import Event, EventContext
    from core.services.files.models import StoredFile
    from core.services.jobs import JobSpec
    from core.tenancy.models import Tenant

F = TypeVar("F", bound=Callable[..., Any])
CONTAINED = "liuzhi_contained"


def contained(spec: F) -> F:
    """Mark a hook whose failing implementation is logged and skipped rather than raised."""
    setattr(spec, CONTAINED, True)
    return spec


# ---- start-up: no tenant -------------------------------------------------------------------


@hookspec(firstresult=True)
def plugin_manifest() -> Manifest:
    """Return the plugin's ``Manifest``: name (= entry-point name), pillar, zh/en titles,
    version, core API version, settings schema (a ``msgspec.Struct``) and the RBAC actions it
    guards with their default roles. Called once per plugin at start-up."""


@hookspec
def register_models() -> list[type]:
    """Return the plugin's SQLAlchemy model classes (subclasses of ``core.db.Base``; tenant-owned
    ones mix in ``TenantScoped``). Importing them registers their tables; the host checks each
    tenant-owned table has ``tenant_id`` in its key."""


@hookspec
def register_migrations() -> Path:
    """Return the directory of the plugin's Alembic versions: its own branch (``branch_labels``
    = plugin name) whose first revision ``depends_on`` core's head revision."""


@hookspec
def register_routes() -> list[Any]:
    """Return a list of Litestar route handlers/controllers/routers. They are mounted at the
    tenant root (``/t/<slug>/…`` or the tenant's host) and answer 404 where the tenant has the
    plugin switched off. Guard them with ``core.web.guards.requires(action)``."""


@hookspec
def register_jobs() -> list[JobSpec]:
    """Return a list of ``core.services.jobs.JobSpec``: named handlers ``async (ctx, payload)`` for
    delayed jobs, optionally with ``every_seconds`` to run periodically for each tenant that has
    the plugin enabled. Jobs carry their tenant; a job without one fails closed."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``liuzhi`` command group ``cli``."""


@hookspec
def prepare_jinja2_environment(env: Environment) -> None:
    """Adjust the shared Jinja2 environment: filters, globals, tests. Called once at start-up."""


@hookspec
def startup(app: Litestar) -> None:
    """Called when the app starts serving (may be async)."""


@hookspec
def shutdown(app: Litestar) -> None:
    """Called when the app stops serving (may be async)."""


@hookspec
def register_roles() -> list[DeclaredRole]:
    """Return the built-in roles the plugin brings (``DeclaredRole(code, title_zh, title_en,
    grants)``): every tenant gets them, with ``grants`` (core actions such as ``core.grid.view``)
    by default, when it is created or applied. Its own actions' grants go in ``Action.default_roles``."""


@hookspec
def audit_terms() -> Mapping[str, AuditTerm]:
    """Return ``{key: AuditTerm}``: how the district's audit log names the plugin's entries for
    people. A key is an object type (the table name, "ss_events": 事件, labelled by its number) or
    a named action ("smart_service.export": 导出事件). Called at start-up; core's own terms win."""


# ---- tenant lifecycle ----------------------------------------------------------------------


@hookspec
def on_tenant_created(tenant: Tenant, session: AsyncSession) -> None:
    """A tenant was created; ``session`` is bound to it. Called for every installed plugin."""


@hookspec
def on_plugin_enabled(tenant: Tenant, session: AsyncSession) -> None:
    """This plugin was switched on for ``tenant`` (only the plugin concerned is called)."""


@hookspec
def on_plugin_disabled(tenant: Tenant, session: AsyncSession) -> None:
    """This plugin was switched off for ``tenant`` (only the plugin concerned is called).
    Data is kept: switching back on shows it again."""


@hookspec
def demo_data(tenant: Tenant, session: AsyncSession, nodes: dict[str, GridNode], storage: Any) -> None:
    """Create demo rows for ``tenant`` (the plugin is enabled there). ``nodes`` maps grid node
    codes to nodes; ``storage`` is core's file storage (``LocalStorage``) for demo files, or None
    when the caller has none (then seed no rows that need files). Must be idempotent: called
    again, it adds nothing."""


# ---- per request: enabled plugins only -----------------------------------------------------


@contained
@hookspec
def menu_items(request: Request) -> MenuItem | list[MenuItem] | None:
    """Return ``MenuItem`` s for the navigation. Items with an ``action`` are shown only to users
    allowed that action somewhere in the tenant."""


@contained
@hookspec
def dashboard_widgets(request: Request) -> Widget | list[Widget] | None:
    """Return ``Widget`` s (title + rendered HTML) for the tenant dashboard."""


@contained
@hookspec
def node_panels(request: Request, node: GridNode) -> Panel | list[Panel] | None:
    """Return ``Panel`` s to show on the page of grid node ``node``."""


@contained
@hookspec
def extra_template_vars(request: Request, template: str) -> dict[str, Any] | None:
    """Return a dict of extra variables for rendering ``template``."""


@contained
@hookspec
def my_page(request: Request, user_id: int, session: AsyncSession) -> MySection | list[MySection] | None:
    """Return the plugin's part of resident ``user_id``'s "我的" page: a ``MySection`` (or a list)
    with headline ``Figure`` s — reports, bookings, hours, points, votes — read through ``session``
    (bound to the tenant). Return None when the plugin holds nothing for this person. Collected by
    ``core.pluginhost.glance.my_page``; core adds its own section from the shared services."""


@contained
@hookspec
def node_figures(request: Request, node: GridNode, session: AsyncSession) -> list[Figure] | None:
    """Return the plugin's headline ``Figure`` s for grid node ``node`` and its subtree (events
    closed, hours served, cases mediated, votes held, projects done …), so a community's page shows
    every enabled pillar at a glance. Read through ``session``; keep it to a few cheap queries.
    Collected by ``core.pluginhost.glance.node_figures``."""


@contained
@hookspec
def worklist_items(request: Request, session: AsyncSession) -> WorkItem | list[WorkItem] | None:
    """Return the plugin's ``WorkItem`` s for the signed-in user's worklist dashboard: what waits
    for them now in their scope (待受理, 待签收, 待核查, 待审批, overdue …), each with a count and a
    tenant-relative link to the list filtered to those rows. Only items the user may act on (check
    ``ctx(request).can``); items counting 0 may be returned and are hidden. One or two cheap counting
    queries through ``session`` (bound to the tenant). Collected by ``core.pluginhost.glance.worklist``."""


@contained
@hookspec(firstresult=True)
def file_access(request: Request, file: StoredFile) -> bool | None:
    """May the current user see stored ``file``? Return True/False if the file's ``owner_type``
    belongs to this plugin, None otherwise. No answer means no access (404)."""


# ---- the operator's view of a tenant --------------------------------------------------------


@contained
@hookspec
def usage_figures(session: AsyncSession) -> dict[str, int] | None:
    """Return ``{label: count}`` of what the plugin holds for one tenant (``session`` is bound to
    it), for the operator's usage page, e.g. ``{_("Events"): 1234}``. Called for the tenant's
    enabled plugins; translate labels when called (the operator's language is current)."""


# ---- events and adapters -------------------------------------------------------------------


@contained
@hookspec
def on_event(tenant_id: int, event: Event, context: EventContext, app_state: Any) -> Any:
    """An ``Event`` (name, payload, actor) happened in ``tenant_id`` and was committed. For
    notifications and live updates; the audit log is written by core regardless. ``context`` is an
    ``EventContext``: the tenant's enabled plugins and the app's services (``channels`` publish
    live updates). ``app_state`` (deprecated) is the emitter's state bag or job context."""


@hookspec(firstresult=True)
def send_notification(notification: Notification, channel: str) -> bool | None:
    """Deliver ``notification`` on ``channel`` ("sms", "wechat", …). Return True when sent. The
    first adapter that answers wins; core's fallback logs the message."""


@contained
@hookspec
def identity_providers() -> list[Any] | None:
    """Return ``IdentityProvider`` s (``core.services.accounts``) for outside sign-in: the WeChat
    mini-program's login, a provincial 政务服务 unified identity. Each has a stable ``name``, zh/en
    titles and ``async authenticate(tenant_id, credentials)`` returning an ``ExternalProfile`` or
    None. Offered in a tenant only when the plugin is enabled there; core's development provider
    is on only in debug."""


@hookspec
def ballot_rules() -> Mapping[str, Callable[..., Any]]:
    """Return a dict of counting rules for the ballots service: name → ``rule(counts, params)``
    returning a ``core.services.ballots.Outcome``. Called at start-up; a name already taken (the
    built-ins: plurality, simple_majority, majority_present, owners_278) is refused."""


@hookspec(firstresult=True)
def resolve_tenant(host: str, path: str) -> str | None:
    """Return a tenant slug for a request core cannot place (a custom scheme), or None."""
