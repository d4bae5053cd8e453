"""Meetings (应到 from the register, quorum of more than half, decisions by more than half of
those present), requests to call a meeting, owners' committees (备案 and 换届 edges), covenants
and matters moving through 三方联动 with their records and notices."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.grids.basedata import Resident
from core.services import notices
from core.services._common import now
from core.services.errors import Conflict, InvalidInput
from plugins.self_governance import committees, covenants, matters, meetings, petitions
from plugins.self_governance import procedures as p
from plugins.self_governance.settings import Settings, petition_reached, quorate


def test_quorum_is_more_than_half_and_a_petition_at_least_one_fifth() -> None:
    assert not quorate(50, 100, 50) and quorate(51, 100, 50)
    assert petition_reached(20, 100, 20) and not petition_reached(19, 100, 20)
    assert petition_reached(1, 5, 20) and not petition_reached(0, 5, 20)


async def _meeting(world: Any, estate: Any, basis: str = "adults") -> Any:
    async with world.transaction("staff") as s:
        return await meetings.schedule(
            s,
            kind="residents_meeting",
            node=estate,
            title="安顺乐居居民会议",
            starts_at=now() + timedelta(days=3),
            place="社区党群服务中心",
            basis=basis,
        )


async def test_who_should_attend_comes_from_the_register(world: Any, estate: Any) -> None:
    adults = await _meeting(world, estate)
    households = await _meeting(world, estate, "households")
    async with world.session() as s:
        names = {a.name for a in await meetings.attendees(s, adults.id)}
        heads = {a.name for a in await meetings.attendees(s, households.id)}
    assert names == {"张", "李", "赵"}  # 张小 is ten; 王 owns here but lives elsewhere
    assert heads == {"张", "李", "赵"}  # one representative per household


async def test_a_motion_needs_a_quorum_then_more_than_half_of_those_present(world: Any, estate: Any) -> None:
    m = await _meeting(world, estate, "households")  # 3 should attend
    async with world.session() as s:
        people = {a.name: a.resident_id for a in await meetings.attendees(s, m.id)}
    rules = Settings()
    async with world.transaction("staff") as s:
        m = await meetings.get(s, m.id)
        await meetings.mark(s, m, people["张"], True)
        one = await meetings.motion(s, m, rules, title="加装电动车充电桩", yes=1, no=0, abstain=0)
    assert not one.valid and not one.passed  # 1 of 3: no quorum
    async with world.transaction("staff") as s:
        m = await meetings.get(s, m.id)
        await meetings.mark(s, m, people["李"], True)
        att = await meetings.attendance(s, m, rules)
        assert (att.expected, att.present, att.quorate) == (3, 2, True)
        split = await meetings.motion(s, m, rules, title="调整停车收费", yes=1, no=1, abstain=0)
        carried = await meetings.motion(s, m, rules, title="加装电动车充电桩", yes=2, no=0, abstain=0)
        with pytest.raises(InvalidInput, match="only 2 people are present"):
            await meetings.motion(s, m, rules, title="x", yes=2, no=1, abstain=0)
    assert split.valid and not split.passed  # exactly half of those present: not carried
    assert carried.valid and carried.passed
    async with world.transaction("staff") as s:
        m = await meetings.get(s, m.id)
        await meetings.conclude(s, m, rules, "会议由社区书记主持……")
        board = await notices.board(s, estate)
    assert any("决议公开" in n.title and "实到 2 人" in n.body for n in board)
    async with world.transaction("staff") as s:
        with pytest.raises(Conflict, match="over"):
            await meetings.mark(s, await meetings.get(s, m.id), people["赵"], True)


async def test_a_tenant_may_set_a_higher_quorum(world: Any, estate: Any) -> None:
    m = await _meeting(world, estate, "households")
    async with world.transaction("staff") as s:
        m = await meetings.get(s, m.id)
        await meetings.mark_all(s, m, {a.resident_id for a in (await meetings.attendees(s, m.id))[:2]})
        assert (await meetings.attendance(s, m, Settings(meeting_quorum_percent=66))).quorate  # 2/3 > 66%
        assert not (await meetings.attendance(s, m, Settings(meeting_quorum_percent=67))).quorate


async def test_a_fifth_of_the_owners_can_request_an_extraordinary_assembly(world: Any, estate: Any) -> None:
    async with world.transaction("staff") as s:
        pet = await petitions.start(s, kind="owners_assembly", node=estate, title="更换物业公司")
    async with world.transaction("ann") as s:
        await petitions.sign(s, pet, estate, world.users["ann"].id)
    async with world.transaction("ann") as s:
        with pytest.raises(Conflict, match="already signed"):
            await petitions.sign(s, pet, estate, world.users["ann"].id)
    async with world.transaction("dan") as s:
        with pytest.raises(Conflict, match="owners"):
            await petitions.sign(s, pet, estate, world.users["dan"].id)
    async with world.session() as s:
        c = await petitions.count(s, pet, estate, Settings())
    assert (c.signatures, c.base, c.reached) == (1, 4, True)  # 1 of 4 owners is 25% ≥ 20%
    async with world.session() as s:
        assert not (await petitions.count(s, pet, estate, Settings(extraordinary_share_percent=30))).reached


async def test_a_committee_is_due_for_renewal_six_months_before_its_term_ends(world: Any, estate: Any) -> None:
    async with world.transaction("staff") as s:
        c = await committees.form(
            s,
            node=estate,
            name="安顺乐居第二届业主委员会",
            elected_on=date(2022, 6, 20),
            term_start=date(2022, 7, 1),
            term_end=date(2027, 6, 30),
        )
        for name, post, party in (
            ("刘建国", "chair", True),
            ("陈秀英", "vice_chair", True),
            ("周海涛", "member", False),
        ):
            await committees.add_member(s, c, name=name, post=post, party_member=party)
        with pytest.raises(Conflict, match="chair"):
            await committees.add_member(s, c, name="某某", post="chair")
        people = await committees.members(s, c.id)
    rules = Settings()
    assert not committees.standing(c, people, rules, date(2026, 12, 29)).renewal_due
    assert committees.standing(c, people, rules, date(2026, 12, 30)).renewal_due  # exactly six months before
    on_time = committees.standing(c, people, rules, date(2022, 7, 20))
    late = committees.standing(c, people, rules, date(2022, 7, 21))
    assert on_time.filing_due == date(2022, 7, 20) and not on_time.filing_overdue and late.filing_overdue
    s0 = committees.standing(c, people, rules, date(2026, 1, 1))
    assert s0.party_share == "67%" and not s0.red  # not yet vetted by the party organisation
    async with world.transaction("staff") as s:
        for m in await committees.members(s, c.id):
            await committees.vet(s, m, True)
        with pytest.raises(InvalidInput, match="reasons"):
            await committees.vet(s, m, False)
        people = await committees.members(s, c.id)
        due = await committees.due_for_renewal(s, [estate.path], rules, date(2026, 12, 30))
    assert committees.standing(c, people, rules, date(2026, 1, 1)).red
    assert [d.id for d in due] == [c.id]


async def test_covenant_versions_name_what_adopted_them(world: Any, estate: Any) -> None:
    m = await _meeting(world, estate, "households")
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput, match="not been held"):
            await covenants.file(
                s,
                node=estate,
                kind="residents",
                title="居民公约",
                body="……",
                adopted_on=date(2026, 1, 5),
                meeting_id=m.id,
            )
        m = await meetings.get(s, m.id)
        await meetings.mark_all(s, m, {a.resident_id for a in await meetings.attendees(s, m.id)})
        await meetings.conclude(s, m, Settings(), "通过居民公约修订稿")
        v1 = await covenants.file(
            s,
            node=estate,
            kind="residents",
            title="居民公约",
            body="一、……",
            adopted_on=date(2026, 1, 5),
            meeting_id=m.id,
        )
        v2 = await covenants.file(
            s,
            node=estate,
            kind="residents",
            title="居民公约（修订）",
            body="一、……",
            adopted_on=date(2026, 2, 5),
            meeting_id=m.id,
        )
    assert (v1.version, v2.version) == (1, 2)


async def test_a_matter_moves_through_three_parties_with_records_and_a_published_result(
    world: Any, estate: Any
) -> None:
    async with world.transaction("ann") as s:
        matter = await matters.raise_matter(
            s, title="3号楼加装电梯", description="老人上下楼困难", node=estate, source="resident"
        )
    async with world.transaction("staff") as s:
        matter = await matters.get(s, matter.id)
        with pytest.raises(Conflict, match="reasons"):
            await matters.act(s, matter, p.SEND_BACK, node=estate)
        await matters.act(s, matter, p.SEND_BACK, node=estate, note="请先征求3号楼全体业主意见")
    async with world.transaction("ann") as s:
        matter = await matters.get(s, matter.id)
        await matters.act(s, matter, p.RESUBMIT, node=estate, note="已征求意见，附签名")
    async with world.transaction("staff") as s:
        matter = await matters.get(s, matter.id)
        await matters.act(s, matter, p.ADVANCE, node=estate, note="党委同意牵头")
        await matters.act(s, matter, p.ADVANCE, node=estate, note="召开议事会，决定申请维修资金")
        await matters.act(s, matter, p.PROGRESS, node=estate, note="已签订施工合同", progress=30)
        await matters.act(s, matter, p.ADVANCE, node=estate, note="电梯已安装验收")
        await matters.act(s, matter, p.ADVANCE, node=estate, note="3号楼电梯已投入使用，费用公示如下……")
        history = await matters.history(s, matter.id)
        board = await notices.board(s, estate)
    assert matter.status == p.DONE and matter.progress == 100
    assert [r.action for r in history] == [
        "raise",
        "send_back",
        "resubmit",
        "advance",
        "advance",
        "progress",
        "advance",
        "advance",
    ]
    assert [r.by_user_id for r in history][:2] == [world.users["ann"].id, world.users["staff"].id]
    assert any(n.title == "3号楼加装电梯（结果公开）" for n in board)


async def test_meeting_list_excludes_children(world: Any, estate: Any) -> None:
    async with world.session() as s:
        child = (await s.execute(select(Resident).where(Resident.name == "张小"))).scalar_one()
    m = await _meeting(world, estate)
    async with world.session() as s:
        assert child.id not in {a.resident_id for a in await meetings.attendees(s, m.id)}
