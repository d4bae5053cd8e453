"""Is the database (or Redis) there? Telling an outage from a bug, for degraded mode.

While the database is unreachable the web layer answers 503 (core.web.errors: the styled page with
``Retry-After``, the API's ``{"status_code", "detail"}``, Open311's own format), the job loop logs a
line instead of a traceback, and /healthz and /readyz say what is down. The connection pool throws
away connections that died with the server, so the app recovers by itself when it is back.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import exc as sa_exc

RETRY_AFTER = 5
CHECK_TIMEOUT = 2.0

# asyncpg's errors for a server that is gone, restarting or refusing connections.
_GONE_NAMES = {
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "AdminShutdownError",
    "CrashShutdownError",
    "InterfaceError",
    "InternalClientError",
    "PostgresConnectionError",
    "TooManyConnectionsError",
}


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached right now."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.TimeoutError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
            return True
        if isinstance(current, sa_exc.OperationalError):
            return True  # PostgreSQL gone, or SQLite's file locked/unreadable: try again shortly
        if isinstance(current, ConnectionError | TimeoutError | asyncio.TimeoutError):
            return True
        if isinstance(current, OSError) and current.errno is not None:
            return True  # connect(): refused, unreachable, reset
        if type(current).__name__ in _GONE_NAMES:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def bad_value(exc: BaseException) -> bool:
    """A value the database refused (out of range, wrong encoding): the client's fault, a 400."""
    # SQLite's driver raises OverflowError for an integer beyond 64 bits.
    return isinstance(exc, sa_exc.DataError | OverflowError) or isinstance(exc.__cause__, OverflowError)


async def check_database(db: Any) -> str:
    from sqlalchemy import text

    try:
        async with asyncio.timeout(CHECK_TIMEOUT), db.session(None) as s:
            await s.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        return "down"


async def check_redis(redis: Any) -> str:
    if redis is None:
        return "not configured"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await redis.ping()
        return "ok"
    except Exception:
        return "down"
