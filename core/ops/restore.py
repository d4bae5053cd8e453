"""Restoring one tenant to the point of its export, in a running deployment, touching no other tenant.

The tenant's rows are replaced in one transaction (as the owner role: the audit log is not
deletable by the app role): every tenant-owned table of core and the plugins is emptied for that
tenant and refilled from the export, the tenant row and its domains set back. Anything failing
rolls it all back. Files: the export's are written first (their keys are unique, so this never
overwrites another file), and those the restored rows no longer name are removed after the commit.
A tenant deleted since the export comes back with the same id and slug.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update

from core.audit import record
from core.db.context import Actor
from core.tenancy import plugins_on
from core.tenancy.models import Tenant, TenantDomain
from core.tenancy.service import TenantError
from core.tenancy.transfer import FORMAT, VERSION, _load, parents_first, tenant_tables

RESTORE = Actor("system", None, "restore")


@dataclass
class Restored:
    slug: str
    created: bool  # the tenant did not exist (deleted since the export)
    rows: int
    files: int


def read_export(raw: bytes) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(gzip.decompress(raw))
    except (OSError, ValueError) as exc:
        raise TenantError("not a Liuzhi tenant export (expected a .json.gz file)") from exc
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise TenantError("not a Liuzhi tenant export of a version this deployment reads")
    unknown = sorted(set(doc["tables"]) - {t.name for t in tenant_tables()})
    if unknown:
        raise TenantError("the export has tables of plugins not installed here: " + ", ".join(unknown))
    return doc


async def restore_tenant(owner_db: Any, raw: bytes, storage: Any = None) -> Restored:
    from core.services.jobs.models import PENDING, Job

    doc = read_export(raw)
    t = {k: _load(v, Tenant.__table__.c[k]) for k, v in doc["tenant"].items() if k in Tenant.__table__.c}
    tenant_id, slug = t["id"], t["slug"]
    async with owner_db.session(None) as s:
        holder = (await s.execute(select(Tenant.id).where(Tenant.slug == slug))).scalar_one_or_none()
        current = await s.get(Tenant, tenant_id)
    if holder is not None and holder != tenant_id:
        raise TenantError(f"another tenant holds the slug {slug!r} now: delete or rename it first")
    tables = tenant_tables()
    for table in tables:
        for row in doc["tables"].get(table.name) or []:
            if row.get("tenant_id") != tenant_id:
                raise TenantError(f"{table.name}: a row of another tenant in the file")
    written = _write_files(storage, doc) if storage is not None else []
    rows = 0
    try:
        async with owner_db.transaction(tenant_id, RESTORE, no_audit=True) as s:
            if current is None:
                await s.execute(insert(Tenant.__table__), [t])
            else:
                values = {k: v for k, v in t.items() if k != "id"}
                # Every process reloads the tenant's permissions: the counter moves past both versions.
                values["policy_version"] = max(current.policy_version, t.get("policy_version") or 0) + 1
                await s.execute(update(Tenant.__table__).where(Tenant.id == tenant_id).values(**values))
                for table in reversed(tables):
                    await s.execute(delete(table).where(table.c.tenant_id == tenant_id))
                await s.execute(delete(Job).where(Job.tenant_id == tenant_id, Job.status == PENDING))
            await s.execute(delete(TenantDomain).where(TenantDomain.tenant_id == tenant_id))
            for host in doc.get("domains", []):
                await s.execute(insert(TenantDomain.__table__).values(host=host, tenant_id=tenant_id))
            for table in tables:
                batch = [
                    {k: _load(v, table.c[k]) for k, v in row.items() if k in table.c}
                    for row in parents_first(table, doc["tables"].get(table.name) or [])
                ]
                for i in range(0, len(batch), 500):
                    await s.execute(insert(table), batch[i : i + 500])
                rows += len(batch)
            await s.run_sync(lambda sync: plugins_on.refresh(sync.connection(), tenant_id))
            record(s, "tenant.restore", "tenants", tenant_id, {"rows": rows, "files": len(doc.get("files", {}))})
    except Exception:
        for path in written:  # files that were not there before
            path.unlink(missing_ok=True)
        raise
    if storage is not None:
        _remove_unnamed(storage, tenant_id, doc)
    return Restored(slug, current is None, rows, len(doc.get("files", {})))


def _write_files(storage: Any, doc: dict[str, Any]) -> list[Path]:
    new = []
    for key, data in doc.get("files", {}).items():
        target = storage.path(key)
        if target.exists():
            continue  # same key, same bytes: stored files never change
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        new.append(target)
    return new


def _remove_unnamed(storage: Any, tenant_id: int, doc: dict[str, Any]) -> None:
    """Files of the tenant that no restored row names (uploaded after the export)."""
    keep = {storage.path(r["storage_key"]) for r in doc["tables"].get("stored_files") or []}
    folder = Path(storage.root) / f"t{int(tenant_id)}"
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file() and path.resolve() not in keep:
                path.unlink()
