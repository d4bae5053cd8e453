"""Backups of the whole deployment, and restoring one from them into an empty database.

``liuzhi backup -o DIR`` writes one folder ``liuzhi-backup-<UTC time>/``:

- ``database.dump`` (PostgreSQL: ``pg_dump --format=custom`` as the owner role; it must bypass
  row-level security, as the superuser of the compose file does) or ``database.sqlite3`` (SQLite's
  online backup API: a consistent copy while the app runs);
- ``files.tar``: the file store (``<data dir>/files``);
- ``tenants/<slug>.json.gz``: each tenant's export, for restoring one tenant to this point in a
  running deployment without touching the others (``liuzhi tenants restore``);
- ``manifest.json``: when, which database, the schema heads, the tenants, the sizes.

``liuzhi restore FOLDER`` puts such a backup into an empty database and file store (a new server
after a loss); it refuses a database that has tables already.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

FORMAT = "liuzhi-backup"
VERSION = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; ``str(exc)`` says why and what to do."""


@dataclass
class Written:
    folder: Path
    manifest: dict[str, Any]


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL → (libpq URL without the password, environment carrying it)."""
    u = make_url(url)
    env = {"PGPASSWORD": u.password} if u.password else {}
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages copied under SQLite's own locking: consistent while the app writes
    finally:
        dst.close()
        src.close()


async def create_backup(settings: Any, host: Any, out_dir: Path, *, tenant_exports: bool = True) -> Written:
    from core.db.engine import Database
    from core.db.migrate import current_heads
    from core.services.files.storage import LocalStorage
    from core.tenancy.models import Tenant
    from core.tenancy.transfer import export_tenant

    files_root = settings.data_dir / "files"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out_dir / f"liuzhi-backup-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "heads": sorted(await current_heads(settings)),
    }
    # Exports first: each writes an audit entry, which the database copy then holds too.
    db = Database(settings.database_url)
    try:
        async with db.session(None) as s:
            slugs = list((await s.execute(select(Tenant.slug).order_by(Tenant.slug))).scalars())
        manifest["tenants"] = slugs
        if tenant_exports:
            (folder / "tenants").mkdir()
            storage = LocalStorage(files_root)
            for slug in slugs:
                (folder / "tenants" / f"{slug}.json.gz").write_bytes(await export_tenant(db, slug, storage))
    finally:
        await db.dispose()
    if settings.is_sqlite:
        manifest["database"] = "sqlite"
        _sqlite_copy(sqlite_path(settings.database_url), folder / "database.sqlite3")
    else:
        manifest["database"] = "postgresql"
        url, env = libpq(settings.owner_url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={folder / 'database.dump'}", url], env)
    with tarfile.open(folder / "files.tar", "w") as tar:
        if files_root.is_dir():
            tar.add(files_root, arcname="files")
    manifest["bytes"] = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return Written(folder, manifest)


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} is not a Liuzhi backup (no readable manifest.json)") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{folder}: not a Liuzhi backup of a version this release reads")
    return manifest


async def _has_tables(url: str) -> bool:
    from core.db.engine import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return bool(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def restore_backup(settings: Any, host: Any, folder: Path) -> dict[str, Any]:
    """Into an empty database and file store: the database, the files, then the app role's grants."""
    from core.db.migrate import upgrade

    manifest = read_manifest(folder)
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["database"] != kind:
        raise BackupError(f"the backup is of {manifest['database']}, this deployment uses {kind}")
    files_root = settings.data_dir / "files"
    if files_root.is_dir() and any(files_root.iterdir()):
        raise BackupError(f"{files_root} is not empty: restore into a fresh data folder")
    if kind == "sqlite":
        target = sqlite_path(settings.database_url)
        if target.exists() and target.stat().st_size and await _has_tables(settings.database_url):
            raise BackupError(f"{target} has tables already: restore into a new database")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(folder / "database.sqlite3", target)
    else:
        if await _has_tables(settings.owner_url):
            raise BackupError("the database has tables already: restore into a new, empty database")
        url, env = libpq(settings.owner_url)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={url}",
                str(folder / "database.dump"),
            ],
            env,
        )
    with tarfile.open(folder / "files.tar") as tar:
        tar.extractall(settings.data_dir, filter="data")
    # Brings the schema to this release's heads (a backup from an older one) and grants the app role.
    await upgrade(settings, host)
    return manifest
