"""The plugin contract a stranger relies on (#16): the public API module lists typed names only;
a renamed name keeps working for a version with a warning; a plugin written for another core API
is refused with a message that says what to do, and `liuzhi plugins list` shows it; an htmx
partial renders with the macros its page imports; a missing template variable fails in tests and
renders empty (logged) in production; a CLI command gets a tenant-bound session from one call."""

from __future__ import annotations

import inspect
import logging
import re
import types
import typing
from typing import Any

import pytest
from click.testing import CliRunner
from jinja2 import DictLoader
from jinja2.exceptions import UndefinedError
from sqlalchemy import func, select

import liuzhi.api
from core import CORE_API_VERSION
from core.config import REPO_ROOT
from core.pluginhost.manager import PluginHost, api_problem
from core.pluginhost.manifest import Manifest
from core.web.render import build_environment, render_block

PAGE = """{% extends "layout.html" %}
{% from "macros.html" import empty %}
{% set greeting = "你好" %}
{% block content %}<section>{{ greeting }} {{ empty(message) }}</section>{% endblock %}"""


def test_every_name_of_the_public_api_is_importable_and_typed() -> None:
    untyped = []
    for name in liuzhi.api.__all__:
        value = getattr(liuzhi.api, name)
        if isinstance(value, types.ModuleType) or inspect.isclass(value) or not callable(value):
            continue
        if typing.get_origin(value) is typing.Annotated:  # Form: a type, not a function
            continue
        sig = inspect.signature(value)
        params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if sig.return_annotation is inspect.Signature.empty or any(p.annotation is p.empty for p in params):
            untyped.append(name)
    assert untyped == []
    assert {"Manifest", "Action", "MenuItem", "Widget", "Panel", "TenantScoped", "requires", "render"} <= set(
        liuzhi.api.__all__
    )
    assert "block" in inspect.signature(liuzhi.api.render).parameters
    assert liuzhi.api.API_VERSION == CORE_API_VERSION


def test_a_deprecated_name_keeps_working_for_a_version_and_says_where_it_went(monkeypatch: Any) -> None:
    monkeypatch.setitem(liuzhi.api.DEPRECATED, "render_page", ("render", CORE_API_VERSION + 1))
    with pytest.warns(DeprecationWarning, match=r"liuzhi.api.render_page is deprecated .* use liuzhi.api.render"):
        assert liuzhi.api.render_page is liuzhi.api.render
    with pytest.raises(AttributeError):
        liuzhi.api.never_was  # noqa: B018


def manifest(core_api: int) -> Manifest:
    return Manifest(
        name="contract_api", pillar="other", title_zh="接口", title_en="API", version="1", core_api=core_api
    )


def test_a_plugin_for_another_core_api_is_refused_with_what_to_do() -> None:
    assert api_problem(manifest(CORE_API_VERSION)) is None
    newer = api_problem(manifest(CORE_API_VERSION + 1))
    assert newer is not None and f"needs core API {CORE_API_VERSION + 1}" in newer and "upgrade Liuzhi" in newer
    older = api_problem(manifest(0))
    assert older is not None and "no longer serves" in older and "docs/plugins.md" in older


def test_plugins_list_names_the_core_api_and_each_refused_plugin(monkeypatch: Any) -> None:
    import core.cli

    host = PluginHost()
    host.broken["contract_old"] = api_problem(manifest(CORE_API_VERSION + 1)) or ""
    monkeypatch.setattr(core.cli, "_host", lambda: host)
    result = CliRunner().invoke(core.cli.cli, ["plugins", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"core API {CORE_API_VERSION}"
    assert any(line.startswith("smart_service  ") and f"core_api={CORE_API_VERSION}" in line for line in lines)
    assert f"contract_old  REFUSED: needs core API {CORE_API_VERSION + 1}" in result.output


def environment(strict: bool) -> Any:
    env = build_environment([], strict=strict)
    env.loader.loaders.insert(0, DictLoader({"contract/page.html": PAGE}))  # type: ignore[union-attr]
    return env


def test_an_htmx_partial_sees_the_macros_and_sets_its_page_imports_at_the_top() -> None:
    tpl = environment(strict=True).get_template("contract/page.html")
    html = render_block(tpl, "content", {"message": "还没有记录"})
    assert html == '<section>你好 <p class="lz-empty">还没有记录</p></section>'


def test_a_missing_variable_fails_under_test_and_renders_empty_and_logged_in_production(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(UndefinedError):
        render_block(environment(strict=True).get_template("contract/page.html"), "content", {})
    with caplog.at_level(logging.WARNING, logger="liuzhi.templates"):
        html = render_block(environment(strict=False).get_template("contract/page.html"), "content", {})
    assert html == '<section>你好 <p class="lz-empty"></p></section>'
    assert any("'message' is undefined" in r.getMessage() for r in caplog.records)


async def test_tenant_session_binds_a_cli_command_to_one_district(app: Any, districts: Any) -> None:
    from core.grids.models import GridNode

    one = await districts(app, users=(), communities=("a",))
    other = await districts(app, users=())
    async with liuzhi.api.tenant_session(one.slug, database=app.state.db) as s:
        assert await s.scalar(select(func.count()).select_from(GridNode)) == 2  # its root and community a
    async with liuzhi.api.tenant_session(other.tenant.id, database=app.state.db) as s:
        assert await s.scalar(select(func.count()).select_from(GridNode)) == 1


DOCS = (REPO_ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def test_the_docs_name_every_liuzhi_variable_a_plugin_author_meets() -> None:
    config = (REPO_ROOT / "core" / "config.py").read_text()
    harness = (REPO_ROOT / "liuzhi" / "testing.py").read_text()
    names = {f"LIUZHI_{n}" for n in re.findall(r'_(?:env|flag|list)\("([A-Z_]+)"', config)}
    names |= set(re.findall(r"LIUZHI_[A-Z_]+[A-Z]", harness)) | {"LIUZHI_RUN_JOBS", "LIUZHI_TEST_PLUGIN_KIT"}
    assert sorted(n for n in names if f"`{n}`" not in DOCS) == []
    assert "`liuzhi.tenant_id`" in DOCS and "/t/<district>/login" in DOCS and "/t/<district>/admin/plugins" in DOCS


def test_every_action_the_docs_show_reads_plugin_thing_verb() -> None:
    shown = re.findall(r'(?:Action\(|requires\(|can\()\s*"([^"]+)"', DOCS)
    shown += re.findall(r'MenuItem\("[^"]*", "[^"]*", "[^"]*", "([^"]+)"', DOCS)
    assert len(shown) >= 5
    assert [a for a in shown if len(a.split(".")) != 3] == []


def test_tenants_apply_demo_seeds_a_plugin_switched_on_later_once(migrated: Any, tmp_path: Any) -> None:
    """`liuzhi tenants apply --demo`: demo data of every plugin on after the whole definition is
    applied, so one switched on in a later apply gets its demo rows then, and only once."""
    import asyncio
    import secrets
    import shutil

    import core.cli
    from core.db.engine import Database
    from core.tenancy.service import get_tenant
    from liuzhi.testing import drop_tenant
    from plugins.rule_of_law.models import Team

    slug = "kd-" + secrets.token_hex(3)
    folder = tmp_path / "tenants" / slug
    shutil.copytree(REPO_ROOT / "tenants" / "luanping", folder)
    toml = folder / "tenant.toml"
    toml.write_text(
        toml.read_text()
        .replace('slug = "luanping"', f'slug = "{slug}"')
        .replace("rule_of_law = { enabled = true }", "rule_of_law = { enabled = false }")
    )
    env = {
        "LIUZHI_DATABASE_URL": migrated.database_url,
        "LIUZHI_MIGRATE_DATABASE_URL": migrated.migrate_database_url or "",
        "LIUZHI_DATA_DIR": str(tmp_path / "data"),
        "LIUZHI_SECRET_KEY": "test-secret",
    }

    def apply() -> str:
        args = ["tenants", "apply", "--demo", "--dir", str(tmp_path / "tenants")]
        result = CliRunner().invoke(core.cli.cli, args, env=env)
        assert result.exit_code == 0, result.output
        return result.output

    async def teams() -> int:
        db = Database(migrated.database_url)
        try:
            tenant = await get_tenant(db, slug)
            async with db.session(tenant.id) as s:
                return int(await s.scalar(select(func.count()).select_from(Team)) or 0)
        finally:
            await db.dispose()

    try:
        assert f"{slug}: demo accounts and data seeded" in apply()
        assert asyncio.run(teams()) == 0  # rule_of_law off: none of its demo data
        off, on = "rule_of_law = { enabled = false }", "rule_of_law = { enabled = true }"
        toml.write_text(toml.read_text().replace(off, on))
        assert "+ plugin rule_of_law on" in apply()
        seeded = asyncio.run(teams())
        assert seeded > 0
        apply()
        assert asyncio.run(teams()) == seeded  # idempotent
    finally:
        asyncio.run(drop_tenant(migrated, slug))


def test_plugins_new_writes_a_whole_distribution_and_refuses_a_bad_name_or_a_full_folder(tmp_path: Any) -> None:
    import core.cli

    runner = CliRunner()
    made = runner.invoke(core.cli.cli, ["plugins", "new", "harbour_watch", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    dist = tmp_path / "liuzhi-harbour-watch"
    files = sorted(str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "liuzhi_harbour_watch/__init__.py",
        "liuzhi_harbour_watch/locale/zh_Hans/LC_MESSAGES/messages.po",
        "liuzhi_harbour_watch/migrations/harbour_watch_0001_records.py",
        "liuzhi_harbour_watch/models.py",
        "liuzhi_harbour_watch/plugin.py",
        "liuzhi_harbour_watch/records.py",
        "liuzhi_harbour_watch/routes.py",
        "liuzhi_harbour_watch/static/harbour_watch.css",
        "liuzhi_harbour_watch/templates/harbour_watch/records.html",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_harbour_watch.py",
    ]
    leftovers = [f for f in files if re.search(r"__[A-Z_]+__", (dist / f).read_text())]
    assert leftovers == []
    assert 'harbour_watch = "liuzhi_harbour_watch.plugin"' in (dist / "pyproject.toml").read_text()
    for source in dist.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")

    again = runner.invoke(core.cli.cli, ["plugins", "new", "harbour_watch", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "exists and is not empty" in again.output
    bad = runner.invoke(core.cli.cli, ["plugins", "new", "Harbour-Watch", "--dir", str(tmp_path)])
    assert bad.exit_code == 1 and "cannot name a plugin" in bad.output
