"""Volunteers on the database: registration with the tenant's number, teams, hours and star levels
through check-in and check-out, points through the shared ledger (idempotent, corrections by
reversal), and the record kept for inspection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.services import activities, events, ledger
from core.services.errors import Conflict, InvalidInput
from plugins.co_governance import rules, volunteers
from plugins.co_governance.models import ServiceRecord
from tests.co_governance.conftest import START, activity, rule, volunteer_of

D = Decimal


async def test_a_volunteer_gets_a_number_in_the_tenants_format_never_the_id_number(world: Any, app: Any) -> None:
    async with world.transaction("ann") as s:
        ann = await volunteer_of(s, app, world, "ann")
        bob = await volunteer_of(s, app, world, "bob")
        assert ann.number == "SL2026000001" or ann.number.startswith("SL20")
        assert int(bob.number[-6:]) == int(ann.number[-6:]) + 1
        assert ann.phone_masked == "139****5678" and b"13912345678" not in (ann.phone_enc or b"")
        with pytest.raises(Conflict, match="already registered"):
            await volunteer_of(s, app, world, "ann")
        with pytest.raises(InvalidInput) as bad:
            await volunteers.register(
                s,
                app.state.vault,
                name="丁",
                phone="13900000000",
                node=world.community,
                number_format="SL{seq:6}",
                skills="130821198001011234",
                user_id=world.users["dan"].id,
            )
        assert bad.value.field == "skills"
        with pytest.raises(InvalidInput) as bad:
            await volunteers.register(
                s, app.state.vault, name="丁", phone="12345", node=world.community, number_format="SL{seq:6}"
            )
        assert bad.value.field == "phone"


async def test_teams_join_once(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        team = await volunteers.create_team(s, name="双安社区助老志愿服务队", node=world.community)
        await volunteers.join_team(s, team, ann)
        with pytest.raises(Conflict):
            await volunteers.join_team(s, team, ann)
        with pytest.raises(Conflict):
            await volunteers.create_team(s, name="双安社区助老志愿服务队", node=world.community)
        assert [t.name for t in await volunteers.teams_of(s, ann.id)] == ["双安社区助老志愿服务队"]


async def test_check_in_and_out_gives_hours_points_and_a_record_with_organiser_and_recorder(
    world: Any, app: Any
) -> None:
    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        act = await activity(s, world, category="助老助残")
        await volunteers.sign_up(s, act.id, ann, at=START - timedelta(days=1))
        token = activities.issue_token(app.state.vault, act, ann.user_id, at=START)
        await activities.check_by_token(s, app.state.vault, token, activity_id=act.id, at=START)
        token = activities.issue_token(app.state.vault, act, ann.user_id, at=START + timedelta(hours=2))
        _signup, direction = await activities.check_by_token(
            s, app.state.vault, token, activity_id=act.id, at=START + timedelta(hours=2)
        )
        assert direction == "out"
        rec = await volunteers.record_attendance(s, act.id, ann.user_id, rule())
        assert rec.minutes == 120 and rec.organiser == "双安社区居委会" and rec.recorder_name == "STAFF"
        standing = await volunteers.standing(s, ann, year=2026)
        assert standing.hours == D("2.00") and standing.points == D("3.00")  # 助老助残 × 1.5
        assert standing.star == 0
        # asked again (a retried check-out event): nothing more
        await volunteers.record_attendance(s, act.id, ann.user_id, rule())
        assert await volunteers.points_balance(s, ann.id) == D("3.00")
        assert (await ledger.check(s)).problems == []


async def test_star_level_moves_at_exactly_100_hours_not_at_99_and_a_half(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        minutes_left = int(D("99.5") * 60)
        day = 0
        while minutes_left:
            act = await activity(s, world, day=day, hours=24)
            await volunteers.sign_up(s, act.id, ann, at=START - timedelta(days=1))
            chunk = min(minutes_left, 1440)
            await volunteers.record_service(s, act.id, ann, chunk, rule())
            minutes_left -= chunk
            day += 1
        assert ann.minutes_total == 5970
        assert (await volunteers.standing(s, ann)).star == 0
        act = await activity(s, world, day=day)
        await volunteers.record_service(s, act.id, ann, 30, rule())
        assert ann.minutes_total == 6000
        assert (await volunteers.standing(s, ann)).star == 1
        reached = [e for e in events.pending(s) if e.name == "co_governance.volunteer.star_reached"]
        assert [e.payload["star"] for e in reached] == [1]  # announced once, at 100 h
        assert rules.STAR_NAMES[(await volunteers.standing(s, ann)).star] == "一星"


async def test_a_correction_of_hours_reverses_the_points_never_edits_them(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        act = await activity(s, world)
        rec = await volunteers.record_service(s, act.id, ann, 180, rule())
        first = rec.posting_id
        rec = await volunteers.record_service(s, act.id, ann, 120, rule())
        assert rec.posting_id != first and rec.points == 200
        assert await volunteers.points_balance(s, ann.id) == D(2)
        assert ann.minutes_total == 120
        kinds = [
            e.kind for e in await ledger.history(s, await ledger.get_account(s, volunteers.points_account_key(ann.id)))
        ]
        assert kinds == ["earn", "reversal", "earn"]
        assert (await ledger.check(s)).problems == []
        assert await s.scalar(select(func.count(ServiceRecord.id))) == 1


async def test_yearly_cap_stops_points_but_hours_still_count(world: Any, app: Any) -> None:
    capped = rule(yearly_points_cap=5)
    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        for day in range(3):
            act = await activity(s, world, day=day)
            await volunteers.record_service(s, act.id, ann, 180, capped)
        assert await volunteers.points_balance(s, ann.id) == D(5)
        assert ann.minutes_total == 540
        # next year the cap starts again
        act = await activity(s, world, day=60)
        await volunteers.record_service(s, act.id, ann, 180, capped)
        assert await volunteers.points_balance(s, ann.id) == D(8)


async def test_lowering_hours_whose_points_were_spent_is_refused_whole(world: Any, app: Any) -> None:
    from plugins.co_governance import store

    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        act = await activity(s, world)
        await volunteers.record_service(s, act.id, ann, 240, rule())
        item = await store.add_item(s, node=world.community, name="洗衣液", price=4, stock=3)
        await store.redeem(s, item.id, ann)
        with pytest.raises(Conflict, match="already spent"):
            await volunteers.record_service(s, act.id, ann, 60, rule())
        assert ann.minutes_total == 240
        assert (await ledger.check(s)).problems == []


async def test_a_party_members_service_hours_elsewhere_count_here_once(world: Any, app: Any) -> None:
    """Another pillar's activity (party_leadership's 党员志愿服务): its attended event gives the
    registered volunteer a service record and points; hearing it twice changes nothing."""
    from core.services.events import Event
    from plugins.co_governance import plugin

    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        act = await activities.publish(
            s,
            title="党员进社区志愿服务",
            node=world.community,
            starts_at=START,
            ends_at=START + timedelta(hours=3),
            source="party_leadership",
            category="社区治理",
        )
        await activities.sign_up(s, act.id, ann.user_id, at=START - timedelta(days=1))
        await activities.set_minutes(s, act.id, ann.user_id, 150, "党员服务记录")
        ids = (ann.id, act.id, ann.user_id)
    event = Event(
        "activity.attended", {"activity_id": ids[1], "user_id": ids[2], "minutes": 150, "source": "party_leadership"}
    )
    await plugin.on_event(world.tenant.id, event, app.state)
    await plugin.on_event(world.tenant.id, event, app.state)
    async with world.session() as s:
        [rec] = await volunteers.records_of(s, ids[0])
        assert rec.minutes == 150 and rec.organiser == "party_leadership"
        assert await volunteers.points_balance(s, ids[0]) == D("2.50")
