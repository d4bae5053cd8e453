"""The SLA clock follows the rules, at its edges (an injected clock: exactly at the limit is in time,
one minute over is late): handling time starts at 派遣 and runs across 签收 and 处置 with the
category's limits for the event's urgency (each urgency its own); the stages before 派遣 have their
own limits and a late one is charged to whoever did it; a breach adds the level above as supervisor
(督办, recorded) and never erases the unit handling the case."""

from __future__ import annotations

from datetime import datetime, timedelta

from plugins.smart_service import sla
from tests.plugins.smart_service import test_services
from tests.plugins.smart_service.test_services import SH, WEDNESDAY_9, District

district = test_services.district  # the services tests' district, as a fixture of this module
MINUTE = timedelta(minutes=1)
# SR-01's limits (test_services.LIMITS): sign 1 h + handle 8 h = 9 working hours from 派遣 at
# Wednesday 09:00 → 09:00–12:00 and 13:30–17:30 (7 h), then Thursday 08:30 + 2 h = 10:30.
THURSDAY_1030 = datetime(2026, 11, 26, 10, 30, tzinfo=SH)


async def _dispatched(d: District) -> int:
    event = await d.report()
    for action in ("accept", "register", "dispatch"):
        await d.act(event.id, action, "community")
    return event.id


async def _handled_at(d: District, when: datetime) -> dict:
    event_id = await _dispatched(d)
    await d.act(event_id, "sign", "community", now=WEDNESDAY_9 + timedelta(hours=2))
    await d.act(event_id, "handle", "community", now=WEDNESDAY_9 + timedelta(hours=5))
    await d.act(event_id, "feedback", "community", photos=[d.photos[0]], now=when)
    lines = await d.timeline(event_id)
    return next(line.data for line in lines if line.action == "feedback")


async def test_handling_time_starts_at_dispatch_and_runs_across_signing_for_and_handling(district: District) -> None:
    d = district
    event_id = await _dispatched(d)
    event = await d.get(event_id)
    assert event.stage == "handle" and event.dispatched_at == WEDNESDAY_9
    assert event.due_at == event.handle_due_at == THURSDAY_1030
    # The case's deadline: handling, then inspection (2 h: 10:30–12:00 and 13:30–14:00) → Thursday 14:00.
    assert event.close_due_at == datetime(2026, 11, 26, 14, 0, tzinfo=SH)
    await d.act(event_id, "sign", "community", now=WEDNESDAY_9 + timedelta(hours=2))
    await d.act(event_id, "handle", "community", now=WEDNESDAY_9 + timedelta(hours=5))
    event = await d.get(event_id)
    assert event.due_at == THURSDAY_1030  # 签收 and 处置 run on the same clock


async def test_handled_exactly_at_the_limit_is_in_time(district: District) -> None:
    data = await _handled_at(district, THURSDAY_1030)
    assert data["stage"] == "handle" and "overdue" not in data


async def test_handled_one_minute_over_is_late_and_charged_to_the_handling_unit(district: District) -> None:
    d = district
    data = await _handled_at(d, THURSDAY_1030 + MINUTE)
    assert data["overdue"] is True and data["stage"] == "handle"
    assert data["charged_unit_id"] == d.units["sa"]


async def test_a_late_acceptance_is_the_accepters_not_the_handling_units(district: District) -> None:
    d = district
    on_time = await d.report()  # 受理 within 1 working hour: Wednesday 10:00
    await d.act(on_time.id, "accept", "community", now=WEDNESDAY_9 + timedelta(hours=1))
    late = await d.report()
    await d.act(late.id, "accept", "community", now=WEDNESDAY_9 + timedelta(hours=1) + MINUTE)
    first = next(x.data for x in await d.timeline(on_time.id) if x.action == "accept")
    second = next(x.data for x in await d.timeline(late.id) if x.action == "accept")
    assert first["stage"] == "accept" and "overdue" not in first
    assert second["overdue"] is True and second["stage"] == "accept"
    assert second["charged_user_id"] == d.users["community"].id and second["charged_unit_id"] is None
    # The stage after it has its own limit (立案/派遣: 2 working hours from 受理 at 10:01 → 13:31).
    event = await d.get(late.id)
    assert event.stage == "dispatch"
    assert event.due_at == datetime(2026, 11, 25, 13, 31, tzinfo=SH)


def test_each_urgency_has_its_own_limits() -> None:
    normal, urgent, critical = {"sign": 1, "handle": 8}, {"sign": 0.5, "handle": 4}, {"handle": 1}
    assert sla.limit_hours("handle", 1, normal, urgent, critical) == 9
    assert sla.limit_hours("handle", 2, normal, urgent, critical) == 4.5
    assert sla.limit_hours("handle", 3, normal, urgent, critical) == 1.5  # its own handle, urgent's sign
    assert sla.limit_hours("handle", 3, normal, {}, {}) == 9  # nothing stricter set: the normal limits
    assert sla.limit_hours("handle", 2, normal, urgent, critical, from_dispatch=False) == 4  # 返工: handle only
    assert sla.stage_hours("accept", 3, {"accept": 2}, {"accept": 1}, {"accept": 0.25}) == 0.25
    assert sla.stage_hours("inspect", 1) == sla.DEFAULT_LIMITS["inspect"]


async def test_an_urgent_event_gets_its_urgencys_handling_limit(district: District) -> None:
    d = district
    event = await d.report(urgency=2)  # SR-01 urgent: handle 2 h (+ sign 1 h, the normal one)
    for action in ("accept", "register", "dispatch"):
        await d.act(event.id, action, "community")
    assert (await d.get(event.id)).due_at == WEDNESDAY_9 + timedelta(hours=3)


async def test_escalation_waits_until_the_deadline_has_passed_and_keeps_the_handling_unit(district: District) -> None:
    d = district
    event_id = await _dispatched(d)
    async with d.tx() as s:
        from plugins.smart_service import services as sv

        assert await sv.escalate_breached(s, THURSDAY_1030) == []  # exactly at the limit: in time
        assert await sv.escalate_breached(s, THURSDAY_1030 + MINUTE) == [event_id]
    event = await d.get(event_id)
    assert (event.handling_unit_id, event.level) == (d.units["sa"], 3)  # still the community's case
    assert (event.supervisor_unit_id, event.supervisor_level) == (d.units["ybs"], 2)
    assert event.supervised and event.supervision_count == 1
    record = next(x for x in await d.timeline(event_id) if x.action == "escalate")
    assert record.data["unit_id"] == d.units["sa"] and record.data["supervisor_unit_id"] == d.units["ybs"]
    assert record.data["stage"] == "handle" and record.data["charged_unit_id"] == d.units["sa"]
