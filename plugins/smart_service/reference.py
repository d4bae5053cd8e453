"""The district's reference data, cached per process: the working calendar, the categories and the
Open311 API keys. Each is kept while the tenant's version stands (core/tenancy/versioned.py): any
write of a category, calendar, calendar day or key moves it (``watch``, installed when the plugin's
models are registered), so this process drops its copy at commit and every other one within the
tenant cache's second. Intake then reads none of them from the database on a warm request.

Cached categories are detached rows: read them, never change them (an admin page loads its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.tenancy import versioned
from plugins.smart_service import sla
from plugins.smart_service.models import CalendarDay, Category, Open311Key, WorkCalendar
from plugins.smart_service.open311_keys import hash_key

TENANTS_KEPT = 2_000  # per process and kind; the least recently used go first
_CACHE = versioned.VersionedCache(3 * TENANTS_KEPT)
WATCHED = (Category, WorkCalendar, CalendarDay, Open311Key)


def watch(session_class: type[Session]) -> None:
    for model in WATCHED:
        versioned.watch(session_class, model)


@dataclass(frozen=True)
class Key:
    """An Open311 API key as a request needs it (the row's last use is written apart, keys.py)."""

    id: int
    name: str


async def _cached(db: AsyncSession, kind: str, version: int | None, load: Any) -> Any:
    tenant_id = db.info["tenant_id"]
    if version is None:
        return await load(db)
    found = _CACHE.get(tenant_id, kind, version)
    if found is None:
        found = await load(db)
        _CACHE.put(tenant_id, kind, version, found)
    return found


async def calendar(db: AsyncSession, version: int | None) -> sla.Calendar:
    """The tenant's working calendar (``version``: the tenant's ``policy_version``; None reads it)."""
    return await _cached(db, "calendar", version, sla.load_calendar)  # type: ignore[no-any-return]


async def _load_categories(db: AsyncSession) -> dict[str, Category]:
    rows = list((await db.execute(select(Category).order_by(Category.position, Category.code))).scalars())
    for row in rows:
        db.expunge(row)  # shared by requests from now on: never flushed by one of them
    return {c.code: c for c in rows}


async def categories(db: AsyncSession, version: int | None) -> dict[str, Category]:
    """All the tenant's categories by code, in their display order (active or not)."""
    return await _cached(db, "categories", version, _load_categories)  # type: ignore[no-any-return]


async def _load_keys(db: AsyncSession) -> dict[str, Key]:
    active = Open311Key.active.is_(True)
    rows = await db.execute(select(Open311Key.key_hash, Open311Key.id, Open311Key.name).where(active))
    return {h: Key(i, n) for h, i, n in rows.all()}


async def api_key(db: AsyncSession, raw_key: str | None, version: int | None) -> Key | None:
    """The active key matching ``raw_key`` in the session's tenant, or None."""
    if not raw_key or len(raw_key) > 200:
        return None
    keys = await _cached(db, "keys", version, _load_keys)
    return keys.get(hash_key(raw_key.strip()))  # type: ignore[no-any-return]
