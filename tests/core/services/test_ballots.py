"""Ballots on the database: the owners' electorate from the register (owner of three units,
developer, co-owners), one ballot per elector (also racing), paper and proxy votes, changing a
vote only where allowed, secret ballots that keep no voter→choice link, reproducible tallies."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.db.engine import Database
from core.grids import people
from core.grids.basedata import Resident
from core.services import ballots, events
from core.services._common import now
from core.services.accounts.models import ResidentAccount
from core.services.ballots.models import BallotCast, BallotChoice
from core.services.errors import Conflict, InvalidInput, NotFound
from core.services.files.models import StoredFile
from tests.conftest import PG_URL
from tests.core.services.conftest import add_node, add_user


def window(hours: int = 2) -> dict[str, Any]:
    return {"opens_at": now() - timedelta(minutes=5), "closes_at": now() + timedelta(hours=hours)}


async def _owner(s: Any, estate: Any, code: str, area: str, owners: list[Any]) -> None:
    node = await add_node(s, estate, code, "household", code)
    hh = await people.ensure_household(s, node)
    hh.floor_area = Decimal(area)
    for owner in owners:
        s.add(people.Ownership(household_id=hh.id, owner_id=owner.id))
    await s.flush()


async def _person(s: Any, name: str, user: Any | None) -> Any:
    resident = Resident(name=name)
    s.add(resident)
    await s.flush()
    if user is not None:
        s.add(
            ResidentAccount(
                user_id=user.id,
                phone_enc=b"x",
                phone_hash=f"h-{name}",
                phone_masked="138****0000",
                resident_id=resident.id,
            )
        )
    return await people.owner_for(s, "person", name, resident=resident)


@pytest.fixture
async def estate(world: Any) -> Any:
    """安顺乐居: 张 owns three units (300 m²), the developer two unsold (150 m²), 李 and 王 co-own one
    (120 m²), 赵 one (100 m²): four owners by headcount, 670 m²."""
    async with world.transaction("staff") as s:
        estate = await add_node(s, world.community, "asly", "estate", "安顺乐居")
        wang_user = await add_user(s, "wang")
        zhang = await _person(s, "张", world.users["ann"])
        li = await _person(s, "李", world.users["bob"])
        wang = await _person(s, "王", wang_user)
        zhao = await _person(s, "赵", world.users["cat"])
        dev = await people.owner_for(s, "developer", "承德某房地产开发有限公司")
        for code, area in (("1-101", "90"), ("1-102", "110"), ("1-201", "100")):
            await _owner(s, estate, code, area, [zhang])
        await _owner(s, estate, "2-101", "80", [dev])
        await _owner(s, estate, "2-102", "70", [dev])
        await _owner(s, estate, "3-101", "120", [li, wang])
        await _owner(s, estate, "3-102", "100", [zhao])
        world.users["wang"] = wang_user
    world.estate = estate
    return estate


async def _owners_ballot(world: Any, item: int, **kw: Any) -> Any:
    async with world.transaction("staff") as s:
        ballot = await ballots.create(
            s,
            title="关于使用维修资金更换电梯的表决",
            node=world.estate,
            rule="owners_278",
            rule_params={"item": item},
            source="test",
            **window(),
            **kw,
        )
        await ballots.add_electors(s, ballot, await ballots.electorate.owners(s, world.estate.path))
        await ballots.open_ballot(s, ballot)
        return ballot


async def test_the_owners_electorate_follows_the_register(world: Any, estate: Any) -> None:
    async with world.session() as s:
        electors = {e.label: e for e in await ballots.electorate.owners(s, estate.path)}
    assert set(electors) == {"张", "承德某房地产开发有限公司", "李、王", "赵"}
    assert electors["张"].weight == 300_00 and electors["张"].heads == 1  # three units, counted once
    assert electors["承德某房地产开发有限公司"].weight == 150_00  # unsold units: one owner
    assert electors["李、王"].weight == 120_00 and len(electors["李、王"].members) == 2  # one vote, either may cast
    assert electors["承德某房地产开发有限公司"].members == ()  # staff enter its paper vote


async def test_an_owners_vote_counts_area_and_owners_and_passes_at_the_edges(world: Any, estate: Any) -> None:
    ballot = await _owners_ballot(world, item=1)
    async with world.transaction() as s:
        yes, no, _abstain = [o.id for o in await ballots.options_of(s, ballot.id)]
        await ballots.cast(s, ballot.id, world.users["ann"].id, [yes])  # 张: 300 m²
        await ballots.cast(s, ballot.id, world.users["bob"].id, [yes])  # 李 for 李、王: 120 m²
        with pytest.raises(Conflict, match="already been cast"):
            await ballots.cast(s, ballot.id, world.users["wang"].id, [no])  # 王: the same unit
        p = await ballots.participation(s, ballot)
        assert (p.cast_weight, p.cast_heads, p.electorate_weight, p.electorate_heads) == (420_00, 2, 670_00, 4)
        t = await ballots.tally(s, ballot)
        assert not t.outcome.valid  # 2 of 4 owners: below 2/3
        dev = next(e for e in await _electors(s, ballot) if e.key == "developer")
        await ballots.enter_paper(s, ballot.id, dev.id, [no])  # 150 m²: now 3 of 4 owners, 570 of 670 m²
        t = await ballots.tally(s, ballot)
        assert t.outcome.valid and t.outcome.passed is True  # yes: 420/570 m², 2/3 owners: more than 1/2 of both


async def test_a_special_item_fails_below_three_quarters_of_the_participating_owners(world: Any, estate: Any) -> None:
    ballot = await _owners_ballot(world, item=6)
    async with world.transaction() as s:
        yes, no, _ = [o.id for o in await ballots.options_of(s, ballot.id)]
        await ballots.cast(s, ballot.id, world.users["ann"].id, [yes])
        await ballots.cast(s, ballot.id, world.users["bob"].id, [yes])
        await ballots.cast(s, ballot.id, world.users["cat"].id, [no])
        t = await ballots.tally(s, ballot)
        # 3 of 4 owners took part (≥ 2/3) with 520 of 670 m² (≥ 2/3); yes: 420/520 m² ≥ 3/4 but 2/3 owners < 3/4
        assert t.outcome.valid and t.outcome.passed is False


async def _electors(s: Any, ballot: Any) -> list[Any]:
    from core.services.ballots.models import BallotElector

    return list((await s.execute(select(BallotElector).where(BallotElector.ballot_id == ballot.id))).scalars())


async def test_a_proxy_vote_needs_the_proxy_document_and_is_recorded_with_it(world: Any, estate: Any) -> None:
    ballot = await _owners_ballot(world, item=2)
    async with world.transaction("staff") as s:
        yes = (await ballots.options_of(s, ballot.id))[0].id
        zhao = next(e for e in await _electors(s, ballot) if e.label == "赵")
        with pytest.raises(InvalidInput, match="proxy document"):
            await ballots.enter_paper(s, ballot.id, zhao.id, [yes], proxy_name="赵小明")
        with pytest.raises(NotFound):
            await ballots.enter_paper(s, ballot.id, zhao.id, [yes], proxy_name="赵小明", proxy_document_id=1)
        doc = StoredFile(
            owner_type="ballots.proxy",
            filename="授权委托书.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            storage_key="k",
        )
        s.add(doc)
        await s.flush()
        cast = await ballots.enter_paper(s, ballot.id, zhao.id, [yes], proxy_name="赵小明", proxy_document_id=doc.id)
        assert (cast.channel, cast.proxy_name, cast.proxy_document_id) == ("proxy", "赵小明", doc.id)
        assert cast.cast_by == world.users["staff"].id
        audit = (await s.execute(select(AuditEntry.changes).where(AuditEntry.action == "ballot.cast"))).scalars().one()
        assert audit["proxy"] == "赵小明" and audit["options"] == [yes]


async def test_voting_outside_the_period_or_on_a_draft_is_refused(world: Any) -> None:
    async with world.transaction("staff") as s:
        ballot = await ballots.create(
            s,
            title="居民公约修订",
            node=world.community,
            rule="simple_majority",
            opens_at=now() + timedelta(days=1),
            closes_at=now() + timedelta(days=2),
        )
        await ballots.add_electors(s, ballot, ballots.electorate.users([world.users["ann"].id]))
        yes = (await ballots.options_of(s, ballot.id))[0].id
        with pytest.raises(Conflict, match="not open"):
            await ballots.cast(s, ballot.id, world.users["ann"].id, [yes])
        await ballots.open_ballot(s, ballot)
        with pytest.raises(Conflict, match="Voting opens at"):
            await ballots.cast(s, ballot.id, world.users["ann"].id, [yes])
        with pytest.raises(Conflict, match="Voting closed at"):
            await ballots.cast(s, ballot.id, world.users["ann"].id, [yes], at=now() + timedelta(days=2))
        with pytest.raises(Conflict, match="not in the electorate"):
            await ballots.cast(s, ballot.id, world.users["bob"].id, [yes], at=now() + timedelta(days=1, hours=1))
        with pytest.raises(Conflict, match="fixed"):
            await ballots.add_electors(s, ballot, ballots.electorate.users([world.users["bob"].id]))


async def test_a_vote_changes_until_close_only_when_the_ballot_allows_it(world: Any, app: Any) -> None:
    async with world.transaction("ann") as s:
        for changeable in (False, True):
            ballot = await ballots.create(
                s,
                title=f"changeable={changeable}",
                node=world.community,
                rule="simple_majority",
                changeable=changeable,
                **window(),
            )
            await ballots.add_electors(s, ballot, ballots.electorate.users([world.users["ann"].id]))
            await ballots.open_ballot(s, ballot)
            yes, no, _ = [o.id for o in await ballots.options_of(s, ballot.id)]
            await ballots.cast(s, ballot.id, world.users["ann"].id, [yes])
            if not changeable:
                with pytest.raises(Conflict, match="cannot be changed"):
                    await ballots.cast(s, ballot.id, world.users["ann"].id, [no])
            else:
                await ballots.cast(s, ballot.id, world.users["ann"].id, [no])
                assert (await ballots.my_vote(s, ballot, world.users["ann"].id))[1] == [no]
                t = await ballots.close(s, ballot, early="测试")
                assert [o.heads for o in t.counts.options] == [0, 1, 0]


async def test_a_secret_ballot_keeps_no_link_from_voter_to_choice(world: Any, app: Any) -> None:
    vault = app.state.vault
    async with world.transaction("staff") as s:
        ballot = await ballots.create(
            s,
            title="最美志愿者评选",
            node=world.community,
            rule="plurality",
            kind="election",
            options=["甲", "乙", "丙"],
            secret=True,
            changeable=True,
            open_electorate=True,
            source="test",
            **window(),
        )
        await ballots.open_ballot(s, ballot)
        a, b, c = [o.id for o in await ballots.options_of(s, ballot.id)]
    picks = {"ann": a, "bob": b, "cat": b, "dan": c}
    for name, option in picks.items():
        async with world.transaction(name) as s:
            await ballots.cast(s, ballot.id, world.users[name].id, [option], vault=vault)
    async with world.transaction("ann") as s:
        await ballots.cast(s, ballot.id, world.users["ann"].id, [c], vault=vault)  # changes her mind
        with pytest.raises(Conflict, match="counted when it closes"):
            await ballots.tally(s, ballot)
        assert await ballots.my_vote(s, ballot, world.users["ann"].id) != (None, [])
        assert (await ballots.my_vote(s, ballot, world.users["ann"].id))[1] == []  # not even to herself
    async with world.session() as s:
        choices = list((await s.execute(select(BallotChoice).where(BallotChoice.ballot_id == ballot.id))).scalars())
        assert len(choices) == 4 and all(ch.cast_id is None for ch in choices)
        casts = list((await s.execute(select(BallotCast).where(BallotCast.ballot_id == ballot.id))).scalars())
        assert len(casts) == 4  # who voted is known ...
        # ... but no column, id order or audit entry ties a cast to its choice
        assert not any(hasattr(ch, "cast_at") or hasattr(ch, "created_at") for ch in choices)
        logged = (await s.execute(select(AuditEntry.changes).where(AuditEntry.object_id == str(ballot.id)))).scalars()
        assert all("options" not in entry for entry in logged)
        assert not (await s.execute(select(AuditEntry).where(AuditEntry.object_type == "ballot_choices"))).first()
    async with world.transaction("staff") as s:
        ballot = await ballots.get(s, ballot.id)
        t = await ballots.close(s, ballot, early="测试结束")
        assert {o.option_id: o.heads for o in t.counts.options} == {a: 0, b: 2, c: 2}
        assert t.outcome.elected == () and set(t.outcome.tied) == {b, c}
        assert await ballots.verify(s, ballot)
    async with world.session() as s:  # recounted later, from the result as the database gives it back
        assert await ballots.verify(s, await ballots.get(s, ballot.id))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(votes=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2)), max_size=30))
async def test_a_closed_tally_is_reproduced_from_the_stored_ballots(world: Any, votes: list[tuple[int, int]]) -> None:
    async with world.session() as s:
        voters = [await add_user(s, f"v{i}-{id(votes)}") for i in range(10)]
        ballot = await ballots.create(
            s, title="议题", node=world.community, rule="simple_majority", changeable=True, **window()
        )
        await ballots.add_electors(s, ballot, ballots.electorate.users([v.id for v in voters]))
        await ballots.open_ballot(s, ballot)
        options = [o.id for o in await ballots.options_of(s, ballot.id)]
        final: dict[int, int] = {}
        for voter, choice in votes:
            await ballots.cast(s, ballot.id, voters[voter].id, [options[choice]])
            final[voter] = choice
        t = await ballots.close(s, ballot, early="hypothesis")
        expected = [sum(1 for c in final.values() if c == i) for i in range(3)]
        assert [o.heads for o in t.counts.options] == expected
        assert t.counts.cast_heads == len(final) and t.counts.electorate_heads == 10
        assert t.outcome.passed == (expected[0] * 2 > len(final))
        assert await ballots.verify(s, ballot)
        again = await ballots.tally(s, ballot)
        assert again.as_json() == ballot.result
        await s.rollback()


@pytest.mark.skipif(not PG_URL, reason="concurrent writers need PostgreSQL")
async def test_co_owners_voting_at_the_same_moment_cast_one_ballot(world: Any, estate: Any, app: Any) -> None:
    ballot = await _owners_ballot(world, item=4)
    async with world.session() as s:
        yes, no, _ = [o.id for o in await ballots.options_of(s, ballot.id)]
    engines = [Database(app.state.settings.database_url), Database(app.state.settings.database_url)]
    results: list[str] = []

    async def vote(db: Database, user: str, option: int) -> None:
        try:
            async with db.transaction(world.tenant.id) as s:
                await ballots.cast(s, ballot.id, world.users[user].id, [option])
                await asyncio.sleep(0.05)
            results.append(user)
        except Conflict:
            results.append("refused")

    try:
        for _round in range(3):  # the same pair racing again changes nothing either
            await asyncio.gather(vote(engines[0], "bob", yes), vote(engines[1], "wang", no))
    finally:
        for db in engines:
            await db.dispose()
    assert results.count("refused") == 5
    async with world.session() as s:
        casts = (await s.execute(select(BallotCast).where(BallotCast.ballot_id == ballot.id))).scalars().all()
        assert len(casts) == 1 and casts[0].weight == 120_00


async def test_events_announce_opening_casting_and_closing(world: Any) -> None:
    async with world.transaction("staff") as s:
        ballot = await ballots.create(s, title="t", node=world.community, rule="simple_majority", **window())
        await ballots.add_electors(s, ballot, ballots.electorate.users([world.users["ann"].id]))
        await ballots.open_ballot(s, ballot)
        await ballots.cast(s, ballot.id, world.users["ann"].id, [(await ballots.options_of(s, ballot.id))[0].id])
        await ballots.close(s, ballot, early="测试")
        assert [e.name for e in events.pending(s)] == ["ballot.opened", "ballot.cast", "ballot.closed"]


async def test_a_closed_tally_is_verified_when_read_back_from_the_database(world: Any) -> None:
    """The stored result comes back from its JSON column (lists, not tuples): a recount in a new
    session still matches it."""
    async with world.transaction("staff") as s:
        ballot = await ballots.create(s, title="议题", node=world.community, rule="simple_majority", **window())
        await ballots.add_electors(s, ballot, ballots.electorate.users([world.users["ann"].id, world.users["bob"].id]))
        await ballots.open_ballot(s, ballot)
        yes = (await ballots.options_of(s, ballot.id))[0].id
        await ballots.cast(s, ballot.id, world.users["ann"].id, [yes])
        await ballots.close(s, ballot, early="测试")
    async with world.session() as s:
        assert await ballots.verify(s, await ballots.get(s, ballot.id))
