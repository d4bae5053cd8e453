"""The ``liuzhi`` command against the session's test database (SQLite or PostgreSQL).

The commands call ``asyncio.run``, which cannot run inside pytest-asyncio's running loop, so these
tests are plain functions; they reach the migrated database through environment variables.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from core.cli import cli
from core.config import Settings

PILLARS = ("party_leadership", "self_governance", "smart_service", "co_governance", "rule_of_law", "civic_virtue")


@pytest.fixture(scope="session")
def cli_env(migrated: Settings) -> dict[str, str | None]:
    """The session's settings as the LIUZHI_* variables the command reads."""
    return {
        "LIUZHI_DATABASE_URL": migrated.database_url,
        "LIUZHI_MIGRATE_DATABASE_URL": migrated.migrate_database_url or "",
        "LIUZHI_DATA_DIR": str(migrated.data_dir),
        "LIUZHI_TENANTS_DIR": str(migrated.tenants_dir),
        "LIUZHI_SECRET_KEY": migrated.secret_key,
        "LIUZHI_REDIS_URL": None,
    }


@pytest.fixture
def run(cli_env: dict[str, str | None]) -> Any:
    runner = CliRunner(env=cli_env)

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def status_of(run: Any, slug: str) -> str | None:
    listing = run("tenants", "list")
    assert listing.exit_code == 0, listing.output
    m = re.search(rf"^{re.escape(slug)}\s+(\S+)", listing.stdout, re.M)
    return m.group(1) if m else None


def test_tenants_apply_is_idempotent(run: Any) -> None:
    first = run("tenants", "apply")
    assert first.exit_code == 0, first.output
    second = run("tenants", "apply")
    assert second.exit_code == 0, second.output
    assert "shuangluan: up to date" in second.stdout
    assert "luanping: up to date" in second.stdout


def test_db_upgrade_on_a_current_schema_reports_the_heads(run: Any) -> None:
    r = run("db", "upgrade")
    assert r.exit_code == 0, r.output
    assert re.search(r"^schema at: .*\bcore_\d{4}\b", r.stdout, re.M), r.stdout


def test_tenants_list_shows_both_demo_districts(run: Any) -> None:
    assert status_of(run, "shuangluan") == "active"
    assert status_of(run, "luanping") == "active"
    assert "双滦区" in run("tenants", "list").stdout


def test_plugins_list_shows_the_six_pillars_and_their_hooks(run: Any) -> None:
    r = run("plugins", "list")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    for name in PILLARS:
        i = next((i for i, line in enumerate(lines) if line.startswith(name + " ")), None)
        assert i is not None, f"{name} missing from:\n{r.stdout}"
        assert "pillar=" in lines[i]
        assert lines[i + 1].strip().startswith("hooks:") and "plugin_manifest" in lines[i + 1]


def test_a_district_through_its_whole_life(run: Any, tmp_path: Path) -> None:
    slug = "cli-" + secrets.token_hex(3)
    export = tmp_path / f"{slug}.json.gz"
    try:
        r = run("tenants", "create", slug, "命令行区", "--name-en", "CLI District")
        assert r.exit_code == 0 and f"created {slug}" in r.stdout, r.output
        assert status_of(run, slug) == "active"

        assert run("tenants", "suspend", slug).exit_code == 0
        assert status_of(run, slug) == "suspended"
        assert run("tenants", "resume", slug).exit_code == 0
        assert status_of(run, slug) == "active"

        r = run("tenants", "export", slug, "-o", str(export))
        assert r.exit_code == 0, r.output
        assert export.stat().st_size > 0

        r = run("tenants", "delete", slug, "--yes")
        assert r.exit_code == 0 and f"deleted {slug}" in r.stdout, r.output
        assert status_of(run, slug) is None

        r = run("tenants", "import", str(export))
        assert r.exit_code == 0 and f"imported {slug}" in r.stdout, r.output
        assert status_of(run, slug) == "active"
        assert "命令行区 / CLI District" in run("tenants", "list").stdout
    finally:
        run("tenants", "delete", slug, "--yes")
    assert status_of(run, slug) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tenants", "export", "no-such-district", "-o", "{tmp}/x.json.gz"), "no tenant 'no-such-district'"),
        (("tenants", "suspend", "no-such-district"), "no tenant 'no-such-district'"),
        (("tenants", "create", "shuangluan", "重复"), "exists already"),
        (("tenants", "create", "Not A Slug", "坏名字"), "slug"),
        (("tenants", "delete", "luanping"), "--yes"),
        (("tenants", "plugin", "luanping", "no_such_plugin", "on"), "not installed"),
    ],
)
def test_errors_exit_1_with_a_message(run: Any, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    r = run(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert r.exit_code == 1
    assert "error:" in r.stderr and message in r.stderr
    assert not (tmp_path / "x.json.gz").exists()
    assert status_of(run, "luanping") == "active" and status_of(run, "shuangluan") == "active"
