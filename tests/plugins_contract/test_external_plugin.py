"""A third-party plugin, installed as its own distribution (tests/external_plugin), works end to end:
listed, migrated on its own Alembic branch, switched on by one district and invisible to another.

The package is installed with pip into a temporary folder put on sys.path for this module only,
so the venv is never touched. Its schema lives in a database of its own: the shared test
database must not learn a migration branch that the other apps of the session do not know.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

import liuzhi.api
from core.app import load_models
from core.config import REPO_ROOT, Settings
from core.db.engine import Database, make_engine
from core.db.migrate import current_heads, upgrade
from core.pluginhost.manager import PluginHost
from core.tenancy.definitions import read_all
from core.tenancy.demo import seed_demo
from core.tenancy.service import apply_definition, get_tenant, set_plugin
from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database, form_post, login, main_text, make_client
from tests.conftest import nav_links as nav_links_of
from tests.plugins_contract.conftest import forget_tables, running

SOURCE = Path(__file__).resolve().parent.parent / "external_plugin"
NAME = "example_pillar"
PAGE = "/example/"
RLS_FLAGS = text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = :table")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``pip install --target`` the example distribution, as an operator would install a plugin."""
    work = tmp_path_factory.mktemp("example-pillar")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    src = shutil.copytree(SOURCE, work / "src", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index"]
    result = subprocess.run(
        [*pip, "--target", str(target), str(src)],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        check=False,
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()  # so importlib.metadata sees the new entry point
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        importlib.invalidate_caches()
        forget_tables("example_notes")
        for module in [m for m in sys.modules if m.split(".")[0] == "liuzhi_example_pillar"]:
            del sys.modules[module]


@pytest.fixture(scope="module")
async def example_settings(
    settings: Settings, installed: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    """A database of its own, built like `liuzhi db upgrade` + `liuzhi tenants apply` + demo accounts."""
    pg_name = ""
    if PG_URL:
        pg_name, owner_url, app_url = await _create_pg_database()
        s = replace(settings, database_url=app_url, migrate_database_url=owner_url)
    else:
        path = tmp_path_factory.mktemp("example-db") / "example.sqlite3"
        s = replace(settings, database_url=f"sqlite+aiosqlite:///{path}", migrate_database_url=None)
    host = PluginHost()
    load_models(host)
    await upgrade(s, host)
    db = Database(s.database_url)
    try:
        for d in read_all(s.tenants_dir):
            if d.slug == "shuangluan":
                await apply_definition(db, host, d)
                await seed_demo(db, host, d)
    finally:
        await db.dispose()
    yield s
    if PG_URL:
        await _drop_pg_database(pg_name)


@pytest.fixture(scope="module")
async def example_app(example_settings: Settings) -> AsyncIterator[Any]:
    async with running(example_settings) as app:  # entry points loaded, as in production
        yield app


async def switched_on(app: Any, districts: Any, users: Any = (("admin", "district_admin"),)) -> Any:
    d = await districts(app, users=users)
    await set_plugin(app.state.db, app.state.plugins, d.tenant, NAME, True)
    app.state.tenant_cache.clear()
    return d


async def note_count(app: Any, tenant_id: int) -> int:
    from liuzhi_example_pillar.models import ExampleNote

    async with app.state.db.session(tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(ExampleNote)) or 0)


def test_liuzhi_plugins_list_shows_the_installed_plugin_with_its_hooks(installed: Path) -> None:
    from core.cli import cli

    host = PluginHost()
    assert NAME in host.names
    assert host.hooks_of(NAME) == [
        "dashboard_widgets",
        "demo_data",
        "on_tenant_created",
        "plugin_manifest",
        "register_commands",
        "register_migrations",
        "register_models",
        "register_routes",
    ]
    assert importlib.metadata.version("liuzhi-example-pillar") == "0.1.0"
    result = CliRunner().invoke(cli, ["plugins", "list"])
    assert result.exit_code == 0, result.exception
    out = result.output
    assert "example_pillar  0.1.0  pillar=other  示例支柱 / Example pillar" in out
    assert "hooks: dashboard_widgets, demo_data, on_tenant_created" in out


def test_its_command_joins_the_liuzhi_cli(installed: Path) -> None:
    import core.cli

    group = click.Group("liuzhi", commands=dict(core.cli.cli.commands))  # as core.cli.main wires it
    PluginHost().call_sync("register_commands", cli=group)
    runner = CliRunner()
    assert "example-hello" in runner.invoke(group, ["--help"]).output
    result = runner.invoke(group, ["example-hello"])
    assert result.exit_code == 0 and result.output == "你好 / hello from example_pillar\n"


async def test_db_upgrade_creates_its_table_on_its_own_branch(example_settings: Settings) -> None:
    assert "example_0001" in await current_heads(example_settings)
    engine = make_engine(example_settings.owner_url)
    try:
        async with engine.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("example_notes")})
            pk = await conn.run_sync(lambda c: inspect(c).get_pk_constraint("example_notes")["constrained_columns"])
            rls = None
            if conn.dialect.name == "postgresql":
                row = await conn.execute(RLS_FLAGS, {"table": "example_notes"})
                rls = tuple(row.one())
    finally:
        await engine.dispose()
    assert {"tenant_id", "id", "title", "body", "author_id"} <= columns
    assert pk == ["tenant_id", "id"]
    if PG_URL:
        assert rls == (True, True)  # row-level security, forced even for the owner


async def test_a_district_admin_who_switches_it_on_adds_and_lists_notes(example_app: Any, districts: Any) -> None:
    d = await switched_on(example_app, districts)
    base = f"/t/{d.slug}"
    async with make_client(example_app) as admin:
        assert (await login(admin, d.slug, "admin")).status_code == 303
        dashboard = await admin.get(f"{base}/")
        assert f"{base}{PAGE}" in nav_links_of(dashboard.text)
        assert 'data-plugin="example_pillar"' in dashboard.text  # its widget

        empty = await admin.get(f"{base}{PAGE}")
        assert empty.status_code == 200
        assert "社区笔记" in main_text(empty.text)  # its own zh_Hans catalogue, found by convention
        assert "还没有笔记" in main_text(empty.text)
        assert re.search(r"/(static|assets/[0-9a-f]{12})/plugins/example_pillar/example\.css", empty.text)

        added = await form_post(admin, f"{base}/example/notes", {"title": "楼道照明维修", "body": "2号楼已报修"})
        assert added.status_code == 303 and added.headers["location"] == f"{base}{PAGE}"
        listed = main_text((await admin.get(f"{base}{PAGE}")).text)
        assert "楼道照明维修" in listed and "2号楼已报修" in listed

        missing = await form_post(admin, f"{base}/example/notes", {"title": "  ", "body": "没有标题"})
        assert missing.status_code == 400 and "请填写笔记标题。" in main_text(missing.text)
        assert "没有标题" in missing.text  # what was typed is kept
        too_long = await form_post(admin, f"{base}/example/notes", {"title": "长" * 101})
        assert too_long.status_code == 400 and "标题最多 100 个字。" in main_text(too_long.text)

        css = await admin.get("/static/plugins/example_pillar/example.css")
    assert await note_count(example_app, d.tenant.id) == 1  # the bad forms saved nothing
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".ex-notes" in css.text


async def test_its_default_grants_let_community_workers_in_and_keep_residents_out(
    example_app: Any, districts: Any
) -> None:
    d = await switched_on(example_app, districts, users=[("worker", "community_worker"), ("resident", "resident")])
    async with make_client(example_app) as worker, make_client(example_app) as resident:
        assert (await login(worker, d.slug, "worker")).status_code == 303
        assert (await login(resident, d.slug, "resident")).status_code == 303
        assert (await worker.get(f"/t/{d.slug}{PAGE}")).status_code == 200
        assert (await resident.get(f"/t/{d.slug}{PAGE}")).status_code == 403
        assert f"/t/{d.slug}{PAGE}" not in nav_links_of((await resident.get(f"/t/{d.slug}/")).text)


async def test_a_district_that_has_not_switched_it_on_never_sees_it(example_app: Any, districts: Any) -> None:
    await switched_on(example_app, districts)  # on elsewhere: still nothing in shuangluan
    async with make_client(example_app) as admin:
        assert (await login(admin, "shuangluan", "admin")).status_code == 303
        assert (await admin.get("/t/shuangluan/example/")).status_code == 404
        posted = await form_post(admin, "/t/shuangluan/example/notes", {"title": "闯入"})
        dashboard = await admin.get("/t/shuangluan/")
    assert posted.status_code == 404
    assert dashboard.status_code == 200 and "/t/shuangluan/smart-service/" in nav_links_of(dashboard.text)
    assert not any("/example/" in link for link in nav_links_of(dashboard.text))
    assert 'data-plugin="example_pillar"' not in dashboard.text


async def test_demo_data_adds_its_two_notes_once(example_app: Any, districts: Any) -> None:
    d = await districts(example_app, enable=[NAME])  # seeded once on creation
    await seed_demo(example_app.state.db, example_app.state.plugins, d.definition)
    assert await note_count(example_app, d.tenant.id) == 2
    async with make_client(example_app) as admin:
        assert (await login(admin, d.slug, "admin")).status_code == 303
        page = main_text((await admin.get(f"/t/{d.slug}{PAGE}")).text)
    assert page.count("楼道堆物清理") == 1 and page.count("周三议事会") == 1


@pytest.mark.skipif(not PG_URL, reason="row-level security is PostgreSQL's")
async def test_raw_sql_on_its_table_sees_only_the_bound_tenants_notes(example_app: Any, districts: Any) -> None:
    d = await districts(example_app, enable=[NAME], users=())  # two demo notes
    shuangluan = await get_tenant(example_app.state.db, "shuangluan")
    sql = text("SELECT count(*) FROM example_notes")
    async with example_app.state.db.session(shuangluan.id) as s:
        assert (await s.execute(sql)).scalar_one() == 0
    async with example_app.state.db.session(d.tenant.id) as s:
        assert (await s.execute(sql)).scalar_one() == 2


PUBLIC = {"liuzhi.api", "liuzhi.testing"}
SCAFFOLD = REPO_ROOT / "core" / "pluginhost" / "scaffold_template"


def imports_beyond_the_public_api(root: Path, pattern: str) -> list[str]:
    """Every import of Liuzhi's inside (``core…``, ``plugins…``, ``liuzhi.<not api/testing>``) and
    every name taken from ``liuzhi.api`` that it does not list, as "file:line module.name"."""
    found = []
    for path in sorted(root.rglob(pattern)):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [(node.module, alias.name) for alias in node.names]
            else:
                continue
            for module, name in modules:
                top = module.split(".")[0]
                if top in ("core", "plugins") or (top == "liuzhi" and module not in PUBLIC):
                    found.append(f"{path.relative_to(root)}:{node.lineno} {module}")
                elif module == "liuzhi.api" and name not in liuzhi.api.__all__:
                    found.append(f"{path.relative_to(root)}:{node.lineno} liuzhi.api.{name} (not in __all__)")
    return found


def test_the_example_plugin_and_the_scaffold_import_only_the_public_api() -> None:
    assert imports_beyond_the_public_api(SOURCE, "*.py") == []
    assert imports_beyond_the_public_api(SCAFFOLD, "*.py-tpl") == []
    assert len(list(SOURCE.rglob("*.py"))) >= 8  # the check read the plugin, its migration and its tests


def test_the_import_check_catches_an_import_from_core(tmp_path: Path) -> None:
    (tmp_path / "sneaky.py").write_text("from core.web.context import ctx\nfrom liuzhi.api import nothing_such\n")
    assert imports_beyond_the_public_api(tmp_path, "*.py") == [
        "sneaky.py:1 core.web.context",
        "sneaky.py:2 liuzhi.api.nothing_such (not in __all__)",
    ]


@pytest.mark.skipif(
    not os.environ.get("LIUZHI_TEST_PLUGIN_KIT"), reason="slow: .ci/run runs it (LIUZHI_TEST_PLUGIN_KIT=1)"
)
def test_its_own_tests_pass_on_the_shipped_harness(installed: Path, tmp_path: Path) -> None:
    """What its author runs: pytest in the plugin's folder, against the installed copy."""
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    work = shutil.copytree(SOURCE, tmp_path / "src", ignore=skip)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), str(REPO_ROOT)])}
    env.pop("LIUZHI_TEST_PLUGIN_KIT", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "4 passed" in result.stdout
