"""Open311 API keys: per tenant, stored as their SHA-256 only (like core's API tokens).

A key names its client (``name``); a POSTed request is reported in that client's name. The demo
data hook calls ``ensure_api_key(session, "demo-open311-key", "Open311 demo")``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from plugins.smart_service.models import Open311Key

log = logging.getLogger("liuzhi.smart_service")


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def ensure_api_key(session: AsyncSession, raw_key: str, name: str) -> Open311Key:
    """The tenant's key ``raw_key``, created (active, named ``name``) if it does not exist yet.
    Idempotent: demo seeding may run it again. The caller commits."""
    digest = hash_key(raw_key)
    key = (await session.execute(select(Open311Key).where(Open311Key.key_hash == digest))).scalar_one_or_none()
    if key is None:
        key = Open311Key(name=name[:100], key_hash=digest, active=True)
        session.add(key)
        await session.flush()
    return key


async def create_api_key(session: AsyncSession, name: str) -> tuple[Open311Key, str]:
    """A new random key for a client: (row, raw key). The raw key is shown once and never stored."""
    raw = "o311_" + secrets.token_urlsafe(24)
    return await ensure_api_key(session, raw, name), raw


async def find_key(session: AsyncSession, raw_key: str | None) -> Open311Key | None:
    """The active key matching ``raw_key`` in the session's tenant, or None. (Its last use is
    recorded apart, by ``touch_key``; a request reads keys from ``reference.api_key``'s cache.)"""
    if not raw_key or len(raw_key) > 200:
        return None
    key = (
        await session.execute(select(Open311Key).where(Open311Key.key_hash == hash_key(raw_key.strip())))
    ).scalar_one_or_none()
    if key is None or not key.active:
        return None
    return key


KEY_TOUCH_EVERY = timedelta(minutes=1)
_TOUCHED: dict[tuple[int, int], datetime] = {}  # (tenant, key) → when this process last wrote its use


async def touch_key(db: Any, tenant_id: int, key_id: int, now: datetime | None = None) -> None:
    """Record a key's use outside the request's transaction, at most once a minute per process; the
    conditional UPDATE lets one process of many write it. Never inside a report's transaction: every
    POST with the key would queue on the key's row lock until the one before it commits."""
    now = now or utcnow()
    last = _TOUCHED.get((tenant_id, key_id))
    if last is not None and now - last < KEY_TOUCH_EVERY:
        return
    _TOUCHED[(tenant_id, key_id)] = now
    try:
        async with db.aside(tenant_id) as conn:
            await conn.execute(
                update(Open311Key)
                .where(
                    Open311Key.tenant_id == tenant_id,  # a Core UPDATE on the side connection: no ORM filter here
                    Open311Key.id == key_id,
                    or_(Open311Key.last_used_at.is_(None), Open311Key.last_used_at < now - KEY_TOUCH_EVERY),
                )
                .values(last_used_at=now)
            )
    except Exception:  # a missed stamp is no reason to fail anything: the report is in
        log.warning("last use of Open311 key %s not recorded", key_id, exc_info=True)
