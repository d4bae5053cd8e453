"""The ``liuzhi`` command: demo, serve, db, tenants, plugins, operators, jobs (+ plugin commands)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import click

from core.config import Settings
from core.tenancy.service import TenantError


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _host() -> Any:
    from core.app import load_models
    from core.pluginhost.manager import PluginHost

    host = PluginHost()
    load_models(host)
    return host


def _fail(message: str) -> None:
    click.secho(f"错误 / error: {message}", fg="red", err=True)
    sys.exit(1)


@click.group()
@click.option("-v", "--verbose", is_flag=True)
def cli(verbose: bool) -> None:
    """六治 Liuzhi — community governance platform."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


# ---- db ------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema (Alembic: core branch + one branch per plugin)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Run every migration branch to its head."""
    from core.db.migrate import current_heads, upgrade

    settings = Settings.from_env()
    _run(upgrade(settings, _host()))
    click.echo("schema at: " + ", ".join(sorted(_run(current_heads(settings)))))


@db.command("revision")
@click.option("--plugin", "plugin", required=True, help="the installed plugin whose branch gets the revision")
@click.option("-m", "--message", required=True, help="what the revision does")
def db_revision(plugin: str, message: str) -> None:
    """Write the plugin's next migration on its own branch from its models (keys named by core's
    convention; row-level security for new tenant-owned tables). The database must be at every
    head (`liuzhi db upgrade`)."""
    from core.db.autogen import RevisionError, write_revision

    try:
        path = _run(write_revision(Settings.from_env(), _host(), plugin, message))
    except RevisionError as exc:
        _fail(str(exc))
    except Exception as exc:  # alembic's "Target database is not up to date" among them: say it, no trace
        _fail(f"{type(exc).__name__}: {exc}")
    if path is None:
        click.echo(f"{plugin}: models and migrations agree; no revision written")
    else:
        click.echo(f"{plugin}: wrote {path}")


@db.command("check")
@click.option("--live", is_flag=True, help="compare the LIUZHI_DATABASE_URL database (at every head) instead")
def db_check(live: bool) -> None:
    """Fail when core's or any installed plugin's models and migrations disagree. By default a new
    temporary SQLite database is migrated from nothing and compared with the models."""
    import tempfile
    from dataclasses import replace

    from core.db.autogen import differences, echo_differences
    from core.db.migrate import upgrade

    host = _host()
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="liuzhi-check-") as tmp:
        if not live:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'check.sqlite3'}"
            settings = replace(settings, database_url=url, migrate_database_url=None)
            _run(upgrade(settings, host))
        found = _run(differences(settings, host))
    if found:
        click.secho(f"models and migrations disagree ({len(found)}):", fg="red", err=True)
        echo_differences(found, sys.stderr)
        for owner in sorted({d.owner for d in found} - {"core"}):
            click.echo(f'  → liuzhi db revision --plugin {owner} -m "…"', err=True)
        sys.exit(1)
    click.echo("models and migrations agree: core, " + ", ".join(host.names))


# ---- tenants --------------------------------------------------------------------------------


@cli.group()
def tenants() -> None:
    """Create, apply, suspend, resume, export, import and delete tenants."""


async def _with_db(fn: Any) -> Any:
    from core.db.engine import Database

    settings = Settings.from_env()
    database = Database(settings.database_url)
    try:
        return await fn(settings, database)
    finally:
        await database.dispose()


@tenants.command("plan")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help="tenants/ folder")
def tenants_plan(folder: Path | None) -> None:
    """Show what `tenants apply` would change for each definition in tenants/ (changes nothing)."""
    from core.tenancy.definitions import read_all
    from core.tenancy.plan import make_plan

    host = _host()

    async def go(settings: Settings, database: Any) -> int:
        refused = 0
        for d in read_all(folder or settings.tenants_dir):
            plan = await make_plan(database, host, d)
            refused += len(plan.refusals)
            for line in plan.lines():
                click.echo(line)
        return refused

    try:
        refused = _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    if refused:
        _fail(f"{refused} change(s) would be refused: `tenants apply` would apply nothing for those tenants")


@tenants.command("apply")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help="tenants/ folder")
@click.option("--demo", is_flag=True, help="then seed demo accounts and every enabled plugin's demo_data")
def tenants_apply(folder: Path | None, demo: bool) -> None:
    """Carry out the plan for each definition in tenants/: each tenant all or nothing."""
    from core.tenancy.definitions import read_all
    from core.tenancy.plan import apply_plan

    host = _host()

    async def go(settings: Settings, database: Any) -> list[str]:
        failed = []
        for d in read_all(folder or settings.tenants_dir):
            try:
                plan = await apply_plan(database, host, d)
            except TenantError as exc:
                click.secho(str(exc), fg="red", err=True)
                failed.append(d.slug)
                continue
            lines = plan.lines()
            click.echo(lines[0].replace(" change(s)", " change(s) applied") if plan.changes else lines[0])
            for line in lines[1:]:
                click.echo(line)
            if demo:
                # After the whole definition is applied: every plugin it switches on is on, whatever
                # the order, so each one's demo_data runs (idempotent: a second apply adds nothing).
                await _seed_demo(settings, database, host, d)
                click.echo(f"{d.slug}: demo accounts and data seeded")
        return failed

    try:
        failed = _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    if failed:
        _fail("not applied: " + ", ".join(failed))


async def _seed_demo(settings: Settings, database: Any, host: Any, d: Any) -> None:
    from core.crypto import Vault
    from core.services.demo import seed_services_demo
    from core.services.files.storage import LocalStorage
    from core.tenancy.demo import seed_demo

    vault = Vault(settings.data_keys, settings.hash_key)
    await seed_demo(database, host, d, vault=vault, storage=LocalStorage(settings.data_dir / "files"))
    await seed_services_demo(database, d.slug, d.demo_community)


@tenants.command("list")
def tenants_list() -> None:
    from sqlalchemy import select

    from core.tenancy.models import Tenant

    async def go(settings: Settings, database: Any) -> None:
        async with database.session(None) as s:
            for t in (await s.execute(select(Tenant).order_by(Tenant.slug))).scalars():
                click.echo(f"{t.slug:20} {t.status:10} {t.name_zh} / {t.name_en}")

    _run(_with_db(go))


@tenants.command("create")
@click.argument("slug")
@click.argument("name_zh")
@click.option("--name-en", default="")
def tenants_create(slug: str, name_zh: str, name_en: str) -> None:
    from core.tenancy.service import create_tenant

    host = _host()
    try:
        t = _run(_with_db(lambda st, d: create_tenant(d, host, slug, name_zh, name_en)))
    except TenantError as exc:
        _fail(str(exc))
    click.echo(f"created {t.slug}")


def _status(slug: str, status: str) -> None:
    from core.tenancy.service import get_tenant, set_status

    async def go(settings: Settings, database: Any) -> None:
        await set_status(database, await get_tenant(database, slug), status)

    try:
        _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    click.echo(f"{slug}: {status}")


@tenants.command("suspend")
@click.argument("slug")
def tenants_suspend(slug: str) -> None:
    _status(slug, "suspended")


@tenants.command("resume")
@click.argument("slug")
def tenants_resume(slug: str) -> None:
    _status(slug, "active")


@tenants.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def tenants_export(slug: str, output: Path) -> None:
    """Write all of a tenant's rows (and files) to one .json.gz file."""
    from core.services.files.storage import LocalStorage
    from core.tenancy.transfer import export_tenant

    _host()

    async def go(settings: Settings, database: Any) -> bytes:
        return await export_tenant(database, slug, LocalStorage(settings.data_dir / "files"))

    try:
        data = _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    output.write_bytes(data)
    click.echo(f"{slug}: {len(data)} bytes → {output}")


@tenants.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--slug", default=None, help="import under another slug")
def tenants_import(file: Path, slug: str | None) -> None:
    from core.services.files.storage import LocalStorage
    from core.tenancy.transfer import import_tenant

    _host()

    async def go(settings: Settings, database: Any) -> Any:
        return await import_tenant(database, file.read_bytes(), LocalStorage(settings.data_dir / "files"), slug)

    try:
        t = _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    click.echo(f"imported {t.slug}")


@tenants.command("restore")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="confirm: the tenant's current data is replaced by the export's")
def tenants_restore(file: Path, yes: bool) -> None:
    """Put one tenant back to the point of its export (from `tenants export` or `liuzhi backup`),
    in a running deployment; other tenants are not touched. A deleted tenant comes back."""
    from core.db.engine import Database
    from core.ops.restore import restore_tenant
    from core.services.files.storage import LocalStorage

    if not yes:
        _fail("restoring replaces all of the tenant's current data with the export's; repeat with --yes")
    _host()

    async def go(settings: Settings, database: Any) -> Any:
        owner = Database(settings.owner_url)
        try:
            return await restore_tenant(owner, file.read_bytes(), LocalStorage(settings.data_dir / "files"))
        finally:
            await owner.dispose()

    from sqlalchemy.exc import SQLAlchemyError

    try:
        done = _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        _fail(f"the restore was rolled back, nothing changed: {exc}")
    how = "re-created" if done.created else "restored"
    click.echo(f"{done.slug}: {how} from {file.name} ({done.rows} rows, {done.files} files)")


@tenants.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="confirm: every row of the tenant is removed")
def tenants_delete(slug: str, yes: bool) -> None:
    from core.db.engine import Database
    from core.services.files.storage import LocalStorage
    from core.tenancy.service import delete_tenant, get_tenant

    if not yes:
        _fail("deleting a tenant removes all its data; repeat with --yes")
    _host()

    async def go(settings: Settings, database: Any) -> dict[str, int]:
        owner = Database(settings.owner_url)
        try:
            return await delete_tenant(
                database, owner, await get_tenant(database, slug), LocalStorage(settings.data_dir / "files")
            )
        finally:
            await owner.dispose()

    try:
        counts = _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    click.echo(f"deleted {slug}: {sum(counts.values())} rows")


@tenants.command("plugin")
@click.argument("slug")
@click.argument("plugin")
@click.argument("state", type=click.Choice(["on", "off"]))
def tenants_plugin(slug: str, plugin: str, state: str) -> None:
    """Switch a plugin on or off for a tenant."""
    from core.tenancy.service import get_tenant, set_plugin

    host = _host()

    async def go(settings: Settings, database: Any) -> None:
        await set_plugin(database, host, await get_tenant(database, slug), plugin, state == "on")

    try:
        _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    click.echo(f"{slug}: {plugin} {state}")


# ---- backup and restore of the whole deployment ---------------------------------------------


@cli.command()
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), required=True, help="folder for backups")
@click.option("--no-tenant-exports", is_flag=True, help="skip the per-tenant exports")
def backup(out_dir: Path, no_tenant_exports: bool) -> None:
    """Database (pg_dump or SQLite copy), file store and per-tenant exports, in one new folder."""
    from core.ops.backup import BackupError, create_backup

    try:
        written = _run(create_backup(Settings.from_env(), _host(), out_dir, tenant_exports=not no_tenant_exports))
    except BackupError as exc:
        _fail(str(exc))
    m = written.manifest
    click.echo(f"backup of {m['database']} ({len(m['tenants'])} tenants) → {written.folder}")


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(folder: Path) -> None:
    """Restore a `liuzhi backup` folder into an empty database and data folder (a new server)."""
    from core.ops.backup import BackupError, restore_backup

    try:
        manifest = _run(restore_backup(Settings.from_env(), _host(), folder))
    except BackupError as exc:
        _fail(str(exc))
    click.echo(f"restored the backup of {manifest['created_at']} ({len(manifest['tenants'])} tenants)")


# ---- plugins, operators, jobs ---------------------------------------------------------------


@cli.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
def plugins_list() -> None:
    """Name, version, pillar, the core API it targets and the hooks each plugin implements; then
    the installed plugins that were refused (failed to import, or written for another core API)."""
    from core import CORE_API_VERSION, OLDEST_CORE_API

    host = _host()
    api = f"{OLDEST_CORE_API}–{CORE_API_VERSION}" if OLDEST_CORE_API < CORE_API_VERSION else str(CORE_API_VERSION)
    click.echo(f"core API {api}")
    for name in host.names:
        m = host.manifests[name]
        click.echo(f"{name}  {m.version}  pillar={m.pillar}  {m.title_zh} / {m.title_en}  core_api={m.core_api}")
        click.echo("    hooks: " + ", ".join(host.hooks_of(name)))
    for name, problem in sorted(host.broken.items()):
        click.secho(f"{name}  REFUSED: {problem}", fg="red")


@plugins.command("new")
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("."), help="where to create it")
@click.option("--title-zh", default=None, help="the name shown in menus (中文)")
@click.option("--title-en", default=None, help="the name shown in menus (English)")
def plugins_new(name: str, folder: Path, title_zh: str | None, title_en: str | None) -> None:
    """Write a working plugin distribution: pyproject with the entry point, plugin.py, a tenant-owned
    model and its first migration, a list page filtered to the user's scope with an htmx form,
    templates, a zh_Hans catalogue and tests on liuzhi.testing. `pip install -e` it and it runs."""
    from core.pluginhost.scaffold import ScaffoldError, scaffold

    try:
        target = scaffold(name, folder, title_zh=title_zh, title_en=title_en)
    except ScaffoldError as exc:
        _fail(str(exc))
    click.echo(f"wrote {target}")
    click.echo(f"next: pip install -e {target} && liuzhi db upgrade && (cd {target} && pytest)")


@cli.group()
def operators() -> None:
    """Platform operators (above tenants)."""


@operators.command("create")
@click.argument("username")
@click.password_option()
def operators_create(username: str, password: str) -> None:
    from core.tenancy.demo import seed_operator

    created = _run(_with_db(lambda st, d: seed_operator(d, username, password)))
    click.echo(f"operator {username} " + ("created" if created else "exists already"))


@cli.group()
def jobs() -> None:
    """Delayed and periodic jobs."""


@jobs.command("run")
@click.option("--once", is_flag=True, help="run what is due, then exit")
def jobs_run(once: bool) -> None:
    from core.services.jobs.runner import JobRunner

    host = _host()

    async def go(settings: Settings, database: Any) -> None:
        runner = JobRunner(database, host)
        if once:
            queued = await runner.schedule_periodic()
            ran = await runner.run_pending(limit=10_000)
            click.echo(f"queued {queued}, ran {ran}")
            return
        await runner._loop()

    _run(_with_db(go))


@cli.group()
def i18n() -> None:
    """Translation catalogues (Babel)."""


@i18n.command("update")
def i18n_update() -> None:
    """Extract strings from core and each plugin and merge them into the zh_Hans catalogues."""
    from core.web.i18n_catalogues import extract, units, update

    for name, dirs, locale_dir in units():
        total, missing = update(locale_dir, extract(dirs))
        click.echo(f"{name}: {total} messages, {missing} untranslated")


# ---- serving ---------------------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=1, type=int)
@click.option("--no-jobs", is_flag=True, help="do not run background jobs in the web processes")
def serve(host: str, port: int, workers: int, no_jobs: bool) -> None:
    """Serve the app (production: PostgreSQL URL in LIUZHI_DATABASE_URL)."""
    import os

    import uvicorn

    from core.ops import serving

    settings = Settings.from_env()
    problem = serving.refusal(settings, workers)
    if problem:
        _fail(problem)
    for line in serving.startup_lines(settings, workers, jobs=not no_jobs):
        click.echo(line, err=True)
    serving.prepare_metrics_dir(settings, workers)
    os.environ["LIUZHI_RUN_JOBS"] = "0" if no_jobs else "1"
    uvicorn.run(
        "core.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Forwarded headers are the app's business, and only from LIUZHI_TRUSTED_PROXIES
        # (core/web/proxies.py): uvicorn must not believe them from anyone.
        proxy_headers=False,
        log_level="info",
        log_config=serving.log_config(settings),
        access_log=False,  # ours (liuzhi.access) carries the request id, tenant and route
    )


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--reset", is_flag=True, help="start from an empty demo database")
def demo(host: str, port: int, reset: bool) -> None:
    """One command: schema, demo tenants and accounts (embedded SQLite, or LIUZHI_DATABASE_URL), then serve."""
    import os

    from core.db.migrate import upgrade
    from core.tenancy.definitions import read_all
    from core.tenancy.demo import DEMO_PASSWORD, seed_operator
    from core.tenancy.service import apply_definition

    os.environ.setdefault("LIUZHI_IDENTITY_DEV", "1")  # the login page offers the development sign-in
    settings = Settings.from_env()
    if reset:
        if not settings.is_sqlite:
            _fail("--reset deletes the SQLite demo file; on PostgreSQL drop and create the database yourself")
        db_file = Path(settings.database_url.split(":///", 1)[1])
        if db_file.exists():
            db_file.unlink()
    hostp = _host()
    definitions = read_all(settings.tenants_dir)

    async def go(st: Settings, database: Any) -> None:
        await upgrade(st, hostp)  # as the owner (LIUZHI_MIGRATE_DATABASE_URL) on PostgreSQL
        for d in definitions:
            await apply_definition(database, hostp, d)
            await _seed_demo(st, database, hostp, d)
        await seed_operator(database)

    click.echo("准备演示数据 / preparing demo data …")
    try:
        _run(_with_db(go))
    except TenantError as exc:
        _fail(str(exc))
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    click.echo("")
    click.secho("六治 Liuzhi demo", bold=True)
    for d in definitions:
        enabled = [p for p, conf in d.plugins.items() if conf.get("enabled")]
        click.echo(f"  {d.name_zh} ({d.slug}): {base}/t/{d.slug}/   [{', '.join(enabled)}]")
    click.echo(f"  平台运维 platform:  {base}/platform/   (operator)")
    click.echo("")
    users = sorted({u["username"] for d in definitions for u in d.demo_users}, key=lambda n: (n != "admin", n))
    click.echo("  演示账号 demo accounts (in each district): " + ", ".join(users))
    click.secho(f"  密码 password: {DEMO_PASSWORD}   — 仅限演示 demo only, never in production", fg="yellow")
    click.echo("")
    os.environ["LIUZHI_RUN_JOBS"] = "1"
    import uvicorn

    uvicorn.run("core.asgi:create", factory=True, host=host, port=port, log_level="warning", proxy_headers=False)


def main() -> None:
    try:
        from core.pluginhost.manager import PluginHost

        for _name, _ in PluginHost().call_sync("register_commands", cli=cli):
            pass
    except Exception as exc:  # a broken plugin must not take the whole CLI down
        click.secho(f"warning: plugin commands not loaded: {exc}", fg="yellow", err=True)
    cli()


if __name__ == "__main__":
    main()
