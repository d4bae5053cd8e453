"""The plugin contract. Every hook a plugin may implement, in one file; docs/plugins.md mirrors it.

Hooks may return a value, a callable or an awaitable; the host resolves all three.
Start-up hooks run once per app for every installed plugin. Per-request hooks run only for the
plugins the current tenant has enabled; a per-request hook that raises is logged and skipped.
"""

from __future__ import annotations

from typing import Any

from core.pluginhost.markers import hookspec

# ---- start-up: no tenant -------------------------------------------------------------------


@hookspec(firstresult=True)
def plugin_manifest() -> Any:
    """Return the plugin's ``Manifest``: name (= entry-point name), pillar, zh/en titles,
    version, core API version, settings schema (a ``msgspec.Struct``) and the RBAC actions it
    guards with their default roles. Called once per plugin at start-up."""


@hookspec
def register_models() -> Any:
    """Return the plugin's SQLAlchemy model classes (subclasses of ``core.db.Base``; tenant-owned
    ones mix in ``TenantScoped``). Importing them registers their tables; the host checks each
    tenant-owned table has ``tenant_id`` in its key."""


@hookspec
def register_migrations() -> Any:
    """Return the directory of the plugin's Alembic versions: its own branch (``branch_labels``
    = plugin name) whose first revision ``depends_on`` core's head revision."""


@hookspec
def register_routes() -> Any:
    """Return a list of Litestar route handlers/controllers/routers. They are mounted at the
    tenant root (``/t/<slug>/…`` or the tenant's host) and answer 404 where the tenant has the
    plugin switched off. Guard them with ``core.web.guards.requires(action)``."""


@hookspec
def register_jobs() -> Any:
    """Return a list of ``core.services.jobs.JobSpec``: named handlers ``async (ctx, payload)`` for
    delayed jobs, optionally with ``every_seconds`` to run periodically for each tenant that has
    the plugin enabled. Jobs carry their tenant; a job without one fails closed."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands or groups to the ``liuzhi`` command group ``cli``."""


@hookspec
def prepare_jinja2_environment(env: Any) -> None:
    """Adjust the shared Jinja2 environment: filters, globals, tests. Called once at start-up."""


@hookspec
def startup(app: Any) -> Any:
    """Called when the app starts serving (may be async)."""


@hookspec
def shutdown(app: Any) -> Any:
    """Called when the app stops serving (may be async)."""


# ---- tenant lifecycle ----------------------------------------------------------------------


@hookspec
def on_tenant_created(tenant: Any, session: Any) -> Any:
    """A tenant was created; ``session`` is bound to it. Called for every installed plugin."""


@hookspec
def on_plugin_enabled(tenant: Any, session: Any) -> Any:
    """This plugin was switched on for ``tenant`` (only the plugin concerned is called)."""


@hookspec
def on_plugin_disabled(tenant: Any, session: Any) -> Any:
    """This plugin was switched off for ``tenant`` (only the plugin concerned is called).
    Data is kept: switching back on shows it again."""


@hookspec
def demo_data(tenant: Any, session: Any, nodes: Any, storage: Any) -> Any:
    """Create demo rows for ``tenant`` (the plugin is enabled there). ``nodes`` maps grid node
    codes to nodes; ``storage`` is core's file storage (``LocalStorage``) for demo files, or None
    when the caller has none (then seed no rows that need files). Must be idempotent: called
    again, it adds nothing."""


# ---- per request: enabled plugins only -----------------------------------------------------


@hookspec
def menu_items(request: Any) -> Any:
    """Return ``MenuItem`` s for the navigation. Items with an ``action`` are shown only to users
    allowed that action somewhere in the tenant."""


@hookspec
def dashboard_widgets(request: Any) -> Any:
    """Return ``Widget`` s (title + rendered HTML) for the tenant dashboard."""


@hookspec
def node_panels(request: Any, node: Any) -> Any:
    """Return ``Panel`` s to show on the page of grid node ``node``."""


@hookspec
def extra_template_vars(request: Any, template: str) -> Any:
    """Return a dict of extra variables for rendering ``template``."""


@hookspec
def my_page(request: Any, user_id: int, session: Any) -> Any:
    """Return the plugin's part of resident ``user_id``'s "我的" page: a ``MySection`` (or a list)
    with headline ``Figure`` s — reports, bookings, hours, points, votes — read through ``session``
    (bound to the tenant). Return None when the plugin holds nothing for this person. Collected by
    ``core.pluginhost.glance.my_page``; core adds its own section from the shared services."""


@hookspec
def node_figures(request: Any, node: Any, session: Any) -> Any:
    """Return the plugin's headline ``Figure`` s for grid node ``node`` and its subtree (events
    closed, hours served, cases mediated, votes held, projects done …), so a community's page shows
    every enabled pillar at a glance. Read through ``session``; keep it to a few cheap queries.
    Collected by ``core.pluginhost.glance.node_figures``."""


@hookspec(firstresult=True)
def file_access(request: Any, file: Any) -> Any:
    """May the current user see stored ``file``? Return True/False if the file's ``owner_type``
    belongs to this plugin, None otherwise. No answer means no access (404)."""


# ---- the operator's view of a tenant --------------------------------------------------------


@hookspec
def usage_figures(session: Any) -> Any:
    """Return ``{label: count}`` of what the plugin holds for one tenant (``session`` is bound to
    it), for the operator's usage page, e.g. ``{_("Events"): 1234}``. Called for the tenant's
    enabled plugins; translate labels when called (the operator's language is current)."""


# ---- events and adapters -------------------------------------------------------------------


@hookspec
def on_event(tenant_id: int, event: Any, app_state: Any) -> Any:
    """An ``Event`` (name, payload, actor) happened in ``tenant_id``. For notifications and live
    updates; the audit log is written by core regardless. ``app_state`` is what the emitter had
    (the app's state, a job's context): its ``channels`` publish live updates."""


@hookspec(firstresult=True)
def send_notification(notification: Any, channel: str) -> Any:
    """Deliver ``notification`` on ``channel`` ("sms", "wechat", …). Return True when sent. The
    first adapter that answers wins; core's fallback logs the message."""


@hookspec
def identity_providers() -> Any:
    """Return ``IdentityProvider`` s (``core.services.accounts``) for outside sign-in: the WeChat
    mini-program's login, a provincial 政务服务 unified identity. Each has a stable ``name``, zh/en
    titles and ``async authenticate(tenant_id, credentials)`` returning an ``ExternalProfile`` or
    None. Offered in a tenant only when the plugin is enabled there; core's development provider
    is on only in debug."""


@hookspec
def ballot_rules() -> Any:
    """Return a dict of counting rules for the ballots service: name → ``rule(counts, params)``
    returning a ``core.services.ballots.Outcome``. Called at start-up; a name already taken (the
    built-ins: plurality, simple_majority, majority_present, owners_278) is refused."""


@hookspec(firstresult=True)
def resolve_tenant(host: str, path: str) -> Any:
    """Return a tenant slug for a request core cannot place (a custom scheme), or None."""
