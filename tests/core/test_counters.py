"""Core's per-tenant counters (core/services/counters.py) under concurrent callers, as reports,
sign-ups and case files arriving at once in one district would use them: every number is given once
per district; ``take`` (committed apart on PostgreSQL) lets a rolled-back caller leave a gap and
never a duplicate; ``bump`` (inside the caller's transaction) gives a rolled-back number back;
two districts count independently.

The counter table is the caller's (each pillar has its own): these tests make one of their own,
under the same row-level security as a pillar's."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Integer, String, UniqueConstraint, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.db import rls
from core.db.base import TenantScoped, new_id
from core.services import counters
from liuzhi.testing import APP_ROLE


class _Base(DeclarativeBase):
    """Not the product's metadata: the table exists for these tests only."""


class Tally(TenantScoped, _Base):
    __tablename__ = f"test_counters_{secrets.token_hex(3)}"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer, default=0)


@pytest.fixture(scope="module")
async def tally(owner_db: Any) -> AsyncIterator[type[Tally]]:
    """The table, made by the database's owner, readable by the app's role under row-level security."""
    table = Tally.__tablename__
    async with owner_db.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO "{APP_ROLE}"'))
            for stmt in rls.enable_sql(table):
                await conn.execute(text(stmt))
    yield Tally
    async with owner_db.engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)


Caller = Callable[[int, int], Awaitable[int | None]]


def caller(db: Any, move: Any, key: str, fails: Callable[[int], bool] = lambda i: False) -> Caller:
    """One reporter in a session of its own: takes a number, then commits, or fails and rolls back
    (the number is then not used: None)."""

    async def one(tenant_id: int, i: int) -> int | None:
        async with db.session(tenant_id) as s:
            n = await move(s, Tally, key)
            if fails(i):
                await s.rollback()
                return None
            await s.commit()
            return int(n)

    return one


async def stored(db: Any, tenant_id: int, key: str) -> int | None:
    async with db.session(tenant_id) as s:
        return (await s.execute(select(Tally.value).where(Tally.key == key))).scalar_one_or_none()


async def test_concurrent_takes_are_unique_and_a_rolled_back_one_leaves_a_gap_never_a_duplicate(
    db: Any, tally: type[Tally]
) -> None:
    tenant = new_id()
    key = "event:20261208"
    one = caller(db, counters.take, key, fails=lambda i: i % 4 == 3)
    used = [n for n in await asyncio.gather(*(one(tenant, i) for i in range(16))) if n is not None]

    assert len(used) == 12 and len(set(used)) == 12  # every committed caller has its own number
    if db.dialect == "postgresql":
        # Taken apart and committed at once: the four rolled-back callers' numbers stay used up.
        assert set(used) < set(range(1, 17))
        assert await stored(db, tenant, key) == 16
        assert await one(tenant, 0) == 17  # the next one follows the gaps, it never fills them
    else:
        # SQLite has one writer at a time: the counter moves in the caller's transaction.
        assert sorted(used) == list(range(1, 13))
        assert await stored(db, tenant, key) == 12


async def test_concurrent_bumps_inside_the_transaction_are_gapless(db: Any, tally: type[Tally]) -> None:
    tenant = new_id()
    key = "TJ2026"
    one = caller(db, counters.bump, key, fails=lambda i: i % 3 == 2)
    used = [n for n in await asyncio.gather(*(one(tenant, i) for i in range(9))) if n is not None]

    assert sorted(used) == list(range(1, 7))  # a rolled-back case file gave its number back
    assert await stored(db, tenant, key) == 6


async def test_two_districts_count_independently(db: Any, tally: type[Tally]) -> None:
    first, second = new_id(), new_id()
    key = "event:20261208"
    one = caller(db, counters.take, key)
    got = await asyncio.gather(*(one(first, i) for i in range(5)), *(one(second, i) for i in range(3)))

    assert sorted(got[:5]) == [1, 2, 3, 4, 5]
    assert sorted(got[5:]) == [1, 2, 3]
    assert await stored(db, first, key) == 5
    assert await stored(db, second, key) == 3


async def test_a_session_bound_to_no_district_takes_no_number(db: Any, tally: type[Tally]) -> None:
    async with db.session(None) as s:
        with pytest.raises(ValueError, match="no tenant"):
            await counters.take(s, Tally, "event:20261208")
        with pytest.raises(ValueError, match="no tenant"):
            await counters.bump(s, Tally, "event:20261208")


def test_a_daily_key_follows_the_districts_local_day() -> None:
    late_evening_utc = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # already the 8th in Beijing
    assert counters.daily_key("event", late_evening_utc, ZoneInfo("Asia/Shanghai")) == ("event:20261208", "20261208")
    assert counters.daily_key("event", late_evening_utc, UTC) == ("event:20261207", "20261207")
