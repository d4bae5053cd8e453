"""Key/value stores behind sessions and login throttling: the database by default, Redis when set.

Both are ordinary Litestar stores, so the session middleware does not care which one it has.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from sqlalchemy import delete, select

from core.db.engine import Database
from core.identity.models import KeyValue


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    return datetime.now(UTC) + timedelta(seconds=seconds)


class DatabaseStore(Store):
    """Rows in ``kv_store``; expired rows are ignored on read and purged by a periodic job."""

    # Litestar saves the session on every response; an unchanged session is written again only
    # when its expiry has slid this far, so a GET costs a read, not a write.
    REWRITE_AFTER = 300

    def __init__(self, db: Database, namespace: str) -> None:
        self.db = db
        self.namespace = namespace
        self._seen: OrderedDict[str, tuple[bytes, datetime | None]] = OrderedDict()

    def _remember(self, key: str, value: bytes, expires_at: datetime | None) -> None:
        self._seen[key] = (value, expires_at)
        self._seen.move_to_end(key)
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)

    def _unchanged(self, key: str, data: bytes, expires_in: int | timedelta | None) -> bool:
        seen = self._seen.get(key)
        if seen is None or seen[0] != data:
            return False
        if expires_in is None or seen[1] is None:
            return expires_in is None and seen[1] is None
        new_expiry = _expiry(expires_in)
        assert new_expiry is not None
        return (new_expiry - seen[1]).total_seconds() < self.REWRITE_AFTER

    def _k(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        if self._unchanged(key, data, expires_in):
            return
        self._remember(key, data, _expiry(expires_in))
        async with self.db.transaction(None) as s:
            row = await s.get(KeyValue, self._k(key))
            if row is None:
                s.add(KeyValue(key=self._k(key), value=data, expires_at=_expiry(expires_in)))
            else:
                row.value = data
                row.expires_at = _expiry(expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self.db.transaction(None) as s:
            row = await s.get(KeyValue, self._k(key))
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
                await s.delete(row)
                return None
            if renew_for is not None and row.expires_at is not None:
                row.expires_at = _expiry(renew_for)
            self._remember(key, row.value, row.expires_at)
            return row.value

    async def delete(self, key: str) -> None:
        self._seen.pop(key, None)
        async with self.db.transaction(None) as s:
            await s.execute(delete(KeyValue).where(KeyValue.key == self._k(key)))

    async def delete_all(self) -> None:
        self._seen.clear()
        async with self.db.transaction(None) as s:
            await s.execute(delete(KeyValue).where(KeyValue.key.startswith(self.namespace + ":")))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.db.transaction(None) as s:
            row = (await s.execute(select(KeyValue).where(KeyValue.key == self._k(key)))).scalar_one_or_none()
            if row is None or row.expires_at is None:
                return None
            return int((row.expires_at - datetime.now(UTC)).total_seconds())

    async def purge_expired(self) -> int:
        async with self.db.transaction(None) as s:
            res = await s.execute(delete(KeyValue).where(KeyValue.expires_at <= datetime.now(UTC)))
            return res.rowcount or 0


ROTATE = "liuzhi.rotate_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Issues a fresh session id when asked (at login), so a planted cookie cannot be fixated."""

    def get_session_id(self, connection):  # type: ignore[no-untyped-def]
        scope = connection.scope
        if scope.get(ROTATE):
            if "liuzhi.new_session_id" not in scope:
                scope["liuzhi.new_session_id"] = self.generate_session_id()
            return scope["liuzhi.new_session_id"]
        return super().get_session_id(connection)


class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]
