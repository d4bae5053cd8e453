"""Login throttling: after N failures a username (or client address) is locked for a while."""

from __future__ import annotations

from typing import Any


class Throttle:
    def __init__(self, store: Any, settings: Any) -> None:
        self.store = store
        self.max_failures = settings.login_max_failures
        self.lock_seconds = settings.login_lock_seconds

    async def _count(self, key: str) -> int:
        raw = await self.store.get(key)
        return int(raw) if raw else 0

    async def locked(self, keys: list[str]) -> bool:
        counts = [await self._count(k) for k in keys]
        # The address limit is looser: several people may share one NAT.
        return counts[0] >= self.max_failures or any(n >= self.max_failures * 4 for n in counts[1:])

    async def failed(self, keys: list[str]) -> None:
        for key in keys:
            await self.store.set(key, str(await self._count(key) + 1), expires_in=self.lock_seconds)

    async def reset(self, keys: list[str]) -> None:
        await self.store.delete(keys[0])
