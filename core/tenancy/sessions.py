"""A session bound to one tenant outside a request: for a CLI command, a script or a one-off job.

In a request use ``ctx(request).db``; in a job handler ``ctx.session``. Both are bound already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.context import Actor
from core.db.engine import Database
from core.tenancy.service import get_tenant

CLI = Actor("system", None, "cli")


@asynccontextmanager
async def tenant_session(
    tenant: str | int, *, settings: Any = None, database: Database | None = None, actor: Actor | None = None
) -> AsyncIterator[AsyncSession]:
    """``async with tenant_session("shuangluan") as s:`` — a session bound to the tenant (slug or
    id): the ORM filters and stamps ``tenant_id``, PostgreSQL's row-level security sees the tenant,
    and the work commits when the block ends without error (rolled back otherwise). The database
    is ``database``, or the one ``settings`` (default: ``Settings.from_env()``, i.e. LIUZHI_DATABASE_URL)
    names, opened and closed here. Audit rows name ``actor`` (default: the system's CLI)."""
    own = database is None
    if database is None:
        from core.config import Settings

        database = Database((settings or Settings.from_env()).database_url)
    try:
        tenant_id = tenant if isinstance(tenant, int) else (await get_tenant(database, tenant)).id
        async with database.transaction(tenant_id, actor or CLI) as s:
            yield s
    finally:
        if own:
            await database.dispose()
