"""雷锋超市: reserve then hand over, refusals that leave nothing written, cancellation by reversal,
and no overspend of stock or points when two app processes redeem at once (PostgreSQL)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db.engine import Database
from core.services import ledger
from core.services.errors import Conflict
from plugins.co_governance import store, volunteers
from plugins.co_governance.models import Redemption, StoreItem
from tests.co_governance.conftest import activity, rule, volunteer_of
from tests.conftest import PG_URL

D = Decimal


async def _funded(s: Any, app: Any, world: Any, who: str, minutes: int, day: int = 0) -> Any:
    v = await volunteer_of(s, app, world, who)
    act = await activity(s, world, day=day)
    await volunteers.record_service(s, act.id, v, minutes, rule())
    return v


async def test_redeem_takes_stock_and_points_then_staff_hand_it_over(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await _funded(s, app, world, "ann", 600)  # 10 points
        item = await store.add_item(s, node=world.community, name="洗衣液", price=4, stock=2)
        red = await store.redeem(s, item.id, ann, request_key="phone-1")
        assert red.state == "reserved" and red.number.startswith("LF-")
        assert item.stock == 1 and await volunteers.points_balance(s, ann.id) == D(6)
        again = await store.redeem(s, item.id, ann, request_key="phone-1")  # a retried tap
        assert again.id == red.id and item.stock == 1
        await store.hand_over(s, red, "本人领取")
        assert red.state == "handed_over" and red.handed_over_by == world.users["staff"].id
        with pytest.raises(Conflict):
            await store.hand_over(s, red)


async def test_not_enough_points_or_stock_is_refused_and_nothing_is_written(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await _funded(s, app, world, "ann", 180)  # 3 points
        dear = await store.add_item(s, node=world.community, name="电饭煲", price=50, stock=1)
        with pytest.raises(ledger.InsufficientBalance):
            await store.redeem(s, dear.id, ann)
        await s.refresh(dear)
        assert dear.stock == 1
        assert await s.scalar(select(func.count(Redemption.id))) == 0
        empty = await store.add_item(s, node=world.community, name="毛巾", price=1, stock=0)
        with pytest.raises(Conflict, match="out of stock"):
            await store.redeem(s, empty.id, ann)
        assert await volunteers.points_balance(s, ann.id) == D(3)


async def test_cancelling_a_reservation_gives_stock_and_points_back_by_reversal(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await _funded(s, app, world, "ann", 600)
        item = await store.add_item(s, node=world.community, name="洗衣液", price=4, stock=1)
        red = await store.redeem(s, item.id, ann)
        await store.cancel(s, red, "志愿者改选其他物品")
        await s.refresh(item)
        assert item.stock == 1 and await volunteers.points_balance(s, ann.id) == D(10)
        assert (await ledger.check(s)).problems == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["earn", "redeem", "cancel", "correct"]), st.integers(0, 400)),
        min_size=1,
        max_size=12,
    )
)
async def test_books_stock_and_records_always_agree(world: Any, app: Any, ops: list[Any]) -> None:
    async with world.session("staff") as s:
        ann = await _funded(s, app, world, "ann", 0)
        item = await store.add_item(s, node=world.community, name="香皂", price=2, stock=3)
        acts: list[Any] = []
        for n, (op, value) in enumerate(ops):
            try:
                if op == "earn":
                    acts.append(await activity(s, world, day=n + 1))
                    await volunteers.record_service(s, acts[-1].id, ann, value, rule())
                elif op == "correct" and acts:
                    await volunteers.record_service(s, acts[value % len(acts)].id, ann, value, rule())
                elif op == "redeem":
                    await store.redeem(s, item.id, ann)
                elif op == "cancel":
                    reserved = await s.scalar(select(Redemption).where(Redemption.state == "reserved").limit(1))
                    if reserved is not None:
                        await store.cancel(s, reserved, "取消")
            except Conflict:
                pass
        held = await s.scalar(
            select(func.coalesce(func.sum(Redemption.quantity), 0)).where(Redemption.state != "cancelled")
        )
        spent = await s.scalar(
            select(func.coalesce(func.sum(Redemption.points), 0)).where(Redemption.state != "cancelled")
        )
        earned = sum(r.points for r in await volunteers.records_of(s, ann.id))
        await s.refresh(item)
        assert item.stock == 3 - held >= 0
        balance = await volunteers.points_balance(s, ann.id)
        assert balance == ledger.from_units(earned) - spent >= 0
        assert (await ledger.check(s)).problems == []
        await s.rollback()


# ---- two app processes at once ---------------------------------------------------------------


@pytest.mark.skipif(not PG_URL, reason="concurrent writers need PostgreSQL")
async def test_two_processes_never_overspend_stock_or_points(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await _funded(s, app, world, "ann", 600)  # 10 points
        bob = await _funded(s, app, world, "bob", 600, day=1)
        last = await store.add_item(s, node=world.community, name="最后一瓶洗衣液", price=1, stock=1)
        dear = await store.add_item(s, node=world.community, name="保温杯", price=6, stock=10)
        ids = {"ann": ann.id, "bob": bob.id, "last": last.id, "dear": dear.id}
    engines = [Database(app.state.settings.database_url), Database(app.state.settings.database_url)]

    async def attempt(n: int, who: str, item: str, key: str | None = None) -> str:
        try:
            async with engines[n % 2].transaction(world.tenant.id) as s:
                v = await volunteers.get(s, ids[who])
                red = await store.redeem(s, ids[item], v, request_key=key)
                await asyncio.sleep(0.02)  # hold the rows while the other process queues
                return f"ok:{red.id}"
        except ledger.InsufficientBalance:
            return "no points"
        except Conflict:
            return "no stock"

    try:
        # two volunteers, the last item
        last_race = await asyncio.gather(attempt(0, "ann", "last"), attempt(1, "bob", "last"))
        # one volunteer (10 points, 9 left after a win above or 10) redeeming a 6-point item twice at once
        twice = await asyncio.gather(attempt(0, "bob", "dear"), attempt(1, "bob", "dear"))
        # the same request from both processes: one redemption
        same = await asyncio.gather(attempt(0, "ann", "dear", "tap-1"), attempt(1, "ann", "dear", "tap-1"))
    finally:
        for e in engines:
            await e.dispose()
    assert sorted(r.split(":")[0] for r in last_race) == ["no stock", "ok"]
    assert sorted(r.split(":")[0] for r in twice) == ["no points", "ok"]
    assert same[0] == same[1] and same[0].startswith("ok")
    async with world.session() as s:
        assert await s.scalar(select(StoreItem.stock).where(StoreItem.id == ids["last"])) == 0
        assert await s.scalar(select(StoreItem.stock).where(StoreItem.id == ids["dear"])) == 8
        for who in ("ann", "bob"):
            assert await volunteers.points_balance(s, ids[who]) >= 0
        assert (await ledger.check(s)).problems == []
