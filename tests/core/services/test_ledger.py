"""The points ledger: balanced postings, idempotency, no overdraft (also under concurrency),
immutable entries and reversals — as a volunteer or the 雷锋超市's staff would notice them."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.audit.models import AuditEntry
from core.db.engine import Database
from core.services import events, ledger
from core.services.errors import Conflict, InvalidInput, NotFound
from tests.conftest import PG_URL

D = Decimal


async def _books(s: Any) -> tuple[Any, Any, Any]:
    issued = await ledger.open_account(s, "points:issued", allow_negative=True)
    ann = await ledger.open_account(s, "points:user:ann", label="Ann")
    store = await ledger.open_account(s, "store:till")
    return issued, ann, store


async def test_points_earned_and_spent_show_in_balance_and_history(world: Any) -> None:
    async with world.transaction("staff") as s:
        issued, ann, store = await _books(s)
        await ledger.transfer(s, "earn:1", issued, ann, D("12.5"), kind="earn", memo="社区清扫 2.5 小时")
        await ledger.transfer(s, "spend:1", ann, store, 5, kind="redeem", memo="洗衣液一瓶")
        assert await ledger.balance(s, ann) == D("7.50")
        assert ann.balance == 750  # the loaded object follows
        lines = await ledger.history(s, ann)
        assert [(x.amount, x.balance_after, x.kind) for x in lines] == [
            (D("-5.00"), D("7.50"), "redeem"),
            (D("12.50"), D("12.50"), "earn"),
        ]
        assert (await ledger.check(s)).problems == []
        assert [e.name for e in events.pending(s)] == ["ledger.posting.created"] * 2


async def test_posting_twice_with_the_same_key_changes_nothing(world: Any) -> None:
    async with world.transaction() as s:
        issued, ann, _store = await _books(s)
        first = await ledger.transfer(s, "earn:activity:7:ann", issued, ann, 3)
        again = await ledger.transfer(s, "earn:activity:7:ann", issued, ann, 3)
        assert again.id == first.id
        assert await ledger.balance(s, ann) == D(3)
        with pytest.raises(Conflict, match="different posting"):
            await ledger.transfer(s, "earn:activity:7:ann", issued, ann, 4)
        assert await ledger.balance(s, ann) == D(3)


async def test_a_spend_beyond_the_balance_is_refused_and_writes_nothing(world: Any) -> None:
    async with world.transaction() as s:
        issued, ann, store = await _books(s)
        await ledger.transfer(s, "earn", issued, ann, 2)
        with pytest.raises(ledger.InsufficientBalance, match=r"balance is 2\.00, the posting needs 2\.01"):
            await ledger.transfer(s, "spend", ann, store, D("2.01"))
        assert await ledger.balance(s, ann) == D(2)
        assert await ledger.balance(s, store) == D(0)
        assert len(await ledger.history(s, store)) == 0
        assert (await ledger.check(s)).problems == []
        # the failed key is free: the posting did not happen
        await ledger.transfer(s, "spend", ann, store, 2)
        assert await ledger.balance(s, ann) == D(0)


async def test_unbalanced_or_malformed_postings_are_refused_with_a_reason(world: Any) -> None:
    async with world.transaction() as s:
        issued, ann, _store = await _books(s)
        cases = [
            ([(issued, -3), (ann, 2)], "add up to zero"),
            ([(issued, -3)], "at least two"),
            ([(issued, 0), (ann, 0)], "zero points"),
            ([(issued, D("-0.005")), (ann, D("0.005"))], "two decimal places"),
            ([(ann, -1), (ann, 1)], "each account once"),
            ([(issued, "abc"), (ann, 1)], "not an amount"),
        ]
        for lines, message in cases:
            with pytest.raises(InvalidInput, match=message):
                await ledger.post(s, "bad", lines)
        with pytest.raises(NotFound):
            await ledger.post(s, "bad", [(issued, -1), (123456789, 1)])
        with pytest.raises(InvalidInput, match="positive"):
            await ledger.transfer(s, "bad", issued, ann, -1)


async def test_a_wrong_posting_is_reversed_once_never_edited(world: Any) -> None:
    async with world.transaction("staff") as s:
        issued, ann, store = await _books(s)
        wrong = await ledger.transfer(s, "earn:typo", issued, ann, 50)
        with pytest.raises(InvalidInput, match="why"):
            await ledger.reverse(s, wrong.id, "rev:typo", "  ")
        fix = await ledger.reverse(s, wrong.id, "rev:typo", "录入错误：应为 5 分")
        assert fix.reverses_id == wrong.id and fix.kind == "reversal"
        assert await ledger.reverse(s, wrong.id, "rev:typo", "录入错误：应为 5 分") is fix  # idempotent
        with pytest.raises(Conflict, match="already reversed"):
            await ledger.reverse(s, wrong.id, "rev:typo:again", "again")
        with pytest.raises(Conflict, match="not reversed"):
            await ledger.reverse(s, fix.id, "rev:rev", "undo the undo")
        assert await ledger.balance(s, ann) == D(0)
        audit = (await s.execute(select(AuditEntry.action).where(AuditEntry.action == "ledger.reverse"))).scalars()
        assert list(audit) == ["ledger.reverse"]
        # points already spent cannot be taken back below zero
        earned = await ledger.transfer(s, "earn:2", issued, ann, 5)
        await ledger.transfer(s, "spend:2", ann, store, 4)
        with pytest.raises(ledger.InsufficientBalance):
            await ledger.reverse(s, earned.id, "rev:2", "发放错误")


async def test_entries_cannot_be_changed_even_with_raw_sql(world: Any) -> None:
    async with world.transaction() as s:
        issued, ann, _store = await _books(s)
        await ledger.transfer(s, "earn", issued, ann, 1)
    async with world.session() as s:
        with pytest.raises((IntegrityError, DBAPIError), match=r"append-only|permission denied"):
            await s.execute(text("UPDATE ledger_entries SET amount = amount * 10"))
        await s.rollback()
        with pytest.raises((IntegrityError, DBAPIError), match=r"append-only|permission denied"):
            await s.execute(text("UPDATE ledger_postings SET memo = 'changed'"))
        await s.rollback()
        if PG_URL:  # the app role has no DELETE there
            with pytest.raises(DBAPIError, match="permission denied"):
                await s.execute(text("DELETE FROM ledger_entries"))
            await s.rollback()
        # and the database refuses an overdrawn balance behind the service's back
        with pytest.raises(IntegrityError):
            await s.execute(text("UPDATE ledger_accounts SET balance = -1 WHERE key = 'points:user:ann'"))
        await s.rollback()


async def test_another_district_cannot_see_or_post_to_an_account(world: Any, app: Any) -> None:
    async with world.transaction() as s:
        _issued, ann, _store = await _books(s)
        ann_id = ann.id
    other = await _tenant_id(app, "shuangluan")
    async with app.state.db.transaction(other) as s:
        with pytest.raises(NotFound):
            await ledger.balance(s, ann_id)
        mine = await ledger.open_account(s, "points:test:isolation", allow_negative=True)
        with pytest.raises(NotFound):
            await ledger.post(s, "x", [(mine, -1), (ann_id, 1)])
        await s.rollback()


async def _tenant_id(app: Any, slug: str) -> int:
    from core.tenancy.service import get_tenant

    return (await get_tenant(app.state.db, slug)).id


# ---- invariants, by hypothesis ----------------------------------------------------------------

ACCOUNTS = ["issued", "ann", "bob", "store"]
amounts = st.decimals(min_value=D("0.01"), max_value=D("30"), places=2)
operation = st.one_of(
    st.tuples(st.just("transfer"), st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), amounts, st.integers(0, 6)),
    st.tuples(st.just("reverse"), st.integers(0, 20), st.integers(0, 6)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
async def test_the_books_always_balance_and_no_account_is_overdrawn(world: Any, ops: list[Any]) -> None:
    async with world.session() as s:
        accts = {
            name: await ledger.open_account(s, f"h:{name}", allow_negative=(name == "issued")) for name in ACCOUNTS
        }
        expected = {name: D(0) for name in ACCOUNTS}
        done: list[tuple[Any, str, str, Decimal]] = []  # (posting, from, to, amount)
        seen_keys: dict[str, tuple[str, str, Decimal]] = {}
        reversed_with: dict[int, str] = {}  # posting id → the key that reversed it
        reversal_keys: set[str] = set()
        for op in ops:
            if op[0] == "transfer":
                _kind, src, dst, amount, key_no = op
                key = f"k{key_no}"
                if src == dst:
                    continue
                try:
                    posting = await ledger.transfer(s, key, accts[src], accts[dst], amount)
                except ledger.InsufficientBalance:
                    assert key not in seen_keys and expected[src] < amount
                    continue
                except Conflict:
                    assert key in seen_keys and seen_keys[key] != (src, dst, amount)
                    continue
                if key in seen_keys:  # a repeat: nothing changed
                    assert seen_keys[key] == (src, dst, amount)
                    continue
                assert src == "issued" or expected[src] >= amount
                seen_keys[key] = (src, dst, amount)
                expected[src] -= amount
                expected[dst] += amount
                done.append((posting, src, dst, amount))
            else:
                _kind, index, key_no = op
                if not done:
                    continue
                posting, src, dst, amount = done[index % len(done)]
                key = f"r{key_no}"
                try:
                    reversal = await ledger.reverse(s, posting.id, key, "hypothesis")
                except ledger.InsufficientBalance:
                    assert posting.id not in reversed_with and expected[dst] < amount
                    continue
                except Conflict:  # reversed before under another key, or this key reversed another posting
                    assert reversed_with.get(posting.id, key) != key or key in reversal_keys
                    continue
                if posting.id in reversed_with:  # asked again with its key: nothing changes
                    assert reversed_with[posting.id] == key and reversal.reverses_id == posting.id
                    continue
                assert key not in reversal_keys
                reversed_with[posting.id] = key
                reversal_keys.add(key)
                expected[src] += amount
                expected[dst] -= amount
        for name, acct in accts.items():
            assert await ledger.balance(s, acct) == expected[name]
            assert name == "issued" or expected[name] >= 0
        result = await ledger.check(s)
        assert result.problems == [] and result.total == 0
        await s.rollback()


# ---- concurrency: two app processes spending one account ------------------------------------


@pytest.mark.skipif(not PG_URL, reason="concurrent writers need PostgreSQL")
async def test_concurrent_spends_from_two_engines_never_overdraw(world: Any, app: Any) -> None:
    async with world.transaction() as s:
        issued, ann, store = await _books(s)
        await ledger.transfer(s, "earn", issued, ann, 10)
        ann_id, store_id = ann.id, store.id
    engines = [Database(app.state.settings.database_url), Database(app.state.settings.database_url)]
    outcomes: list[str] = []

    async def spend(n: int) -> None:
        db = engines[n % 2]
        try:
            async with db.transaction(world.tenant.id) as s:
                await ledger.transfer(s, f"spend:{n}", ann_id, store_id, 3)
                await asyncio.sleep(0.01)  # hold the row while the others queue on it
            outcomes.append("ok")
        except ledger.InsufficientBalance:
            outcomes.append("refused")

    try:
        await asyncio.gather(*(spend(n) for n in range(8)))
        # the same key from both engines at once: one posting
        same = [engines[0], engines[1]]

        async def once(db: Database) -> int:
            async with db.transaction(world.tenant.id) as s:
                return (await ledger.transfer(s, "spend:same", ann_id, store_id, 1)).id

        ids = await asyncio.gather(*(once(db) for db in same))
    finally:
        for db in engines:
            await db.dispose()
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 5
    assert ids[0] == ids[1]
    async with world.session() as s:
        assert await ledger.balance(s, ann_id) == D(0)
        assert await ledger.balance(s, store_id) == D(10)
        assert (await ledger.check(s)).problems == []
