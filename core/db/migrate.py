"""Running Alembic: core's branch plus one branch per plugin, all to their heads.

The demo and the tests build the schema this way too, never with ``create_all``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db.engine import make_engine

log = logging.getLogger("liuzhi.migrate")
HERE = Path(__file__).parent / "migrations"
# core_0005 (security) follows core_0007, core_0009 (points rules) follows it, then core_0010, core_0011 and
# core_0008 (field work), then core_0012 (resident list indexes); plugins depend on core_0001 or later.
CORE_HEAD = "core_0012"
# The app role may neither change nor delete these (row triggers also refuse UPDATE on both databases).
APPEND_ONLY_TABLES = ("audit_log", "ledger_entries", "ledger_postings")


def alembic_config(plugin_version_dirs: list[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    locations = [str(HERE / "versions"), *(str(p) for p in plugin_version_dirs)]
    cfg.set_main_option("version_locations", __import__("os").pathsep.join(locations))
    return cfg


def plugin_version_dirs(host: Any) -> list[Path]:
    return [Path(d) for _name, d in host.call_sync("register_migrations")]


async def upgrade(settings: Any, host: Any, target: str = "heads") -> None:
    cfg = alembic_config(plugin_version_dirs(host))
    engine = make_engine(settings.owner_url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: Any) -> None:
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, target)

            await conn.run_sync(run)
            if conn.dialect.name == "postgresql":
                await _grant_app_role(conn, settings)
    finally:
        await engine.dispose()


async def _grant_app_role(conn: Any, settings: Any) -> None:
    """The app connects as a non-owner role without BYPASSRLS; create it and grant it DML."""
    app_user = make_url(settings.database_url).username
    owner_user = make_url(settings.owner_url).username
    if not app_user or app_user == owner_user:
        log.warning("app connects as the table owner; FORCE RLS still applies, but use a separate role")
        return
    exists = await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_user})
    if not exists:
        await conn.execute(text(f'CREATE ROLE "{app_user}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    await conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{app_user}"'))
    await conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{app_user}"'))
    for table in APPEND_ONLY_TABLES:
        await conn.execute(text(f'REVOKE UPDATE, DELETE ON {table} FROM "{app_user}"'))
    await conn.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_user}"'))


async def current_heads(settings: Any) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(settings.owner_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: list(MigrationContext.configure(c).get_current_heads()))
    finally:
        await engine.dispose()
