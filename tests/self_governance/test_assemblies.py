"""业主大会 e-votes on the database: notice days at the edge, the owners' electorate from the register
(an owner of three units once, the developer's unsold units as one owner, co-owners one vote —
also when both press at once), paper and proxy votes, results per item by art. 278 published on
the estate's board and reproducible from the stored ballots, and owners' choices shown only
under open votes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.services import ballots, notices
from core.services._common import now
from core.services.errors import Conflict, InvalidInput
from core.services.files.models import StoredFile
from plugins.self_governance import assemblies
from plugins.self_governance.settings import Settings

ITEMS = [("续聘安顺物业服务有限公司", 4), ("使用维修资金更换2号楼电梯", 6)]


async def _running(world: Any, settings: Settings | None = None, items: Any = ITEMS) -> Any:
    """An assembly noticed 16 days ago, open since yesterday for a week."""
    async with world.transaction("staff") as s:
        return await assemblies.create(
            s,
            settings or Settings(),
            node=world.estate,
            title="2026年第一次业主大会",
            items=items,
            noticed_at=now() - timedelta(days=16),
            opens_at=now() - timedelta(days=1),
            closes_at=now() + timedelta(days=6),
        )


async def test_voting_opens_no_sooner_than_the_notice_days_after_the_notice(world: Any, estate: Any) -> None:
    noticed = now()
    async with world.transaction("staff") as s:
        ok = await assemblies.create(
            s,
            Settings(),
            node=estate,
            title="按期公告",
            items=ITEMS,
            noticed_at=noticed,
            opens_at=noticed + timedelta(days=15),
            closes_at=noticed + timedelta(days=22),
        )
        assert ok.status == "noticed"
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput, match="15 days"):
            await assemblies.create(
                s,
                Settings(),
                node=estate,
                title="公告不足",
                items=ITEMS,
                noticed_at=noticed,
                opens_at=noticed + timedelta(days=15) - timedelta(seconds=1),
                closes_at=noticed + timedelta(days=22),
            )
    async with world.transaction("staff") as s:  # a tenant with 7 days' notice
        await assemblies.create(
            s,
            Settings(notice_days=7),
            node=estate,
            title="七日公告",
            items=ITEMS,
            noticed_at=noticed,
            opens_at=noticed + timedelta(days=7),
            closes_at=noticed + timedelta(days=9),
        )


async def test_an_item_needs_its_article_278_category_and_the_assembly_an_estate(world: Any, estate: Any) -> None:
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput, match=r"art\. 278"):
            await assemblies.create(
                s,
                Settings(),
                node=estate,
                title="x",
                items=[("某事项", 10)],
                opens_at=now() + timedelta(days=16),
                closes_at=now() + timedelta(days=20),
            )
        with pytest.raises(InvalidInput, match="one estate"):
            await assemblies.create(
                s,
                Settings(),
                node=world.community,
                title="x",
                items=ITEMS,
                opens_at=now() + timedelta(days=16),
                closes_at=now() + timedelta(days=20),
            )


async def test_owners_vote_before_the_period_is_refused(world: Any, estate: Any) -> None:
    async with world.transaction("staff") as s:
        a = await assemblies.create(
            s,
            Settings(),
            node=estate,
            title="未开始",
            items=ITEMS,
            opens_at=now() + timedelta(days=16),
            closes_at=now() + timedelta(days=20),
        )
        first = (await assemblies.items_of(s, a.id))[0]
    async with world.transaction("ann") as s:
        with pytest.raises(Conflict, match="opens at"):
            await assemblies.vote(s, a, world.users["ann"].id, {first.id: "yes"})


async def test_the_electorate_counts_owners_as_the_civil_code_says(world: Any, estate: Any) -> None:
    a = await _running(world)
    async with world.session() as s:
        owners = {e.label: (e.weight, e.heads) for e, _voted in await assemblies.electors(s, a)}
    assert owners == {
        "张": (300_00, 1),  # three units, one owner with all their area
        "承德某房地产开发有限公司": (150_00, 1),  # unsold units: one owner
        "李、王": (120_00, 1),  # co-owners: one vote for their unit
        "赵": (100_00, 1),
    }


async def test_a_vote_passes_item_by_item_and_the_result_goes_on_the_board(world: Any, estate: Any) -> None:
    a = await _running(world)
    async with world.session() as s:
        renew, lift = await assemblies.items_of(s, a.id)
    # 张 (300) and 李/王 (120) say yes to both; 赵 (100) yes to renewal, no to the lift: 3 of 4 owners
    # with 520 of 670 m² took part (≥ 2/3 of both).
    for user, lift_choice in (("ann", "yes"), ("bob", "yes"), ("cat", "no")):
        async with world.transaction(user) as s:
            await assemblies.vote(s, a, world.users[user].id, {renew.id: "yes", lift.id: lift_choice})
    async with world.session() as s:
        live = {v.item.id: v.participation for v in await assemblies.overview(s, a)}
    assert live[renew.id].cast_weight == 520_00 and live[renew.id].cast_heads == 3
    async with world.transaction("staff") as s:
        a = await assemblies.get(s, a.id)
        tallies = await assemblies.close(s, a, early="提前完成表决")
    renew_out, lift_out = (t.outcome for t in tallies)
    assert renew_out.valid and renew_out.passed  # item 4: more than half of both
    # item 6: yes 420 of 520 m² (80.8%) but 2 of 3 owners (66.7%) — below 3/4 of the owners: fails
    assert lift_out.valid and lift_out.passed is False
    async with world.session() as s:
        a = await assemblies.get(s, a.id)
        board = await notices.board(s, estate)
        assert await assemblies.verify(s, a)
    result = next(n for n in board if n.id == a.result_notice_id)
    assert "续聘安顺物业服务有限公司（第278条第4项）：通过" in result.body
    assert "使用维修资金更换2号楼电梯（第278条第6项）：未通过" in result.body
    assert "人数 3/4" in result.body


async def test_below_two_thirds_of_the_owners_no_item_is_valid(world: Any, estate: Any) -> None:
    a = await _running(world, items=[("续聘物业", 4)])
    async with world.session() as s:
        (item,) = await assemblies.items_of(s, a.id)
    # 张 alone holds 300 of 670 m² and 1 of 4 owners; with 李/王 2 of 4 (50%) < 2/3
    for user in ("ann", "bob"):
        async with world.transaction(user) as s:
            await assemblies.vote(s, a, world.users[user].id, {item.id: "yes"})
    async with world.transaction("staff") as s:
        (t,) = await assemblies.close(s, await assemblies.get(s, a.id), early="测试")
    assert not t.outcome.valid and t.outcome.passed is False


async def test_the_developer_votes_on_paper_and_a_proxy_needs_the_signed_document(world: Any, estate: Any) -> None:
    a = await _running(world, items=[("续聘物业", 4)])
    async with world.session() as s:
        (item,) = await assemblies.items_of(s, a.id)
    async with world.transaction("staff") as s:
        await assemblies.enter_paper(s, a, "developer", {item.id: "yes"})
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput, match="proxy document"):
            await assemblies.enter_paper(
                s, a, next(iter(await _keys(s, a, "赵"))), {item.id: "no"}, proxy_name="赵小明"
            )
    async with world.transaction("staff") as s:
        doc = StoredFile(
            filename="委托书.pdf",
            content_type="application/pdf",
            size=10,
            owner_type="test",
            sha256="0" * 64,
            storage_key="proxy/zhao.pdf",
        )
        s.add(doc)
        await s.flush()
        await assemblies.enter_paper(
            s, a, next(iter(await _keys(s, a, "赵"))), {item.id: "no"}, proxy_name="赵小明", proxy_document_id=doc.id
        )
    async with world.session() as s:
        ballot = await ballots.get(s, item.ballot_id)
        p = await ballots.participation(s, ballot)
    assert (p.cast_weight, p.cast_heads) == (250_00, 2)


async def _keys(s: Any, a: Any, label: str) -> set[str]:
    return {e.key for e, _v in await assemblies.electors(s, a) if e.label == label}


async def test_co_owners_pressing_at_once_cast_one_ballot(world: Any, estate: Any) -> None:
    a = await _running(world, items=[("续聘物业", 4)])
    async with world.session() as s:
        (item,) = await assemblies.items_of(s, a.id)

    async def press(user: str) -> str:
        try:
            async with world.transaction(user) as s:
                await assemblies.vote(s, a, world.users[user].id, {item.id: "yes" if user == "bob" else "no"})
            return "ok"
        except Conflict:
            return "refused"

    outcomes = await asyncio.gather(press("bob"), press("wang"))
    assert sorted(outcomes) == ["ok", "refused"]
    async with world.session() as s:
        p = await ballots.participation(s, await ballots.get(s, item.ballot_id))
    assert (p.cast_weight, p.cast_heads, p.casts) == (120_00, 1, 1)


async def test_a_second_vote_writes_nothing_on_any_item(world: Any, estate: Any) -> None:
    a = await _running(world)
    async with world.session() as s:
        renew, lift = await assemblies.items_of(s, a.id)
    async with world.transaction("ann") as s:
        await assemblies.vote(s, a, world.users["ann"].id, {renew.id: "yes"})
    async with world.transaction("ann") as s:
        with pytest.raises(Conflict):
            await assemblies.vote(s, a, world.users["ann"].id, {lift.id: "yes", renew.id: "no"})
    async with world.session() as s:
        p = await ballots.participation(s, await ballots.get(s, lift.ballot_id))
    assert p.casts == 0


async def test_how_each_owner_voted_is_shown_only_under_open_votes(world: Any, estate: Any) -> None:
    closed_rules = await _running(world, items=[("续聘物业", 4)])
    open_rules = await _running(world, Settings(open_votes=True), items=[("续聘物业", 4)])
    for a in (closed_rules, open_rules):
        async with world.session() as s:
            (item,) = await assemblies.items_of(s, a.id)
        async with world.transaction("cat") as s:
            await assemblies.vote(s, a, world.users["cat"].id, {item.id: "no"})
    async with world.session() as s:
        with pytest.raises(Conflict, match="not open"):
            await assemblies.choices_by_owner(s, closed_rules)
        shown = await assemblies.choices_by_owner(s, open_rules)
    assert list(shown.values()) == [{item.id: "no"}]


async def test_a_stored_result_is_reproduced_and_a_changed_row_is_detected(world: Any, estate: Any) -> None:
    a = await _running(world, items=[("续聘物业", 4)])
    async with world.session() as s:
        (item,) = await assemblies.items_of(s, a.id)
    for user in ("ann", "bob", "cat"):
        async with world.transaction(user) as s:
            await assemblies.vote(s, a, world.users[user].id, {item.id: "yes"})
    async with world.transaction("staff") as s:
        await assemblies.close(s, await assemblies.get(s, a.id), early="测试")
    async with world.session() as s:
        assert await assemblies.verify(s, await assemblies.get(s, a.id))
    from core.services.ballots.models import BallotCast

    async with world.transaction("staff") as s:
        cast = (await s.execute(select(BallotCast).where(BallotCast.ballot_id == item.ballot_id))).scalars().first()
        cast.weight += 1
    async with world.session() as s:
        assert not await assemblies.verify(s, await assemblies.get(s, a.id))
