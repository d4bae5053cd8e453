"""Consent (个人信息保护法) and public notices: nothing personal is published without a current
consent, withdrawal takes it down at once, objections are taken only during the period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit.models import AuditEntry
from core.services import consent, events, notices
from core.services._common import now
from core.services.consent.models import ConsentRecord
from core.services.errors import Conflict, InvalidInput

PURPOSE = "test.publish_profile"
SCOPE = "同意在社区公开栏公示我的姓名、照片和事迹，期限一年"


async def test_consent_is_given_withdrawn_and_kept_as_history(world: Any) -> None:
    ann = ("user", world.users["ann"].id)
    async with world.transaction("ann") as s:
        assert await consent.current(s, ann, PURPOSE) is None
        first = await consent.give(s, ann, PURPOSE, SCOPE, channel="online")
        assert await consent.give(s, ann, PURPOSE, SCOPE, channel="online") is first  # nothing new
        assert first.given_recorded_by == world.users["ann"].id
        await consent.withdraw(s, ann, PURPOSE, channel="online")
        with pytest.raises(Conflict, match="no consent in force"):
            await consent.withdraw(s, ann, PURPOSE, channel="online")
        again = await consent.give(s, ann, PURPOSE, SCOPE, channel="in_person")
        assert again.id != first.id
        assert [r.given_channel for r in await consent.history(s, ann)] == ["in_person", "online"]
        assert [e.name for e in events.pending(s)] == ["consent.given", "consent.withdrawn", "consent.given"]


async def test_consent_needs_a_purpose_a_scope_a_channel_and_paper_needs_the_form(world: Any) -> None:
    ann = ("user", world.users["ann"].id)
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput, match=r"scope|agreed"):
            await consent.give(s, ann, PURPOSE, " ", channel="online")
        with pytest.raises(InvalidInput, match="how the consent"):
            await consent.give(s, ann, PURPOSE, SCOPE, channel="wechat-group")
        with pytest.raises(InvalidInput, match="signed form"):
            await consent.give(s, ann, PURPOSE, SCOPE, channel="paper")
        with pytest.raises(InvalidInput, match="resident or a user"):
            await consent.give(s, ("household", 1), PURPOSE, SCOPE, channel="online")


async def test_the_database_keeps_one_current_consent_per_person_and_purpose(world: Any) -> None:
    async with world.transaction() as s:
        for _ in range(2):
            s.add(
                ConsentRecord(
                    subject_type="user",
                    subject_id=world.users["bob"].id,
                    purpose=PURPOSE,
                    scope=SCOPE,
                    given_channel="online",
                )
            )
        with pytest.raises(IntegrityError):
            await s.flush()
        await s.rollback()


async def test_an_expired_consent_is_not_current_and_can_be_given_again(world: Any) -> None:
    bob = ("user", world.users["bob"].id)
    async with world.transaction() as s:
        await consent.give(s, bob, PURPOSE, SCOPE, channel="online", expires_at=now() + timedelta(days=1))
        assert await consent.current(s, bob, PURPOSE, at=now() + timedelta(days=2)) is None
        assert await consent.consenting(s, [bob], PURPOSE, at=now() + timedelta(days=2)) == set()
        assert await consent.consenting(s, [bob, ("user", 1)], PURPOSE) == {bob}


async def test_publishing_refuses_without_consent_and_withdrawal_takes_the_notice_down(world: Any) -> None:
    ann = ("user", world.users["ann"].id)
    period = {"starts_at": now() - timedelta(hours=1), "ends_at": now() + timedelta(days=5)}
    async with world.transaction("staff") as s:
        with pytest.raises(consent.ConsentMissing):
            await notices.publish(
                s,
                title="身边的榜样候选人公示",
                body="安安：照顾孤寡老人十年",
                node=world.community,
                persons=[ann],
                consent_purpose=PURPOSE,
                **period,
            )
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.action == "consent.refused"))).scalars().all()
        assert len(refused) == 1
        await consent.give(s, ann, PURPOSE, SCOPE, channel="online")
        notice = await notices.publish(
            s,
            title="身边的榜样候选人公示",
            body="安安：照顾孤寡老人十年",
            node=world.community,
            persons=[ann],
            consent_purpose=PURPOSE,
            subject=("test.shortlist", "1"),
            source="test",
            **period,
        )
        plain = await notices.publish(s, title="2026年第三季度居务公开", body="收支明细", node=world.grid, **period)
        assert {n.id for n in await notices.board(s, world.community)} == {notice.id, plain.id}
        assert [n.id for n in await notices.board(s, world.grid)] == [
            plain.id,
            notice.id,
        ]  # the grid sees its community's
        await consent.withdraw(s, ann, PURPOSE, channel="online")
        assert [n.id for n in await notices.board(s, world.community)] == [plain.id]
        assert not await notices.is_shown(s, notice)
        assert [n.id for n in await notices.of_subject(s, ("test.shortlist", "1"))] == [notice.id]  # staff still see it


async def test_objections_are_taken_in_the_period_answered_once_and_the_notice_can_be_withdrawn(world: Any) -> None:
    start = now() - timedelta(days=1)
    async with world.transaction("staff") as s:
        notice = await notices.publish(
            s,
            title="低保申请公示",
            body="...",
            node=world.community,
            starts_at=start,
            ends_at=start + timedelta(days=7),
            source="test",
        )
        with pytest.raises(Conflict, match="while the notice is up"):
            await notices.object_to(s, notice.id, "有异议", user_id=world.users["bob"].id, at=start + timedelta(days=7))
        with pytest.raises(InvalidInput, match="who raised"):
            await notices.object_to(s, notice.id, "有异议", channel="phone")
        online = await notices.object_to(s, notice.id, "申请人家庭有车辆，不符合条件", user_id=world.users["bob"].id)
        await notices.object_to(s, notice.id, "情况属实", name="刘大爷", channel="in_person")
        assert await notices.open_objections(s, notice.id) == 2
        await notices.answer(s, online.id, "经核实，车辆为他人所有，不影响申请")
        with pytest.raises(Conflict, match="answered"):
            await notices.answer(s, online.id, "again")
        assert await notices.open_objections(s, notice.id) == 1
        assert [o.channel for o in await notices.objections(s, notice.id)] == ["online", "in_person"]
        await notices.withdraw(s, notice, "信息有误，更正后重新公示")
        assert await notices.board(s, world.community) == []
        assert events.pending(s)[-1].name == "notice.withdrawn"
