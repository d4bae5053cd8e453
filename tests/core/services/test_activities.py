"""Activities as staff and participants notice them: sign-up within capacity and window (also
racing from two app processes), eligibility, QR codes that are signed and expire, hours from the
clock, audited corrections, the attendance sheet and served time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.crypto import Vault
from core.db.engine import Database
from core.rbac.models import RoleAssignment
from core.services import activities, events
from core.services._common import now
from core.services.errors import Conflict, InvalidInput
from tests.conftest import PG_URL


async def _activity(world: Any, **kw: Any) -> Any:
    start = now() + timedelta(minutes=30)
    fields = {
        "title": "双安社区环境清扫",
        "node": world.community,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "place": "双安社区广场",
        "source": "test",
        "category": "环境",
    }
    fields.update(kw)
    async with world.transaction("staff") as s:
        return await activities.publish(s, **fields)


async def test_publishing_checks_times_capacity_and_eligibility(world: Any) -> None:
    start = now()
    async with world.transaction("staff") as s:
        base = {"title": "t", "node": world.community, "starts_at": start, "ends_at": start + timedelta(hours=1)}
        for bad, field in (
            ({"ends_at": start}, "ends_at"),
            ({"capacity": 0}, "capacity"),
            ({"title": " "}, "title"),
            ({"signup_closes_at": start + timedelta(hours=2)}, "signup_closes_at"),
        ):
            with pytest.raises(InvalidInput) as err:
                await activities.publish(s, **{**base, **bad})
            assert err.value.field == field
        with pytest.raises(InvalidInput, match="eligibility"):
            await activities.publish(s, **base, eligibility_rule="party")


async def test_the_last_place_goes_to_one_and_the_next_is_told_it_is_full(world: Any) -> None:
    act = await _activity(world, capacity=2)
    async with world.transaction() as s:
        await activities.sign_up(s, act.id, world.users["ann"].id)
        with pytest.raises(Conflict, match="already signed up"):
            await activities.sign_up(s, act.id, world.users["ann"].id)
        await activities.sign_up(s, act.id, world.users["bob"].id)
        with pytest.raises(Conflict, match="full"):
            await activities.sign_up(s, act.id, world.users["cat"].id)
        await activities.withdraw(s, act.id, world.users["bob"].id)  # a place comes free
        await activities.sign_up(s, act.id, world.users["cat"].id)
        assert (await activities.get(s, act.id)).signed_up == 2
        assert [e.name for e in events.pending(s)] == ["activity.signed_up"] * 2 + [
            "activity.withdrawn",
            "activity.signed_up",
        ]


async def test_the_sign_up_window_and_eligibility_are_enforced_but_staff_may_add_someone(world: Any) -> None:
    opens = now() + timedelta(minutes=10)
    act = await _activity(
        world, signup_opens_at=opens, signup_closes_at=opens + timedelta(minutes=10), eligibility_rule="role:volunteer"
    )
    async with world.transaction() as s:
        with pytest.raises(Conflict, match="Sign-up opens at"):
            await activities.sign_up(s, act.id, world.users["ann"].id)
        with pytest.raises(Conflict, match="Sign-up closed at"):
            await activities.sign_up(s, act.id, world.users["ann"].id, at=opens + timedelta(minutes=10))
        with pytest.raises(Conflict, match="role:volunteer only"):
            await activities.sign_up(s, act.id, world.users["ann"].id, at=opens)
        s.add(
            RoleAssignment(
                user_id=world.users["ann"].id, role_code="volunteer", node_id=world.grid.id, node_path=world.grid.path
            )
        )
        await s.flush()
        await activities.sign_up(s, act.id, world.users["ann"].id, at=opens)  # a volunteer of a grid below
        await activities.sign_up(s, act.id, world.users["bob"].id, by_staff=True)


async def test_a_participant_is_checked_in_and_out_by_qr_and_earns_the_minutes(world: Any, app: Any) -> None:
    vault = app.state.vault
    act = await _activity(world)
    start = act.starts_at
    async with world.transaction("staff") as s:
        await activities.sign_up(s, act.id, world.users["ann"].id)
        token = activities.issue_token(vault, act, world.users["ann"].id, at=start - timedelta(minutes=10))
        signup, direction = await activities.check_by_token(
            s, vault, token, activity_id=act.id, at=start - timedelta(minutes=8)
        )
        assert direction == "in" and signup.check_method == "qr"
        token = activities.issue_token(vault, act, world.users["ann"].id, at=start + timedelta(minutes=95))
        signup, direction = await activities.check_by_token(s, vault, token, at=start + timedelta(minutes=95))
        assert direction == "out"
        assert signup.minutes == 95  # counted from the start, not from the early check-in
        served = await activities.served(s, world.users["ann"].id)
        assert (served.activities, served.minutes, served.hours) == (1, 95, 1.58)
        names = [e.name for e in events.pending(s)]
        assert names[-2:] == ["activity.checked_in", "activity.attended"]
        assert events.pending(s)[-1].payload["minutes"] == 95


async def test_qr_codes_are_signed_expire_and_belong_to_one_activity_and_district(world: Any, app: Any) -> None:
    vault = app.state.vault
    act = await _activity(world)
    other = await _activity(world, title="另一个活动")
    tid = world.tenant.id
    token = activities.issue_token(vault, act, 42)
    assert activities.read_token(vault, tid, token) == (act.id, 42)
    with pytest.raises(InvalidInput, match="expired"):
        activities.read_token(vault, tid, token, at=now() + activities.QR_TTL + timedelta(seconds=1))
    forged = token.replace(".42.", ".43.")
    with pytest.raises(InvalidInput, match="not a check-in code"):
        activities.read_token(vault, tid, forged)
    with pytest.raises(InvalidInput, match="not a check-in code"):
        activities.read_token(Vault(("another-key",), "another-hash-key"), tid, token)
    with pytest.raises(InvalidInput, match="not a check-in code"):
        activities.read_token(vault, tid + 1, token)
    with pytest.raises(InvalidInput, match="not a check-in code"):
        activities.read_token(vault, tid, "hello")
    async with world.transaction("staff") as s:
        await activities.sign_up(s, act.id, world.users["bob"].id)
        with pytest.raises(InvalidInput, match="another activity"):
            code = activities.issue_token(vault, act, world.users["bob"].id)
            await activities.check_by_token(s, vault, code, activity_id=other.id)


async def test_staff_tick_a_list_correct_hours_with_an_audit_entry_and_print_the_sheet(world: Any) -> None:
    act = await _activity(world)
    start = act.starts_at
    async with world.transaction("staff") as s:
        for name in ("ann", "bob", "cat"):
            await activities.sign_up(s, act.id, world.users[name].id)
        with pytest.raises(Conflict, match="Check in before"):
            await activities.check_out(s, act.id, world.users["ann"].id, at=start)
        with pytest.raises(Conflict, match="an hour before"):
            await activities.check_in(s, act.id, world.users["ann"].id, at=start - timedelta(hours=2))
        await activities.check_in(s, act.id, world.users["ann"].id, at=start + timedelta(minutes=5))
        with pytest.raises(Conflict, match="Already checked in"):
            await activities.check_in(s, act.id, world.users["ann"].id, at=start + timedelta(minutes=6))
        await activities.check_out(s, act.id, world.users["ann"].id, at=start + timedelta(minutes=125))
        with pytest.raises(InvalidInput, match="why"):
            await activities.set_minutes(s, act.id, world.users["ann"].id, 90, "")
        await activities.set_minutes(s, act.id, world.users["ann"].id, 90, "提前离开未签退，按实际时长")
        await activities.set_minutes(s, act.id, world.users["bob"].id, 60, "纸质签到表补录")
        with pytest.raises(InvalidInput, match="24 hours"):
            await activities.set_minutes(s, act.id, world.users["bob"].id, 24 * 60 + 1, "x")
        sheet = await activities.attendance_sheet(s, act.id)
        assert (sheet.signed_up, sheet.attended, sheet.minutes) == (3, 2, 150)
        rows = {r.name: r for r in sheet.rows}
        assert rows["ann"].edited and rows["ann"].minutes == 90 and rows["cat"].minutes is None
        edits = (
            await s.execute(select(AuditEntry.changes).where(AuditEntry.action == "activity.hours_edit"))
        ).scalars()
        assert [e["minutes"] for e in edits] == [[120, 90], [None, 60]]


async def test_a_cancelled_activity_takes_no_sign_ups(world: Any) -> None:
    act = await _activity(world)
    async with world.transaction("staff") as s:
        act = await activities.get(s, act.id)
        await activities.cancel(s, act, "暴雨预警")
        with pytest.raises(Conflict, match="not open"):
            await activities.sign_up(s, act.id, world.users["ann"].id)


@pytest.mark.skipif(not PG_URL, reason="concurrent writers need PostgreSQL")
async def test_two_app_processes_racing_for_the_last_places_never_overfill(world: Any, app: Any) -> None:
    act = await _activity(world, capacity=3)
    async with world.transaction() as s:
        extra = []
        from tests.core.services.conftest import add_user

        for i in range(7):
            extra.append((await add_user(s, f"racer{i}")).id)
    users = [u.id for u in world.users.values()] + extra
    engines = [Database(app.state.settings.database_url), Database(app.state.settings.database_url)]
    got: list[str] = []

    async def try_sign_up(n: int, user_id: int) -> None:
        try:
            async with engines[n % 2].transaction(world.tenant.id) as s:
                await activities.sign_up(s, act.id, user_id)
                await asyncio.sleep(0.01)
            got.append("place")
        except Conflict as exc:
            got.append(str(exc))

    try:
        await asyncio.gather(*(try_sign_up(n, u) for n, u in enumerate(users)))
        # and one person twice at once from both processes
        await asyncio.gather(*(try_sign_up(n, users[-1]) for n in range(2)))
    finally:
        for db in engines:
            await db.dispose()
    assert got[: len(users)].count("place") == 3
    assert "place" not in got[len(users) :]
    async with world.session() as s:
        assert (await activities.get(s, act.id)).signed_up == 3
        assert (await activities.attendance_sheet(s, act.id)).signed_up == 3
