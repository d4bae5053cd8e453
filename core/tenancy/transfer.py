"""Export a tenant to one file and import it into an empty or another deployment.

The file is gzip'd JSON: the tenant row, its domains, every tenant-owned table's rows (core and
plugins alike, found through the metadata) and the bytes of its stored files. Ids are kept: they
are globally unique, so an import never collides with another tenant's rows.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import LargeBinary, insert, select
from sqlalchemy.sql.sqltypes import DateTime

from core.audit import record
from core.db.base import Base, is_tenant_scoped
from core.db.engine import Database
from core.tenancy.models import Tenant, TenantDomain
from core.tenancy.service import PLATFORM, TenantError

FORMAT = "liuzhi-tenant-export"
VERSION = 1


def tenant_tables() -> list[Any]:
    out = []
    for table in Base.metadata.sorted_tables:
        cls = next((m.class_ for m in Base.registry.mappers if m.local_table is table), None)
        if cls is not None and is_tenant_scoped(cls):
            out.append(table)
    return out


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    return value


def _load(value: Any, column: Any) -> Any:
    if isinstance(value, dict) and "$dt" in value and len(value) == 1:
        return datetime.fromisoformat(value["$dt"])
    if isinstance(value, dict) and "$d" in value and len(value) == 1:
        return date.fromisoformat(value["$d"])
    if isinstance(value, dict) and "$t" in value and len(value) == 1:
        return time.fromisoformat(value["$t"])
    if isinstance(value, dict) and "$dec" in value and len(value) == 1:
        return Decimal(value["$dec"])
    if isinstance(value, dict) and "$b64" in value and len(value) == 1:
        return base64.b64decode(value["$b64"])
    if value is not None and isinstance(column.type, DateTime) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if value is not None and isinstance(column.type, LargeBinary) and isinstance(value, str):
        return base64.b64decode(value)
    return value


def parents_first(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a table that points at itself (the grid tree) ordered so a parent comes before its
    children: PostgreSQL checks each foreign key as a row goes in."""
    own = [
        (fk.parent.name, fk.column.name)
        for fk in table.foreign_keys
        if fk.column.table is table and fk.parent.name != "tenant_id"
    ]
    if not own:
        return rows
    (ref, key), *_ = own
    present = {r.get(key) for r in rows}
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []
    remaining = rows
    while remaining:
        ready = [r for r in remaining if r.get(ref) is None or r.get(ref) in placed or r.get(ref) not in present]
        if not ready:  # a cycle: let the database say so
            return ordered + remaining
        ordered += ready
        placed.update(r.get(key) for r in ready)
        taken = {id(r) for r in ready}
        remaining = [r for r in remaining if id(r) not in taken]
    return ordered


async def export_tenant(db: Database, slug: str, storage: Any = None) -> bytes:
    async with db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
        if tenant is None:
            raise TenantError(f"no tenant {slug!r}")
        domains = (
            (await s.execute(select(TenantDomain.host).where(TenantDomain.tenant_id == tenant.id))).scalars().all()
        )
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "tenant": {c.name: _dump(getattr(tenant, c.key)) for c in Tenant.__table__.columns},
        "domains": list(domains),
        "tables": {},
        "files": {},
    }
    async with db.transaction(tenant.id, PLATFORM) as s:
        for table in tenant_tables():
            rows = (await s.execute(select(table).where(table.c.tenant_id == tenant.id))).mappings().all()
            doc["tables"][table.name] = [{k: _dump(v) for k, v in row.items()} for row in rows]
        if storage is not None:
            for row in doc["tables"].get("stored_files", []):
                try:
                    data = storage.path(row["storage_key"]).read_bytes()
                except FileNotFoundError:
                    continue
                doc["files"][row["storage_key"]] = base64.b64encode(data).decode()
        record(s, "tenant.export", "tenants", tenant.id, {"tables": len(doc["tables"])})
    return gzip.compress(json.dumps(doc, ensure_ascii=False).encode())


async def import_tenant(db: Database, raw: bytes, storage: Any = None, new_slug: str | None = None) -> Tenant:
    """All or nothing: a refused or failing import leaves no row behind."""
    try:
        doc = json.loads(gzip.decompress(raw))
    except (OSError, ValueError) as exc:
        raise TenantError("not a Liuzhi tenant export (expected a .json.gz file)") from exc
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise TenantError("not a Liuzhi tenant export of a version this deployment reads")
    known = {t.name: t for t in tenant_tables()}
    unknown = sorted(set(doc["tables"]) - set(known))
    if unknown:
        raise TenantError("the export has tables of plugins not installed here: " + ", ".join(unknown))
    t = {k: _load(v, Tenant.__table__.c[k]) for k, v in doc["tenant"].items() if k in Tenant.__table__.c}
    if new_slug:
        t["slug"] = new_slug
    async with db.session(None) as s:
        clash = (
            await s.execute(select(Tenant.slug).where((Tenant.slug == t["slug"]) | (Tenant.id == t["id"])))
        ).first()
    if clash:
        raise TenantError(f"a tenant {clash[0]!r} with this slug or id exists here already")
    async with db.transaction(None, PLATFORM) as s:
        s.add(Tenant(**t))
        for host in doc.get("domains", []):
            s.add(TenantDomain(host=host, tenant_id=t["id"]))
    try:
        async with db.transaction(t["id"], PLATFORM) as s:
            for table in tenant_tables():
                rows = doc["tables"].get(table.name) or []
                if not rows:
                    continue
                for row in rows:
                    if row.get("tenant_id") != t["id"]:
                        raise TenantError(f"{table.name}: a row of another tenant in the file")
                clean = [
                    {k: _load(v, table.c[k]) for k, v in row.items() if k in table.c}
                    for row in parents_first(table, rows)
                ]
                for i in range(0, len(clean), 500):
                    await s.execute(insert(table), clean[i : i + 500])
            record(s, "tenant.import", "tenants", t["id"], {"rows": sum(len(v) for v in doc["tables"].values())})
    except Exception:
        async with db.transaction(None, PLATFORM) as s:
            await s.execute(TenantDomain.__table__.delete().where(TenantDomain.tenant_id == t["id"]))
            await s.execute(Tenant.__table__.delete().where(Tenant.id == t["id"]))
        raise
    if storage is not None:
        for key, data in doc.get("files", {}).items():
            target = storage.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(data))
    async with db.session(None) as s:
        tenant = await s.get(Tenant, t["id"])
    assert tenant is not None
    return tenant
