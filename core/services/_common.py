"""What every shared service needs: who is acting, the time, announcing an event, savepoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.log import SYSTEM
from core.db.context import Actor, current_actor
from core.services import events


def actor_of(session: AsyncSession) -> Actor:
    return session.sync_session.info.get("actor") or current_actor() or SYSTEM


def actor_user_id(session: AsyncSession) -> int | None:
    actor = actor_of(session)
    return actor.id if actor.kind in ("user", "token") else None


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """Datetimes read back from SQLite lose their zone in some paths; the services compare aware ones."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def announce(session: AsyncSession, name: str, payload: dict[str, Any]) -> None:
    """Queue an event on ``session``: delivered to ``on_event`` after commit, dropped on rollback."""
    result = events.emit(session, events.Event(name, payload, actor_of(session)))
    if hasattr(result, "__await__"):
        await result


@asynccontextmanager
async def atomic(session: AsyncSession) -> AsyncIterator[None]:
    """A savepoint: what runs inside is written whole or not at all, in the caller's transaction.

    On SQLite the driver opens its transaction only before the first INSERT/UPDATE/DELETE, and a
    SAVEPOINT outside a transaction is committed by its RELEASE — the caller's later rollback would
    not undo it. A no-op DELETE first makes the driver open the real transaction.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("DELETE FROM kv_store WHERE 0 = 1"))
    async with session.begin_nested():
        yield
