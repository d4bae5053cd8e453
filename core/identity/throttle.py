"""The login brake: failed sign-ins counted atomically, answered with exponential back-off.

Three counters per attempt, each one atomic statement (Redis ``HINCRBY`` in a MULTI, or one SQL
upsert ``… ON CONFLICT DO UPDATE … RETURNING``), so concurrent attempts across processes never
lose a count:

- the account *at this address*: the tight one (5 free failures, then 2 s, 4 s, 8 s … up to 15 min);
  a stranger failing with your username from elsewhere does not slow you down;
- the address: looser (many people share one NAT);
- the account from anywhere: loosest, and capped at a minute, so a distributed guesser is slowed
  while nobody can lock a user out. Platform operators have no such counter: the platform's only
  operator must not be lockable from outside (its console can also be limited to addresses).

A refused attempt never checks the password, so the brake is no oracle either.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.identity.models import LoginThrottle

PURGE_SHARE = 0.01


@dataclass(frozen=True)
class Limit:
    key: str
    free: int  # failures allowed before the back-off starts
    cap: float  # the longest wait, in seconds


@dataclass(frozen=True)
class Count:
    failures: int
    last_at: float


def delay(failures: int, free: int, base: float, cap: float) -> float:
    """Seconds to wait after ``failures`` failures: 0 while free, then base·2ⁿ up to cap."""
    if failures < free:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - free, 30)))


class RedisCounter:
    def __init__(self, redis: Any, namespace: str = "liuzhi:brake") -> None:
        self.redis = redis
        self.namespace = namespace

    def _k(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def hit(self, key: str, window: int, now: float) -> Count:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self._k(key), "n", 1)
            pipe.hset(self._k(key), "t", repr(now))
            pipe.expire(self._k(key), window)
            n, _t, _e = await pipe.execute()
        return Count(int(n), now)

    async def peek(self, keys: list[str]) -> dict[str, Count]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self._k(key), "n", "t")
            rows = await pipe.execute()
        return {k: Count(int(n), float(t)) for k, (n, t) in zip(keys, rows, strict=True) if n is not None}

    async def clear(self, key: str) -> None:
        await self.redis.delete(self._k(key))


class SqlCounter:
    """One row per key in ``login_throttle`` (no tenant: the keys carry it)."""

    def __init__(self, db: Any, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock  # what has expired is judged by it

    async def hit(self, key: str, window: int, now: float) -> Count:
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        table = LoginThrottle.__table__
        stmt = insert(table).values(key=key, failures=1, last_at=now, expires_at=now + window)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                # An expired row starts again from one.
                "failures": _restart_or_add(table, now),
                "last_at": now,
                "expires_at": now + window,
            },
        ).returning(table.c.failures)
        async with self.db.transaction(None) as s:
            failures = (await s.execute(stmt)).scalar_one()
        if random.random() < PURGE_SHARE:  # expired rows go now and then, no job needed
            await self.purge()
        return Count(int(failures), now)

    async def peek(self, keys: list[str]) -> dict[str, Count]:
        now = self.clock()
        async with self.db.session(None) as s:
            rows = (
                await s.execute(
                    select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.last_at).where(
                        LoginThrottle.key.in_(keys), LoginThrottle.expires_at > now
                    )
                )
            ).all()
        return {r[0]: Count(int(r[1]), float(r[2])) for r in rows}

    async def clear(self, key: str) -> None:
        async with self.db.transaction(None) as s:
            await s.execute(delete(LoginThrottle).where(LoginThrottle.key == key))

    async def purge(self) -> int:
        async with self.db.transaction(None) as s:
            res = await s.execute(delete(LoginThrottle).where(LoginThrottle.expires_at <= self.clock()))
            return res.rowcount or 0


def _restart_or_add(table: Any, now: float) -> Any:
    from sqlalchemy import case

    return case((table.c.expires_at <= now, 1), else_=table.c.failures + 1)


class LoginBrake:
    def __init__(self, counter: Any, settings: Any, clock: Callable[[], float] = time.time) -> None:
        self.counter = counter
        self.clock = clock  # seconds since the epoch; tests move it instead of sitting out a back-off
        self.free = settings.login_free_attempts
        self.base = settings.login_backoff_base
        self.cap = settings.login_backoff_max
        self.window = settings.login_window

    def limits(self, realm: str, username: str, address: str, *, account_wide: bool = True) -> list[Limit]:
        """``realm`` is ``t<tenant id>`` or ``platform``; the first limit is the one a success clears."""
        name = username.strip().lower()[:100]
        out = [
            Limit(f"{realm}:ua:{name}@{address}", self.free, self.cap),
            Limit(f"{realm}:a:{address}", self.free * 4, self.cap),
        ]
        if account_wide:
            out.append(Limit(f"{realm}:u:{name}", self.free * 10, 60.0))
        return out

    async def wait(self, limits: list[Limit], now: float | None = None) -> float:
        """Seconds until another attempt is allowed (0: go ahead)."""
        now = self.clock() if now is None else now
        counts = await self.counter.peek([lim.key for lim in limits])
        waits = [0.0]
        for lim in limits:
            count = counts.get(lim.key)
            if count is not None:
                waits.append(count.last_at + delay(count.failures, lim.free, self.base, lim.cap) - now)
        return max(waits)

    async def failed(self, limits: list[Limit]) -> None:
        now = self.clock()
        for lim in limits:
            await self.counter.hit(lim.key, self.window, now)

    async def succeeded(self, limits: list[Limit]) -> None:
        # Only the account-at-address counter: clearing the address one would let anyone holding
        # one valid account reset the brake on their address between guesses.
        await self.counter.clear(limits[0].key)


def brake_for(app_state: Any) -> LoginBrake:
    return app_state.login_brake
