"""Engine and sessions. A session is bound to one tenant (or none) and one actor when opened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from core.db import rls, tenant_filter
from core.db.context import Actor

DATABASE = "liuzhi.database"  # session.info: the Database that opened the session


class TenantSession(Session):
    """The sync session class behind every AsyncSession; our listeners hang on it."""


tenant_filter.install(TenantSession)  # stamps tenant and ids first (audit, installed by the app, sees them)
rls.install(TenantSession)


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            from pathlib import Path

            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    # No pre-ping (a round trip per checkout); stale connections are recycled by age instead.
    kw.setdefault("pool_pre_ping", False)
    kw.setdefault("pool_recycle", 1800)
    # asyncpg prepares statements per connection; after five runs PostgreSQL may switch to a
    # generic plan made without the tenant, scope or dates, measured 10–50× slower at 1M rows
    # (bench/smart_service.py). Custom plans cost a little planning time per query.
    # A database that is down must fail fast (a 503 in seconds), not hold requests for asyncpg's
    # default minute; a full pool waits a little, then fails the same way.
    kw.setdefault("connect_args", {"server_settings": {"plan_cache_mode": "force_custom_plan"}, "timeout": 5})
    kw.setdefault("pool_timeout", 10)
    return create_async_engine(url, **kw)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = async_sessionmaker(self.engine, sync_session_class=TenantSession, expire_on_commit=False)
        # Put in every session's ``info`` (the app puts its state here, for the event outbox).
        self.session_info: dict[str, Any] = {}
        self._aside: AsyncEngine | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, tenant_id: int | None, actor: Actor | None = None, **info: Any) -> AsyncSession:
        s = self.sessionmaker()
        s.info.update(self.session_info)
        s.info["tenant_id"] = tenant_id
        s.info[DATABASE] = self
        if actor is not None:
            s.info["actor"] = actor
        s.info.update(info)
        return s

    @asynccontextmanager
    async def transaction(
        self, tenant_id: int | None, actor: Actor | None = None, **info: Any
    ) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back (saving nothing) on any error."""
        async with self.session(tenant_id, actor, **info) as s, s.begin():
            yield s

    @asynccontextmanager
    async def aside(self, tenant_id: int) -> AsyncIterator[AsyncConnection]:
        """A connection of its own for what a request records beside its own transaction: a counter,
        a last-use stamp. Each statement commits by itself (AUTOCOMMIT), so a row it locks is held
        for that statement only, never while the app gets round to sending a COMMIT.

        On PostgreSQL it comes from a small pool of its own (it never waits for a connection the
        request's pool may be short of), with ``synchronous_commit`` off: such a write is either
        harmless to lose or, like a number, reaches the disk before the commit of anything that
        uses it (the WAL is flushed in order). The tenant is set for the connection (row-level
        security holds), before every use: only ``aside`` hands these connections out. On SQLite:
        a connection of the main engine, committing each statement likewise."""
        if self.dialect != "postgresql":
            async with self.engine.connect() as conn:
                yield await conn.execution_options(isolation_level="AUTOCOMMIT")
            return
        if self._aside is None:
            settings = {"plan_cache_mode": "force_custom_plan", "synchronous_commit": "off"}
            self._aside = make_engine(
                self.engine.url.render_as_string(hide_password=False),
                # As many as the request pool keeps: each request uses it once or twice, briefly, and
                # a smaller pool closed and reopened connections (a backend each) at 8 clients.
                pool_size=10,
                max_overflow=5,
                isolation_level="AUTOCOMMIT",
                connect_args={"server_settings": settings, "timeout": 5},
            )
        async with self._aside.connect() as conn:
            if conn.info.get(rls.SETTING) != tenant_id:
                await conn.execute(text("SELECT set_config(:k, :v, false)"), {"k": rls.SETTING, "v": str(tenant_id)})
                conn.info[rls.SETTING] = tenant_id
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._aside is not None:
            aside, self._aside = self._aside, None
            await aside.dispose()
