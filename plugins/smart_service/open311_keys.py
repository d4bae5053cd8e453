"""Open311 API keys: per tenant, stored as their SHA-256 only (like core's API tokens).

A key names its client (``name``); a POSTed request is reported in that client's name. The demo
data hook calls ``ensure_api_key(session, "demo-open311-key", "Open311 demo")``.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from plugins.smart_service.models import Open311Key


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
    """The active key matching ``raw_key`` in the session's tenant (marked as used), or None."""
    if not raw_key or len(raw_key) > 200:
        return None
    key = (
        await session.execute(select(Open311Key).where(Open311Key.key_hash == hash_key(raw_key.strip())))
    ).scalar_one_or_none()
    if key is None or not key.active:
        return None
    key.last_used_at = utcnow()
    return key
