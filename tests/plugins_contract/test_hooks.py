"""One test (at least) per hook in core/pluginhost/hookspecs.py, named ``test_hook_<hook>_…``.

Each test registers small plugin objects (``create_app(settings, extra_plugins=[…])``) and checks
what a district admin or an operator would notice. A plugin with a ``plugin_manifest`` is switched
per tenant: its ``__liuzhi_name__`` is its registration name and equals its manifest name.
test_docs.py fails when a hook has no test here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import textwrap
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import click
import msgspec
import pytest
from click.testing import CliRunner
from litestar import Request, get
from sqlalchemy import PrimaryKeyConstraint, String, inspect, select
from sqlalchemy.orm import Mapped, mapped_column

from core import hookimpl
from core.app import create_app
from core.db.base import Base, TenantScoped, new_id
from core.db.migrate import current_heads, upgrade
from core.grids.models import GridNode
from core.identity.models import User
from core.pluginhost.manager import PluginError, PluginHost
from core.pluginhost.manifest import Action, DeclaredRole, Manifest, MenuItem, Notification, Panel, Widget
from core.rbac.models import Role, RolePermission
from core.services.events import Event, emit
from core.services.jobs.runner import JobSpec
from core.services.notifications.models import InAppNotification
from core.services.notifications.service import notify
from core.tenancy.demo import seed_demo
from core.tenancy.service import TenantError, create_tenant, set_plugin, validate_settings
from core.tenancy.transfer import tenant_tables
from core.web.context import ctx, load_tenant
from core.web.guards import public, requires
from core.web.render import render
from tests.conftest import login, main_text, make_client, nav_links
from tests.plugins_contract.conftest import drop_tenant, forget_tables, running


def manifest(name: str, **kw: Any) -> Manifest:
    return Manifest(name=name, pillar="other", title_zh=f"{name}（测试）", title_en=name, version="0.0.1", **kw)


class Switchable:
    """A test plugin that tenants switch on and off: it has a manifest named like its registration."""

    __liuzhi_name__ = ""

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return manifest(self.__liuzhi_name__, actions=(Action(f"{self.__liuzhi_name__}.view", "查看", "View"),))


@contextlib.asynccontextmanager
async def signed_in_client(app: Any, tenant: str, username: str = "admin") -> AsyncIterator[Any]:
    async with make_client(app) as client:
        r = await login(client, tenant, username)
        assert r.status_code == 303, f"login as {username}@{tenant}: {r.status_code}"
        yield client


# ---- start-up hooks --------------------------------------------------------------------------


class Surveys(Switchable):
    __liuzhi_name__ = "contract_surveys"

    class Settings(msgspec.Struct, forbid_unknown_fields=True):
        max_questions: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        action = Action("contract_surveys.answer", "填写问卷", "Answer surveys", ("community_worker",))
        return manifest(self.__liuzhi_name__, settings=self.Settings, actions=(action,))


async def test_hook_plugin_manifest_lists_the_plugin_validates_its_settings_and_grants_its_actions(
    migrated: Any, districts: Any
) -> None:
    async with running(migrated, Surveys()) as app:
        host = app.state.plugins
        assert "contract_surveys" in host.names  # what `liuzhi plugins list` prints
        assert "plugin_manifest" in host.hooks_of("contract_surveys")
        assert validate_settings(host, "contract_surveys", {}) == {"max_questions": 10}
        assert validate_settings(host, "contract_surveys", {"max_questions": "12"}) == {"max_questions": 12}
        with pytest.raises(TenantError, match="max_questions"):
            validate_settings(host, "contract_surveys", {"max_questions": 99})
        d = await districts(app, users=())
        async with app.state.db.session(d.tenant.id) as s:
            granted = {tuple(r) for r in await s.execute(select(RolePermission.role_code, RolePermission.action))}
        assert ("community_worker", "contract_surveys.answer") in granted


def test_hook_plugin_manifest_must_carry_the_registration_name_and_a_supported_core_api() -> None:
    class Misnamed(Switchable):
        __liuzhi_name__ = "contract_misnamed"

        @hookimpl
        def plugin_manifest(self) -> Manifest:
            return manifest("contract_other_name")

    class TooNew(Switchable):
        __liuzhi_name__ = "contract_too_new"

        @hookimpl
        def plugin_manifest(self) -> Manifest:
            return manifest(self.__liuzhi_name__, core_api=99)

    with pytest.raises(PluginError, match="differs"):
        PluginHost([Misnamed()], load_entry_points=False)
    with pytest.raises(PluginError, match="core API 99"):
        PluginHost([TooNew()], load_entry_points=False)


async def test_hook_register_models_makes_a_plugin_table_part_of_every_tenant_export(migrated: Any) -> None:
    class Shelves:
        models: list[Any] = []  # held here: the ORM registry only keeps weak references to classes

        @hookimpl
        def register_models(self) -> list[Any]:
            class ContractShelf(TenantScoped, Base):
                __tablename__ = "contract_shelves"
                label: Mapped[str] = mapped_column(String(50))

            self.models.append(ContractShelf)
            return [ContractShelf]

    try:
        async with running(migrated, Shelves()):
            assert "contract_shelves" in {t.name for t in tenant_tables()}
    finally:
        forget_tables("contract_shelves")


def test_hook_register_models_refuses_to_start_with_a_tenant_table_not_keyed_by_tenant_id_first(
    migrated: Any,
) -> None:
    class BadKey:
        models: list[Any] = []

        @hookimpl
        def register_models(self) -> list[Any]:
            class ContractBadKey(TenantScoped, Base):
                __tablename__ = "contract_bad_key"
                __table_args__ = (PrimaryKeyConstraint("id", "tenant_id"),)
                label: Mapped[str] = mapped_column(String(50))

            self.models.append(ContractBadKey)
            return [ContractBadKey]

    try:
        with pytest.raises(RuntimeError, match="contract_bad_key: tenant-owned table must lead its key with tenant_id"):
            create_app(migrated, extra_plugins=[BadKey()], load_entry_points=False)
    finally:
        forget_tables("contract_bad_key")


LEDGER_REVISION = '''
"""contract_ledger: a plugin table on its own branch"""
import sqlalchemy as sa
from alembic import op

from core.db import rls

revision = "contract_0001"
down_revision = None
branch_labels = ("contract_ledger",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "contract_ledger",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entry", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    rls.enable(op, "contract_ledger")


def downgrade():
    op.drop_table("contract_ledger")
'''


async def test_hook_register_migrations_upgrades_the_plugin_branch_after_core(settings: Any, tmp_path: Path) -> None:
    """`liuzhi db upgrade` on an empty database: core's branch and the plugin's both reach their heads.

    (A throwaway SQLite file: Alembic's branching is the same on both databases, and the shared
    test schema must not learn a revision that no other app knows.)"""
    versions = tmp_path / "ledger_versions"
    versions.mkdir()
    (versions / "contract_0001_ledger.py").write_text(textwrap.dedent(LEDGER_REVISION))

    class Ledger:
        @hookimpl
        def register_migrations(self) -> Path:
            return versions

    scratch = replace(
        settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}", migrate_database_url=None
    )
    host = PluginHost([Ledger()], load_entry_points=False)
    await upgrade(scratch, host)
    # core_0001 is not listed once contract_0001 (which depends on it) is applied: it is implied.
    assert "contract_0001" in await current_heads(scratch)
    from core.db.engine import make_engine

    engine = make_engine(scratch.database_url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert {"contract_ledger", "tenants", "users"} <= tables
    heads = await current_heads(scratch)
    await upgrade(scratch, host)  # idempotent: a second run has nothing to do
    assert await current_heads(scratch) == heads


class Routes(Switchable):
    __liuzhi_name__ = "contract_routes"

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/contract-routes/", guards=[requires("contract_routes.view")], media_type="text/plain")
        async def page(request: Request) -> str:
            return f"contract routes in {ctx(request).tenant.slug}"

        return [page]


class AlwaysOnRoutes:
    """No manifest: a helper plugin whose routes every tenant has."""

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/contract-ping", guards=[public], media_type="text/plain")
        async def ping(request: Request) -> str:
            return f"pong from {ctx(request).tenant.slug}"

        return [ping]


async def test_hook_register_routes_mounts_pages_at_the_tenant_root_only_where_switched_on(
    migrated: Any, districts: Any
) -> None:
    async with running(migrated, Routes(), AlwaysOnRoutes()) as app:
        d = await districts(
            app, enable=["contract_routes"], users=[("admin", "district_admin"), ("resident", "resident")]
        )
        async with signed_in_client(app, d.slug) as admin:
            r = await admin.get(f"/t/{d.slug}/contract-routes/")
            assert r.status_code == 200 and r.text == f"contract routes in {d.slug}"
        async with signed_in_client(app, d.slug, "resident") as resident:
            assert (await resident.get(f"/t/{d.slug}/contract-routes/")).status_code == 403  # guarded by its action
        async with signed_in_client(app, "shuangluan") as other_admin:
            assert (await other_admin.get("/t/shuangluan/contract-routes/")).status_code == 404  # switched off there
        async with make_client(app) as anonymous:
            assert (await anonymous.get("/t/shuangluan/contract-ping")).text == "pong from shuangluan"


async def test_hook_register_jobs_adds_named_jobs_owned_by_the_plugin(migrated: Any) -> None:
    async def tick(job_ctx: Any, payload: dict[str, Any]) -> None:
        pass

    class Reminders(Switchable):
        __liuzhi_name__ = "contract_reminders"

        @hookimpl
        def register_jobs(self) -> list[JobSpec]:
            return [JobSpec("contract_reminders.tick", tick, every_seconds=3600)]

    class Housekeeping:
        @hookimpl
        def register_jobs(self) -> list[JobSpec]:
            return [JobSpec("contract.housekeeping", tick)]

    async with running(migrated, Reminders(), Housekeeping()) as app:
        specs = app.state.jobs.specs
    reminder = specs["contract_reminders.tick"]
    # Owned by the plugin: the periodic run is queued only for tenants that have it switched on.
    assert (reminder.plugin, reminder.every_seconds, reminder.handler) == ("contract_reminders", 3600, tick)
    assert specs["contract.housekeeping"].plugin is None  # a helper's job runs for every tenant


def test_hook_register_commands_adds_a_command_to_the_liuzhi_cli() -> None:
    import core.cli

    class Hello:
        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command("contract-hello")
            @click.argument("name")
            def hello(name: str) -> None:
                """Greet someone from a plugin."""
                click.echo(f"你好, {name}")

    # As core.cli.main wires it, on a fresh group so the real `liuzhi` group stays untouched.
    group = click.Group("liuzhi", commands=dict(core.cli.cli.commands))
    PluginHost([Hello()], load_entry_points=False).call_sync("register_commands", cli=group)
    runner = CliRunner()
    help_text = runner.invoke(group, ["--help"]).output
    assert "contract-hello" in help_text and "tenants" in help_text
    result = runner.invoke(group, ["contract-hello", "网格员"])
    assert result.exit_code == 0 and result.output == "你好, 网格员\n"


class JinjaAdditions(Switchable):
    __liuzhi_name__ = "contract_jinja"

    @hookimpl
    def prepare_jinja2_environment(self, env: Any) -> None:
        env.filters["contract_shout"] = lambda word: f"{word}！！"
        env.globals["contract_site_name"] = "契约测试站"

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/contract-jinja/", guards=[requires("contract_jinja.view")])
        async def page(request: Request) -> Any:
            return await render(request, "contract/shout.html", {"word": "网格"})

        return [page]


async def test_hook_prepare_jinja2_environment_adds_filters_and_globals_templates_can_use(
    migrated: Any, districts: Any
) -> None:
    async with running(migrated, JinjaAdditions()) as app:
        d = await districts(app, enable=["contract_jinja"])
        async with signed_in_client(app, d.slug) as admin:
            r = await admin.get(f"/t/{d.slug}/contract-jinja/")
    assert r.status_code == 200
    assert "网格！！" in main_text(r.text) and "契约测试站" in main_text(r.text)


class Lifecycle:
    """Opens a resource when the app starts and closes it when it stops; a page reports it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.connected = False

    @hookimpl
    async def startup(self, app: Any) -> None:
        self.calls.append(("startup", app))
        self.connected = True

    @hookimpl
    def shutdown(self, app: Any) -> None:
        self.calls.append(("shutdown", app))
        self.connected = False

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/contract-status", guards=[public])
        async def status(request: Request) -> dict[str, bool]:
            return {"connected": self.connected}

        return [status]


async def test_hook_startup_runs_when_the_app_starts_serving(migrated: Any) -> None:
    plugin = Lifecycle()
    async with running(migrated, plugin) as app:
        assert plugin.calls == [("startup", app)]
        async with make_client(app) as client:
            assert (await client.get("/t/shuangluan/contract-status")).json() == {"connected": True}


async def test_hook_shutdown_runs_when_the_app_stops(migrated: Any) -> None:
    plugin = Lifecycle()
    async with running(migrated, plugin) as app:
        assert plugin.connected
    assert plugin.calls == [("startup", app), ("shutdown", app)] and not plugin.connected


# ---- tenant lifecycle ------------------------------------------------------------------------


class Reviewers:
    """Every new district gets this plugin's role, created in the tenant's own transaction."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @hookimpl
    def on_tenant_created(self, tenant: Any, session: Any) -> None:
        self.seen.append((tenant.slug, session.info.get("tenant_id") == tenant.id))
        session.add(Role(code="contract_reviewer", name_zh="评审员", name_en="Reviewer"))


async def test_hook_on_tenant_created_prepares_each_new_district(migrated: Any) -> None:
    plugin = Reviewers()
    async with running(migrated, plugin) as app:
        tenant = await create_tenant(app.state.db, app.state.plugins, "pc-created-" + hex(new_id())[-6:], "新区")
        try:
            async with app.state.db.session(tenant.id) as s:
                roles = set((await s.execute(select(Role.code))).scalars())
            async with app.state.db.session((await load_tenant(app.state, slug="shuangluan")).tenant.id) as s:
                elsewhere = set((await s.execute(select(Role.code))).scalars())
        finally:
            await drop_tenant(migrated, tenant.slug)
    assert plugin.seen == [(tenant.slug, True)]  # called with a session bound to the new tenant
    assert "contract_reviewer" in roles and "district_admin" in roles
    assert "contract_reviewer" not in elsewhere


class Recorder(Switchable):
    def __init__(self, name: str) -> None:
        self.__liuzhi_name__ = name
        self.calls: list[tuple[str, str, bool]] = []

    @hookimpl
    def on_plugin_enabled(self, tenant: Any, session: Any) -> None:
        self.calls.append(("enabled", tenant.slug, session.info.get("tenant_id") == tenant.id))

    @hookimpl
    def on_plugin_disabled(self, tenant: Any, session: Any) -> None:
        self.calls.append(("disabled", tenant.slug, session.info.get("tenant_id") == tenant.id))


async def test_hook_on_plugin_enabled_is_called_only_for_the_plugin_switched_on(migrated: Any, districts: Any) -> None:
    polls, forum = Recorder("contract_polls"), Recorder("contract_forum")
    async with running(migrated, polls, forum) as app:
        d = await districts(app, users=())
        assert await set_plugin(app.state.db, app.state.plugins, d.tenant, "contract_polls", True)
        assert not await set_plugin(app.state.db, app.state.plugins, d.tenant, "contract_polls", True)  # no change
    assert polls.calls == [("enabled", d.slug, True)]
    assert forum.calls == []


async def test_hook_on_plugin_disabled_is_called_only_for_the_plugin_switched_off(
    migrated: Any, districts: Any
) -> None:
    polls, forum = Recorder("contract_polls"), Recorder("contract_forum")
    async with running(migrated, polls, forum) as app:
        d = await districts(app, enable=["contract_polls", "contract_forum"], users=())
        await set_plugin(app.state.db, app.state.plugins, d.tenant, "contract_polls", False)
        await set_plugin(app.state.db, app.state.plugins, d.tenant, "contract_polls", False)  # already off
    assert polls.calls == [("enabled", d.slug, True), ("disabled", d.slug, True)]
    assert forum.calls == [("enabled", d.slug, True)]


class DemoGrid(Switchable):
    """Demo data: one extra grid under the district's root node."""

    __liuzhi_name__ = "contract_demo"

    @hookimpl
    async def demo_data(self, tenant: Any, session: Any, nodes: Any) -> None:
        root = nodes["root"]
        if (await session.execute(select(GridNode.id).where(GridNode.code == "demo-grid"))).first():
            return
        node_id = new_id()
        session.add(
            GridNode(
                id=node_id,
                parent_id=root.id,
                code="demo-grid",
                kind="district",
                name="示范网格",
                path=f"{root.path}{node_id}/",
                depth=root.depth + 1,
            )
        )


class SwitchedOffDemo(Switchable):
    __liuzhi_name__ = "contract_demo_off"

    def __init__(self) -> None:
        self.called = False

    @hookimpl
    def demo_data(self, tenant: Any, session: Any, nodes: Any) -> None:
        self.called = True


async def test_hook_demo_data_seeds_enabled_plugins_once(migrated: Any, districts: Any) -> None:
    off = SwitchedOffDemo()
    async with running(migrated, DemoGrid(), off) as app:
        d = await districts(app, enable=["contract_demo"])  # seeds the demo once
        await seed_demo(app.state.db, app.state.plugins, d.definition)  # and again: nothing new
        async with signed_in_client(app, d.slug) as admin:
            page = main_text((await admin.get(f"/t/{d.slug}/grid/{d.root.id}")).text)
    assert page.count("示范网格") == 1
    assert not off.called  # a plugin the district has off gets no demo data


# ---- per request -----------------------------------------------------------------------------


class Menu(Switchable):
    __liuzhi_name__ = "contract_menu"

    @hookimpl
    def menu_items(self, request: Request) -> list[MenuItem]:
        return [MenuItem("契约菜单", "Contract menu", "/contract-menu/", "contract_menu.view", "◇", 50)]


async def test_hook_menu_items_appear_only_in_the_district_that_switched_the_plugin_on(
    migrated: Any, districts: Any
) -> None:
    async with running(migrated, Menu()) as app:
        d = await districts(
            app, enable=["contract_menu"], users=[("admin", "district_admin"), ("resident", "resident")]
        )
        async with signed_in_client(app, d.slug) as admin:
            assert f"/t/{d.slug}/contract-menu/" in nav_links((await admin.get(f"/t/{d.slug}/")).text)
        async with signed_in_client(app, d.slug, "resident") as resident:
            # The item names an action the resident role lacks.
            assert f"/t/{d.slug}/contract-menu/" not in nav_links((await resident.get(f"/t/{d.slug}/")).text)
        async with signed_in_client(app, "shuangluan") as other_admin:
            links = nav_links((await other_admin.get("/t/shuangluan/")).text)
    assert links and not any("contract-menu" in link for link in links)


class Broken:
    """Always on (no manifest), and broken in every per-request hook."""

    __liuzhi_name__ = "contract_broken"

    @hookimpl
    def menu_items(self, request: Request) -> Any:
        raise RuntimeError("menu exploded")

    @hookimpl
    async def dashboard_widgets(self, request: Request) -> Any:
        raise RuntimeError("widget exploded")


class Healthy:
    @hookimpl
    def menu_items(self, request: Request) -> MenuItem:
        return MenuItem("健康菜单", "Healthy menu", "/healthy/", None, "+", 60)

    @hookimpl
    def dashboard_widgets(self, request: Request) -> Widget:
        return Widget("健康卡片", "Healthy card", "<p>一切正常</p>", 5)


async def test_hook_menu_items_and_dashboard_widgets_of_a_failing_plugin_are_logged_and_skipped(
    migrated: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Litestar's logging set-up replaces the root handlers, so listen on the plugin host's logger.
    plugin_log = logging.getLogger("liuzhi.plugins")
    plugin_log.addHandler(caplog.handler)
    try:
        async with running(migrated, Broken(), Healthy()) as app, signed_in_client(app, "shuangluan") as admin:
            r = await admin.get("/t/shuangluan/")
    finally:
        plugin_log.removeHandler(caplog.handler)
    assert r.status_code == 200
    links = nav_links(r.text)
    assert "/t/shuangluan/healthy/" in links and "/t/shuangluan/smart-service/" in links
    assert "一切正常" in main_text(r.text)
    failures = [rec.getMessage() for rec in caplog.records if rec.name == "liuzhi.plugins"]
    assert "plugin contract_broken failed in hook menu_items; skipped" in failures
    assert "plugin contract_broken failed in hook dashboard_widgets; skipped" in failures


class Widgets(Switchable):
    __liuzhi_name__ = "contract_widgets"

    @hookimpl
    async def dashboard_widgets(self, request: Request) -> list[Widget]:
        return [Widget("待办事项", "To do", "<p class='todo'>3 件待办</p>", 10, "/contract-widgets/")]


async def test_hook_dashboard_widgets_render_on_the_dashboard_of_districts_that_use_the_plugin(
    migrated: Any, districts: Any
) -> None:
    async with running(migrated, Widgets()) as app:
        d = await districts(app, enable=["contract_widgets"])
        async with signed_in_client(app, d.slug) as admin:
            html = (await admin.get(f"/t/{d.slug}/")).text
        async with signed_in_client(app, "shuangluan") as other_admin:
            other = (await other_admin.get("/t/shuangluan/")).text
    assert 'data-plugin="contract_widgets"' in html
    assert "待办事项" in main_text(html) and "3 件待办" in main_text(html)
    assert f'href="/t/{d.slug}/contract-widgets/"' in html  # the card links into the tenant
    assert "待办事项" not in main_text(other)


class Panels(Switchable):
    __liuzhi_name__ = "contract_panels"

    @hookimpl
    def node_panels(self, request: Request, node: GridNode) -> Panel:
        return Panel("网格概况", "Grid overview", f"<p>{node.name}：12 户</p>", 10)


async def test_hook_node_panels_show_on_the_grid_node_page(migrated: Any, districts: Any) -> None:
    async with running(migrated, Panels()) as app:
        d = await districts(app, enable=["contract_panels"])
        async with signed_in_client(app, d.slug) as admin:
            r = await admin.get(f"/t/{d.slug}/grid/{d.root.id}")
    assert r.status_code == 200
    assert 'data-plugin="contract_panels"' in r.text
    assert "网格概况" in main_text(r.text) and "契约测试区：12 户" in main_text(r.text)


class Motto(Switchable):
    __liuzhi_name__ = "contract_vars"

    def __init__(self) -> None:
        self.templates: list[str] = []

    @hookimpl
    async def extra_template_vars(self, request: Request, template: str) -> dict[str, str] | None:
        self.templates.append(template)
        if template != "contract/vars.html":
            return None
        return {"contract_motto": f"{ctx(request).tenant.name_zh}：共建共治共享"}

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/contract-vars/", guards=[requires("contract_vars.view")])
        async def page(request: Request) -> Any:
            return await render(request, "contract/vars.html")

        return [page]


async def test_hook_extra_template_vars_reach_the_template_being_rendered(migrated: Any, districts: Any) -> None:
    plugin = Motto()
    async with running(migrated, plugin) as app:
        d = await districts(app, enable=["contract_vars"])
        async with signed_in_client(app, d.slug) as admin:
            r = await admin.get(f"/t/{d.slug}/contract-vars/")
            partial = await admin.get(f"/t/{d.slug}/contract-vars/", headers={"HX-Request": "true"})
            dashboard = await admin.get(f"/t/{d.slug}/")
    assert r.status_code == 200 and "契约测试区：共建共治共享" in main_text(r.text)
    # An htmx request gets the content block alone, with the same extra variables as the page.
    assert partial.status_code == 200 and "<html" not in partial.text and "共建共治共享" in partial.text
    assert dashboard.status_code == 200
    assert "contract/vars.html" in plugin.templates and "core/dashboard.html" in plugin.templates


class FileGate(Switchable):
    """Decides over files whose owner_type is its own; says nothing about others'."""

    __liuzhi_name__ = "contract_files"

    @hookimpl
    def file_access(self, request: Request, file: Any) -> bool | None:
        if file.owner_type != "contract_files.attachment":
            return None
        return file.owner_id == "open"


async def test_hook_file_access_decides_who_may_download_a_stored_file(migrated: Any, districts: Any) -> None:
    async with running(migrated, FileGate()) as app:
        d = await districts(app, enable=["contract_files"])
        storage = app.state.storage
        async with app.state.db.transaction(d.tenant.id) as s:
            files = {
                label: await storage.save(
                    s,
                    d.tenant.id,
                    data=label.encode(),
                    filename=f"{label}.txt",
                    content_type="text/plain",
                    owner_type=owner_type,
                    owner_id=label,
                )
                for label, owner_type in (
                    ("open", "contract_files.attachment"),
                    ("closed", "contract_files.attachment"),
                    ("unclaimed", "nobody.attachment"),
                )
            }
        async with signed_in_client(app, d.slug) as admin:
            opened = await admin.get(f"/t/{d.slug}/files/{files['open'].id}")
            closed = await admin.get(f"/t/{d.slug}/files/{files['closed'].id}")
            unclaimed = await admin.get(f"/t/{d.slug}/files/{files['unclaimed'].id}")
        async with signed_in_client(app, "shuangluan") as other_admin:
            elsewhere = await other_admin.get(f"/t/shuangluan/files/{files['open'].id}")
    assert opened.status_code == 200 and opened.content == b"open"
    assert closed.status_code == 404  # the plugin said no
    assert unclaimed.status_code == 404  # no plugin answered: no access
    assert elsewhere.status_code == 404  # another tenant's file id


# ---- events and adapters ---------------------------------------------------------------------


class Listener(Switchable):
    def __init__(self, name: str) -> None:
        self.__liuzhi_name__ = name
        self.heard: list[tuple[int, Event]] = []

    @hookimpl
    async def on_event(self, tenant_id: int, event: Event) -> str:
        self.heard.append((tenant_id, event))
        return f"{self.__liuzhi_name__} heard {event.name}"


class DeafAndBroken:
    __liuzhi_name__ = "contract_deaf"

    @hookimpl
    def on_event(self, tenant_id: int, event: Event) -> None:
        raise RuntimeError("listener exploded")


async def test_hook_on_event_reaches_the_enabled_plugins_of_the_tenant(migrated: Any, districts: Any) -> None:
    board, archive = Listener("contract_board"), Listener("contract_archive")
    async with running(migrated, board, archive, DeafAndBroken()) as app:
        d = await districts(app, enable=["contract_board"], users=())
        enabled = (await load_tenant(app.state, slug=d.slug)).enabled
        event = Event("contract.notice.posted", {"notice_id": 7})
        results = await emit(app.state, d.tenant.id, enabled, event)
    assert board.heard == [(d.tenant.id, event)]
    assert archive.heard == []  # switched off in this district
    assert results == [("contract_board", "contract_board heard contract.notice.posted")]  # the failure was skipped


class SmsGateway:
    __liuzhi_name__ = "contract_sms"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    @hookimpl
    def send_notification(self, notification: Notification, channel: str) -> bool | None:
        if channel != "sms":
            return None
        self.sent.append((channel, notification.title))
        return True


class WechatOnly:
    __liuzhi_name__ = "contract_wechat"

    def __init__(self) -> None:
        self.asked: list[str] = []

    @hookimpl
    def send_notification(self, notification: Notification, channel: str) -> bool | None:
        self.asked.append(channel)
        return True if channel == "wechat" else None


async def test_hook_send_notification_delivers_other_channels_beside_the_in_app_bell(
    migrated: Any, districts: Any
) -> None:
    sms, wechat = SmsGateway(), WechatOnly()
    async with running(migrated, sms, wechat) as app:
        d = await districts(app)
        async with app.state.db.transaction(d.tenant.id) as s:
            admin_id = (await s.execute(select(User.id).where(User.username == "admin"))).scalar_one()
            note = Notification(d.tenant.id, admin_id, "网格巡查提醒", channels=("inapp", "sms"))
            await notify(app.state, s, note)
        async with app.state.db.session(d.tenant.id) as s:
            stored = (await s.execute(select(InAppNotification.title))).scalars().all()
        async with signed_in_client(app, d.slug) as admin:
            html = (await admin.get(f"/t/{d.slug}/")).text
    assert stored == ["网格巡查提醒"]
    bell = re.search(r'<span id="lz-unread"([^>]*)>(\d+)</span>', html)
    assert bell is not None and bell.group(2) == "1" and "hidden" not in bell.group(1)  # the bell shows 1
    assert sms.sent == [("sms", "网格巡查提醒")]  # the first adapter that answers wins …
    assert wechat.asked == ["sms"]  # … after one that declined; "inapp" never goes to adapters


class PortalResolver:
    @hookimpl
    def resolve_tenant(self, host: str, path: str) -> str | None:
        return "shuangluan" if host == "wx.portal.example" else None


async def test_hook_resolve_tenant_maps_a_host_core_does_not_know(migrated: Any) -> None:
    async with running(migrated, PortalResolver()) as app:
        async with make_client(app, host="wx.portal.example") as portal:
            r = await portal.get("/login")
        async with make_client(app, host="elsewhere.example") as stranger:
            unknown = await stranger.get("/login")
    assert r.status_code == 200 and "双滦区" in r.text
    assert unknown.status_code == 404


# ---- pillars at a glance, outside sign-in, counting rules (shared services) --------------------


class Hours(Switchable):
    """A pillar that shows a resident their hours and a node its headline figures."""

    __liuzhi_name__ = "contract_hours"

    @hookimpl
    async def my_page(self, request: Any, user_id: int, session: Any) -> Any:
        from core.pluginhost.manifest import Figure, MySection

        name = await session.scalar(select(User.display_name).where(User.id == user_id))
        return MySection(
            "志愿服务",
            "Volunteering",
            figures=(Figure("服务时长", "Hours", 12.5, "小时", "h"),),
            html=f"<p>{name}</p>",
            href="/contract-hours/",
            order=20,
        )

    @hookimpl
    def node_figures(self, request: Any, node: Any, session: Any) -> Any:
        from core.pluginhost.manifest import Figure

        return [
            Figure("服务时长", "Hours served", 340, "小时", "h", order=5),
            Figure(f"{node.name}志愿者", "Volunteers", 27, "人", "", order=50),
        ]


class Cases(Switchable):
    __liuzhi_name__ = "contract_cases"

    @hookimpl
    def node_figures(self, request: Any, node: Any, session: Any) -> Any:
        from core.pluginhost.manifest import Figure

        return Figure("调解成功", "Cases mediated", 9, "件", "", order=10)


class BrokenGlance:
    __liuzhi_name__ = "contract_broken_glance"

    @hookimpl
    def node_figures(self, request: Any, node: Any, session: Any) -> Any:
        raise RuntimeError("a bug in a plugin")

    @hookimpl
    def my_page(self, request: Any, user_id: int, session: Any) -> Any:
        return "not a section"


async def test_hook_my_page_collects_each_enabled_pillars_part_beside_cores_own(migrated: Any, districts: Any) -> None:
    from core.pluginhost import glance

    async with running(migrated, Hours(), BrokenGlance()) as app:
        on = await districts(app, enable=["contract_hours"])
        off = await districts(app)
        for d, expect_hours in ((on, True), (off, False)):
            enabled = (await load_tenant(app.state, slug=d.slug)).enabled
            async with app.state.db.session(d.tenant.id) as s:
                admin_id = (await s.execute(select(User.id).where(User.username == "admin"))).scalar_one()
                parts = await glance.my_page(app.state.plugins, enabled, None, admin_id, s)
            titles = [(p.plugin, p.item.title("zh_Hans")) for p in parts]
            assert titles[0] == ("core.services", "我的参与")  # core's section from the shared services first
            assert (("contract_hours", "志愿服务") in titles) is expect_hours
            if expect_hours:
                section = next(p.item for p in parts if p.plugin == "contract_hours")
                assert section.figures[0].value == 12.5 and section.html == "<p>admin</p>"


async def test_hook_node_figures_show_every_enabled_pillar_at_a_glance(migrated: Any, districts: Any) -> None:
    from core.pluginhost import glance

    async with running(migrated, Hours(), Cases(), BrokenGlance()) as app:
        d = await districts(app, enable=["contract_hours", "contract_cases"])
        enabled = (await load_tenant(app.state, slug=d.slug)).enabled
        async with app.state.db.session(d.tenant.id) as s:
            parts = await glance.node_figures(app.state.plugins, enabled, None, d.root, s)
            only_cases = await glance.node_figures(app.state.plugins, {"contract_cases"}, None, d.root, s)
    # Core adds its own figures (the shared services', always on) beside the plugins'.
    assert [p.plugin for p in parts].count("core.services") == 4
    pillars = [p for p in parts if p.plugin != "core.services"]
    assert [(p.plugin, p.item.label("zh_Hans"), p.item.value) for p in pillars] == [
        ("contract_hours", "服务时长", 340),
        ("contract_cases", "调解成功", 9),
        ("contract_hours", "契约测试区志愿者", 27),
    ]  # in order; the broken plugin is skipped and the rest still shows
    assert [p.plugin for p in only_cases if p.plugin != "core.services"] == ["contract_cases"]


class GovIdentity(Switchable):
    __liuzhi_name__ = "contract_gov_identity"
    name = "province_gov"
    title_zh = "冀时办统一身份认证"
    title_en = "Provincial unified identity"

    async def authenticate(self, tenant_id: int, credentials: Any) -> Any:
        from core.services.accounts import ExternalProfile

        if credentials.get("ticket") != "ST-valid":
            return None
        return ExternalProfile("gov-123", "孙八", "13100009999")

    @hookimpl
    def identity_providers(self) -> list[Any]:
        return [self]


async def test_hook_identity_providers_sign_a_resident_in_through_an_outside_identity(
    migrated: Any, districts: Any
) -> None:
    from core.services import accounts
    from core.services.errors import InvalidInput

    async with running(migrated, GovIdentity()) as app:
        d = await districts(app, enable=["contract_gov_identity"])
        plain = await districts(app)
        enabled = (await load_tenant(app.state, slug=d.slug)).enabled
        found = await accounts.providers(app.state.plugins, enabled)
        assert list(found) == ["province_gov"]  # core's development provider is off outside debug
        nothing = await accounts.providers(app.state.plugins, (await load_tenant(app.state, slug=plain.slug)).enabled)
        assert nothing == {}
        async with app.state.db.transaction(d.tenant.id) as s:
            with pytest.raises(InvalidInput, match="did not succeed"):
                await accounts.sign_in_external(s, app.state.vault, found["province_gov"], {"ticket": "forged"})
            user = await accounts.sign_in_external(s, app.state.vault, found["province_gov"], {"ticket": "ST-valid"})
        async with app.state.db.session(d.tenant.id) as s:
            again = await accounts.sign_in_external(s, app.state.vault, found["province_gov"], {"ticket": "ST-valid"})
            assert again.id == user.id and user.display_name == "孙八"
    debug = replace(migrated, debug=True)
    async with running(debug) as app:
        assert "development" in await accounts.providers(app.state.plugins, ())


class QuorumRule:
    __liuzhi_name__ = "contract_rules"

    @hookimpl
    def ballot_rules(self) -> dict[str, Any]:
        from core.services.ballots import Outcome

        def unanimous(counts: Any, params: Any) -> Any:
            yes = counts.yes()
            return Outcome("unanimous", counts.cast_heads > 0, yes.heads == counts.cast_heads)

        return {"unanimous": unanimous, "owners_278": unanimous}  # a built-in cannot be replaced


async def test_hook_ballot_rules_add_a_counting_rule_ballots_can_use(migrated: Any, districts: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from core.pluginhost import glance
    from core.services import ballots
    from core.services.ballots.rules import owners_278

    async with running(migrated, QuorumRule()) as app:
        rules = glance.ballot_rules(app.state.plugins)
        assert rules["owners_278"] is owners_278 and "unanimous" in rules
        d = await districts(app)
        async with app.state.db.transaction(d.tenant.id) as s:
            admin_id = (await s.execute(select(User.id).where(User.username == "admin"))).scalar_one()
            start = datetime.now(UTC) - timedelta(minutes=1)
            ballot = await ballots.create(
                s,
                title="一致同意",
                node=d.root,
                rule="unanimous",
                rules=rules,
                opens_at=start,
                closes_at=start + timedelta(hours=1),
            )
            await ballots.add_electors(s, ballot, ballots.electorate.users([admin_id]))
            await ballots.open_ballot(s, ballot)
            await ballots.cast(s, ballot.id, admin_id, [(await ballots.options_of(s, ballot.id))[0].id])
            result = await ballots.close(s, ballot, early="测试", rules=rules)
    assert result.outcome.rule == "unanimous" and result.outcome.passed is True


class NoteCounter:
    @hookimpl
    def usage_figures(self, session: Any) -> dict[str, int]:
        return {"Notes written": 7}


class BrokenCounter:
    @hookimpl
    def usage_figures(self, session: Any) -> dict[str, int]:
        raise RuntimeError("boom")


async def test_hook_usage_figures_adds_a_plugins_counts_to_the_operators_usage_page(migrated: Any) -> None:
    async with running(migrated, NoteCounter(), BrokenCounter()) as app, make_client(app) as operator:
        await operator.get("/platform/login")
        signed = await operator.post(
            "/platform/login",
            data={"username": "operator", "password": "liuzhi-demo", "_csrf_token": operator.cookies["liuzhi_csrf"]},
        )
        assert signed.status_code == 303
        page = await operator.get("/platform/tenants/shuangluan")
    assert page.status_code == 200  # the plugin that raised is skipped
    assert re.search(r"Notes written</th><td[^>]*>7<", page.text)


# ---- roles plugins bring ----------------------------------------------------------------------


class Wardens:
    __liuzhi_name__ = "kc_wardens"

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest("kc_wardens", "other", "巡查", "Wardens", "0.1")

    @hookimpl
    def register_roles(self) -> list[DeclaredRole]:
        return [DeclaredRole("kc_warden", "巡查员", "Warden", ("core.grid.view",))]


async def test_hook_register_roles_gives_every_district_the_role_with_its_core_grants(
    migrated: Any, districts: Any
) -> None:
    async with running(migrated, Wardens()) as app:
        d = await districts(app, users=[("admin", "district_admin"), ("warden", "kc_warden")])
        async with app.state.db.session(d.tenant.id) as s:
            role = (await s.execute(select(Role).where(Role.code == "kc_warden"))).scalar_one()
            grants = set(
                (
                    await s.execute(select(RolePermission.action).where(RolePermission.role_code == "kc_warden"))
                ).scalars()
            )
        async with signed_in_client(app, d.slug, "warden") as warden:
            assert (await warden.get(f"/t/{d.slug}/grid/")).status_code == 200  # the declared grant works
    assert (role.name_zh, role.name_en, role.builtin) == ("巡查员", "Warden", True)
    assert grants == {"core.grid.view"}
