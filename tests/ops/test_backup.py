"""Backups that restore: the whole deployment into an empty database (both databases), and one
tenant, from an export taken before a deletion, into the running deployment — others untouched."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import make_url

from core.cli import cli
from core.db.engine import Database, make_engine
from core.ops.restore import restore_tenant
from core.tenancy.service import TenantError, delete_tenant, get_tenant
from core.tenancy.transfer import export_tenant, tenant_tables
from plugins.smart_service import photos as ph
from tests.conftest import PG_URL
from tests.plugins.smart_service.fixtures.district import District, build
from tests.plugins.smart_service.fixtures.images import phone_jpeg


async def fingerprint(db: Database, tenant_id: int) -> dict[str, int]:
    """Rows per tenant-owned table of one tenant."""
    out = {}
    async with db.session(tenant_id) as s:
        for table in tenant_tables():
            n = await s.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))
            out[table.name] = int(n or 0)
    return out


@pytest.fixture
async def owner(app: Any) -> AsyncIterator[Database]:
    db = Database(app.state.settings.owner_url)
    yield db
    await db.dispose()


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    """A district with an event that has a photo (rows in core and plugin tables, files on disk)."""
    d = await build(app, fresh_tenant)
    web = await d.client("resident")
    r = await web.post(
        d.url("/smart-service/report"),
        data={
            "_csrf_token": web.cookies["liuzhi_csrf"],
            "category": "SR",
            "description": "楼道堆物",
            "source": "resident",
        },
        files=[("photos", ("p.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert r.status_code == 303, r.text[:300]
    yield d
    await d.close()


def files_of(app: Any, tenant_id: int) -> dict[str, int]:
    root = app.state.settings.data_dir / "files" / f"t{tenant_id}"
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()} if root.exists() else {}


async def test_a_tenant_export_taken_before_its_deletion_restores_it_with_its_files(
    app: Any, district: District, owner: Database
) -> None:
    d, db, storage = district, app.state.db, app.state.storage
    other = await get_tenant(db, "shuangluan")
    others_before = await fingerprint(db, other.id)
    before, files_before = await fingerprint(db, d.tenant.id), files_of(app, d.tenant.id)
    assert before["ss_events"] >= 1 and before["stored_files"] >= 2 and files_before
    export = await export_tenant(db, d.slug, storage)

    await delete_tenant(db, owner, d.tenant, storage)  # the mistake
    app.state.tenant_cache.clear()
    assert files_of(app, d.tenant.id) == {}
    with pytest.raises(TenantError):
        await get_tenant(db, d.slug)

    done = await restore_tenant(owner, export, storage)
    app.state.tenant_cache.clear()
    assert done.created and done.slug == d.slug
    after = await fingerprint(db, d.tenant.id)
    assert after == {**before, "audit_log": before["audit_log"] + 1}  # + the restore's own entry
    assert files_of(app, d.tenant.id) == files_before
    assert await fingerprint(db, other.id) == others_before  # nobody else touched
    # The district works again: its resident signs in and sees the report.
    web = await d.client("resident")
    mine = await web.get(d.url("/smart-service/mine"))
    assert mine.status_code == 200 and "楼道堆物" in mine.text


async def test_restoring_over_a_living_tenant_puts_back_deleted_rows_and_drops_later_files(
    app: Any, district: District, owner: Database
) -> None:
    d, db, storage = district, app.state.db, app.state.storage
    export = await export_tenant(db, d.slug, storage)
    before = await fingerprint(db, d.tenant.id)
    files_before = files_of(app, d.tenant.id)
    # After the export: the service's records are deleted by mistake, and a photo arrives.
    async with d.tx() as s:
        for table in reversed(tenant_tables()):
            if table.name.startswith("ss_"):
                await s.execute(delete(table).where(table.c.tenant_id == d.tenant.id))
        await ph.store_photos(app.state, s, d.tenant.id, [phone_jpeg()], event_id=None, uploaded_by=None)
    assert (await fingerprint(db, d.tenant.id))["ss_events"] == 0
    assert len(files_of(app, d.tenant.id)) > len(files_before)

    done = await restore_tenant(owner, export, storage)
    assert not done.created
    after = await fingerprint(db, d.tenant.id)
    assert after["ss_events"] == before["ss_events"] and after["stored_files"] == before["stored_files"]
    assert files_of(app, d.tenant.id) == files_before


async def test_a_restore_that_fails_changes_nothing(app: Any, district: District, owner: Database) -> None:
    d, db, storage = district, app.state.db, app.state.storage
    doc = json.loads(gzip.decompress(await export_tenant(db, d.slug, storage)))
    before, files_before = await fingerprint(db, d.tenant.id), files_of(app, d.tenant.id)
    # A row twice: the database refuses the second insert, after the deletes ran.
    doc["tables"]["ss_events"].append(doc["tables"]["ss_events"][0])
    doc["files"][f"t{d.tenant.id}/ff/999"] = base64.b64encode(b"new").decode()
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for the duplicate key
        await restore_tenant(owner, gzip.compress(json.dumps(doc).encode()), storage)
    assert await fingerprint(db, d.tenant.id) == before
    assert files_of(app, d.tenant.id) == files_before
    # Someone else's rows in the file are refused before anything is done.
    doc["tables"]["ss_events"][0]["tenant_id"] = 42
    with pytest.raises(TenantError, match="another tenant"):
        await restore_tenant(owner, gzip.compress(json.dumps(doc).encode()), storage)


# ---- the whole deployment --------------------------------------------------------------------


def env_of(settings: Any, **over: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "LIUZHI_DATABASE_URL": settings.database_url,
        "LIUZHI_MIGRATE_DATABASE_URL": settings.migrate_database_url or "",
        "LIUZHI_DATA_DIR": str(settings.data_dir),
        "LIUZHI_TENANTS_DIR": str(settings.tenants_dir),
        "LIUZHI_SECRET_KEY": settings.secret_key,
        "LIUZHI_REDIS_URL": None,
    }
    env.update(over)
    return env


async def table_counts(url: str) -> dict[str, int]:
    """Rows of every table, read as the owner (the superuser on PostgreSQL: RLS does not hide rows)."""
    from core.db.base import Base

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables
                if not t.name.startswith("example_")
            }
    finally:
        await engine.dispose()


async def _admin(sql: str) -> None:
    assert PG_URL is not None
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def test_liuzhi_backup_then_restore_into_an_empty_database_gives_the_same_rows_and_files(
    migrated: Any, tmp_path: Path
) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["backup", "-o", str(tmp_path / "backups")], env=env_of(migrated), catch_exceptions=False)
    assert made.exit_code == 0, made.output
    [folder] = list((tmp_path / "backups").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {"shuangluan", "luanping"} <= set(manifest["tenants"])
    assert (folder / "tenants" / "shuangluan.json.gz").is_file()
    source_counts = asyncio.run(table_counts(migrated.owner_url))

    data_dir = tmp_path / "restored"
    if PG_URL:
        name = f"liuzhi_restore_{os.getpid()}_{secrets.token_hex(3)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        owner_url = make_url(migrated.owner_url).set(database=name).render_as_string(hide_password=False)
        app_url = make_url(migrated.database_url).set(database=name).render_as_string(hide_password=False)
        env = env_of(migrated, LIUZHI_DATABASE_URL=app_url, LIUZHI_MIGRATE_DATABASE_URL=owner_url)
    else:
        owner_url = f"sqlite+aiosqlite:///{data_dir / 'liuzhi.sqlite3'}"
        env = env_of(migrated, LIUZHI_DATABASE_URL=owner_url, LIUZHI_MIGRATE_DATABASE_URL="")
    env["LIUZHI_DATA_DIR"] = str(data_dir)
    try:
        done = runner.invoke(cli, ["restore", str(folder)], env=env, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        assert asyncio.run(table_counts(owner_url)) == source_counts
        src_files = migrated.data_dir / "files"
        listing = {str(p.relative_to(src_files)): p.stat().st_size for p in src_files.rglob("*") if p.is_file()}
        got = {
            str(p.relative_to(data_dir / "files")): p.stat().st_size
            for p in (data_dir / "files").rglob("*")
            if p.is_file()
        }
        assert got == listing and got
        # The restored deployment serves: the app role reads a tenant through row-level security.
        listed = runner.invoke(cli, ["tenants", "list"], env=env, catch_exceptions=False)
        assert "shuangluan" in listed.output
        again = runner.invoke(cli, ["restore", str(folder)], env=env)
        assert again.exit_code == 1 and ("has tables already" in again.output or "not empty" in again.output)
    finally:
        if PG_URL:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_liuzhi_tenants_restore_needs_yes_and_reports_what_it_did(migrated: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    export = tmp_path / "luanping.json.gz"
    r = runner.invoke(cli, ["tenants", "export", "luanping", "-o", str(export)], env=env_of(migrated))
    assert r.exit_code == 0, r.output
    refused = runner.invoke(cli, ["tenants", "restore", str(export)], env=env_of(migrated))
    assert refused.exit_code == 1 and "--yes" in refused.output
    done = runner.invoke(
        cli, ["tenants", "restore", str(export), "--yes"], env=env_of(migrated), catch_exceptions=False
    )
    assert done.exit_code == 0, done.output
    assert "luanping: restored" in done.output
