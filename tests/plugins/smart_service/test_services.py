"""Event services on the database: the closed loop, 退单, refusals, numbers, duplicates, the dispatch
catalogue, parking and extensions, merging, and SLA escalation (once, across processes, after downtime)."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.db.base import new_id
from core.db.context import Actor
from core.db.engine import Database
from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.defaults import default_rules
from core.rbac.enforcer import Assignment, Subject, TenantPolicy
from core.services.files.models import StoredFile
from core.services.jobs import JobContext
from core.tenancy.service import all_actions, set_plugin
from plugins.smart_service import services as sv
from plugins.smart_service.lifecycle import IllegalTransition, MissingInput, State
from plugins.smart_service.models import Category, DispatchRule, Event, EventTransition, HandlingUnit
from tests.plugins.smart_service.fixtures.district import TREE, grow_tree

SH = ZoneInfo("Asia/Shanghai")
WEDNESDAY_9 = datetime(2026, 11, 25, 9, 0, tzinfo=SH)
HERE = (117.800000, 40.950000)  # 双滦区, near 元宝山街道
LIMITS = {"accept": 1, "dispatch": 2, "sign": 1, "handle": 8, "inspect": 2}


@dataclass
class District:
    """A small district: 区 → 元宝山街道 → 双安社区 (grids g01, g02) and 御祥园社区 (grid yx-g01)."""

    tenant_id: int
    db: Any
    nodes: dict[str, GridNode] = field(default_factory=dict)
    users: dict[str, Actor] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    photos: list[int] = field(default_factory=list)

    def tx(self) -> Any:
        return self.db.transaction(self.tenant_id)

    async def report(self, who: str = "resident", node: str = "g01", category: str = "SR-01", **kw: Any) -> Event:
        kw.setdefault("now", WEDNESDAY_9)
        kw.setdefault("source", "resident" if who == "resident" else "grid_patrol")
        async with self.tx() as s:
            return await sv.report_event(
                s, title="垃圾堆放", category_code=category, node_id=self.nodes[node].id, actor=self.users[who], **kw
            )

    async def act(self, event_id: int, action: str, who: str, **kw: Any) -> Event:
        kw.setdefault("now", WEDNESDAY_9)
        async with self.tx() as s:
            await sv.transition(s, event_id, action, self.users[who], **kw)
            return await sv.get_event(s, event_id)

    async def get(self, event_id: int) -> Event:
        async with self.db.session(self.tenant_id) as s:
            return await sv.get_event(s, event_id)

    async def timeline(self, event_id: int) -> list[EventTransition]:
        async with self.db.session(self.tenant_id) as s:
            return await sv.timeline(s, event_id)


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> District:
    db = app.state.db
    await set_plugin(db, app.state.plugins, fresh_tenant, "smart_service", True)
    d = District(fresh_tenant.id, db)
    async with d.tx() as s:
        tree = [
            ("root", None, "district", "双滦区"),
            *TREE[1:],
            ("yx", "ybs", "community", "御祥园社区"),
            ("yx-g01", "yx", "grid", "御祥园第一网格"),
        ]
        d.nodes.update(await grow_tree(s, tree))
        for username, display in [
            ("centre", "指挥中心值班员"),
            ("officer", "街道干部"),
            ("community", "社区工作者"),
            ("worker", "网格员小王"),
            ("worker2", "网格员小李"),
            ("resident", "居民张三"),
            ("neighbour", "居民李四"),
        ]:
            user = User(id=new_id(), username=username, display_name=display, password_hash="-")
            s.add(user)
            d.users[username] = Actor("user", user.id, username)
        await s.flush()
        s.add(Category(code="SR", kind="event", name_zh="市容环境", time_limits=LIMITS))
        s.add(Category(code="SS", kind="component", name_zh="公共设施", time_limits=LIMITS))
        await s.flush()
        s.add(
            Category(
                code="SR-01", parent_code="SR", name_zh="暴露垃圾", time_limits=LIMITS, urgent_time_limits={"handle": 2}
            )
        )
        s.add(Category(code="SS-01", parent_code="SS", kind="component", name_zh="井盖", time_limits=LIMITS))
        s.add(Category(code="QT", name_zh="其他", time_limits=LIMITS))
        for code, name, level, node in [
            ("centre", "区指挥中心", 1, "root"),
            ("ybs", "元宝山街道办", 2, "ybs"),
            ("urban", "城管局", 2, None),
            ("sa", "双安社区", 3, "sa"),
            ("sa-g02", "第二网格物业组", 3, "g02"),
            ("yx", "御祥园社区", 3, "yx"),
        ]:
            n = d.nodes.get(node) if node else None
            unit = HandlingUnit(
                id=new_id(),
                code=code,
                name=name,
                level=level,
                node_id=n.id if n else None,
                node_path=n.path if n else None,
            )
            s.add(unit)
            d.units[code] = unit.id
        await s.flush()
        for category, node, unit in [
            (None, "root", "centre"),
            ("SR", "ybs", "ybs"),
            ("SS-01", "root", "urban"),
            ("SR", "sa", "sa"),
            ("SR-01", "g02", "sa-g02"),
            ("SR-01", "yx", "yx"),
        ]:
            s.add(
                DispatchRule(
                    category_code=category,
                    node_id=d.nodes[node].id,
                    node_path=d.nodes[node].path,
                    unit_id=d.units[unit],
                )
            )
        for i in range(3):
            photo = StoredFile(
                id=new_id(),
                owner_type="smart_service.event",
                filename=f"p{i}.jpg",
                content_type="image/jpeg",
                size=10,
                sha256="0" * 64,
                storage_key=f"k{i}",
            )
            s.add(photo)
            d.photos.append(photo.id)
    return d


async def dispatched_to_worker(d: District, **report: Any) -> Event:
    event = await d.report(**report)
    await d.act(event.id, "accept", "community", now=WEDNESDAY_9)
    await d.act(event.id, "register", "community", now=WEDNESDAY_9)
    await d.act(event.id, "dispatch", "community", now=WEDNESDAY_9)
    return await d.act(event.id, "redispatch", "community", assignee_user_id=d.users["worker"].id, now=WEDNESDAY_9)


# ---- the closed loop ---------------------------------------------------------------------------


async def test_a_report_travels_the_whole_loop_through_rework_to_closed_and_rated(district: District) -> None:
    d = district
    t = WEDNESDAY_9
    event = await d.report(photos=[d.photos[0]], description="小区门口垃圾堆积", lon=HERE[0], lat=HERE[1])
    assert re.fullmatch(r"SL-20261125-0001", event.number)
    assert event.state == "reported" and event.level == 3 and event.version == 1
    assert event.due_at == datetime(2026, 11, 25, 10, 0, tzinfo=SH)  # 受理 within 1 working hour

    steps = [
        ("accept", "community", {}),
        ("register", "community", {}),
        ("dispatch", "community", {}),  # the catalogue: 市容环境 in 双安社区 → 双安社区
        ("redispatch", "community", {"assignee_user_id": d.users["worker"].id}),
        ("sign", "worker", {}),
        ("handle", "worker", {}),
        ("feedback", "worker", {"photos": [d.photos[1]], "note": "已清运"}),
        ("inspect", "community", {}),
        ("rework", "community", {"note": "仍有残留"}),
        ("feedback", "worker", {"photos": [d.photos[2]], "note": "已彻底清理"}),
        ("inspect", "community", {}),
        ("pass", "community", {}),
        ("close", "community", {}),
        ("rate", "resident", {"rating": 5, "note": "很及时"}),
    ]
    for i, (action, who, kw) in enumerate(steps):
        event = await d.act(event.id, action, who, now=t + timedelta(minutes=10 * (i + 1)), **kw)

    assert event.state == "closed" and event.closed_at is not None
    assert event.rework_count == 1 and event.rating == 5 and event.rating_comment == "很及时"
    assert event.due_at is None and event.stage is None and not event.sla_breached
    assert event.handling_unit_id == d.units["sa"] and event.level == 3
    assert event.assignee_user_id == d.users["worker"].id
    assert event.version == 1 + len(steps)

    lines = await d.timeline(event.id)
    assert [line.action for line in lines] == ["report"] + [a for a, _w, _k in steps]
    assert lines[0].from_state is None and lines[0].photos == [d.photos[0]]
    for before, after in itertools.pairwise(lines):
        assert after.from_state == before.to_state  # an unbroken chain of states
    assert all(line.actor_name and line.actor_user_id for line in lines)
    assert lines[5].actor_name == "网格员小王"  # sign, by the display name
    rework = next(line for line in lines if line.action == "rework")
    assert (rework.from_state, rework.to_state, rework.note) == ("inspecting", "handling", "仍有残留")
    assert lines[3].data["unit_id"] == d.units["sa"] and lines[3].data["level"] == 3


async def test_a_grid_worker_returns_a_case_that_is_not_theirs_and_it_goes_back_to_who_dispatched_it(
    district: District,
) -> None:
    d = district
    event = await dispatched_to_worker(d)
    with pytest.raises(MissingInput, match="A note is required"):
        await d.act(event.id, "return", "worker")
    with pytest.raises(sv.NotAllowed, match="Only the person it is assigned to"):
        await d.act(event.id, "sign", "worker2")
    event = await d.act(event.id, "return", "worker", note="不属于本网格")
    assert event.state == "registered" and event.assignee_user_id is None
    assert event.handling_unit_id == d.units["sa"]  # back with the community that dispatched it
    line = (await d.timeline(event.id))[-1]
    assert (line.action, line.note, line.actor_name) == ("return", "不属于本网格", "网格员小王")

    # A unit returning it sends it back up: the sub-district dispatched to the community.
    other = await d.report()
    await d.act(other.id, "accept", "community")
    await d.act(other.id, "register", "community")
    await d.act(other.id, "dispatch", "centre", unit_id=d.units["ybs"])
    await d.act(other.id, "redispatch", "officer", unit_id=d.units["sa"])
    other = await d.act(other.id, "return", "community", note="需街道协调")
    assert other.state == "registered"
    assert (other.handling_unit_id, other.level) == (d.units["ybs"], 2)


async def test_an_illegal_transition_is_refused_with_its_message_and_writes_nothing(district: District) -> None:
    d = district
    event = await d.report()
    async with d.db.session(d.tenant_id) as s:
        audit_before = await s.scalar(select(func.count()).select_from(_audit()))
    with pytest.raises(IllegalTransition) as refused:
        await d.act(event.id, "close", "community")
    assert str(refused.value) == '"Close" is not possible while the event is "Reported"'
    with pytest.raises(IllegalTransition, match='"Sign for" is not possible while the event is "Reported"'):
        await d.act(event.id, "sign", "worker")
    after = await d.get(event.id)
    assert (after.state, after.version) == ("reported", 1)
    assert len(await d.timeline(event.id)) == 1
    async with d.db.session(d.tenant_id) as s:
        assert await s.scalar(select(func.count()).select_from(_audit())) == audit_before


def _audit() -> Any:
    from core.audit.models import AuditEntry

    return AuditEntry


async def test_a_form_loaded_before_someone_else_acted_is_refused_as_stale(district: District) -> None:
    d = district
    event = await d.report()
    await d.act(event.id, "accept", "community", version=1)
    with pytest.raises(sv.StaleEvent, match="changed by someone else"):
        await d.act(event.id, "register", "community", version=1)

    # Two people with the same page open press at the same time: the second write is refused.
    async with d.db.session(d.tenant_id) as s1, d.db.session(d.tenant_id) as s2:
        first, second = await sv.get_event(s1, event.id), await sv.get_event(s2, event.id)
        await sv.transition(s1, first, "register", d.users["community"])
        await s1.commit()
        with pytest.raises(sv.StaleEvent):
            await sv.transition(s2, second, "reject", d.users["centre"], note="重复")
        await s2.rollback()
    after = await d.get(event.id)
    assert after.state == "registered" and after.version == 3
    assert [line.action for line in await d.timeline(event.id)] == ["report", "accept", "register"]


async def test_twenty_simultaneous_reports_get_twenty_different_numbers(district: District) -> None:
    events = await asyncio.gather(*(district.report() for _ in range(20)))
    numbers = sorted(e.number for e in events)
    assert numbers == [f"SL-20261125-{i:04d}" for i in range(1, 21)]
    nextday = await district.report(now=WEDNESDAY_9 + timedelta(days=1))
    assert nextday.number == "SL-20261126-0001"


async def test_a_report_needs_a_title_a_category_a_place_and_a_short_enough_description(district: District) -> None:
    d = district
    node = d.nodes["g01"].id
    cases = [
        ({"title": " "}, "Give the event a title"),
        ({"category_code": "NOPE"}, "Choose a category"),
        ({"node_id": 1}, "Choose where the event happened"),
        ({"description": "字" * 4001}, "at most 4000 characters"),
        ({"lon": 117.8}, "Give both longitude and latitude"),
        ({"source": "pigeon"}, "Unknown source"),
        ({"photos": [12345]}, "Photo 12345 was not found"),
    ]
    for override, message in cases:
        kw = {"title": "井盖缺失", "category_code": "SS-01", "node_id": node, "source": "resident"} | override
        with pytest.raises(sv.InvalidInput, match=message):
            async with d.tx() as s:
                await sv.report_event(s, actor=d.users["resident"], **kw)
    async with d.db.session(d.tenant_id) as s:
        assert await s.scalar(select(func.count()).select_from(Event)) == 0


# ---- duplicates --------------------------------------------------------------------------------


async def test_a_resident_is_shown_open_reports_of_the_same_kind_nearby_and_adds_me_too(district: District) -> None:
    d = district
    lon, lat = HERE
    east_30m = lon + 30 / (111_320 * 0.7555)  # cos(40.95°) ≈ 0.7555
    near = await d.report(lon=lon, lat=lat)
    also_near = await d.report(lon=east_30m, lat=lat)
    await d.report(lon=lon + 0.006, lat=lat)  # about 500 m away
    await d.report(category="SS-01", lon=lon, lat=lat)  # another kind of problem
    rejected = await d.report(lon=lon, lat=lat)
    await d.act(rejected.id, "reject", "community", note="重复上报")

    async with d.db.session(d.tenant_id) as s:
        found = await sv.find_nearby_open(s, "SR-01", lon + 0.00001, lat, radius_m=100)
    assert [e.id for e, _m in found] == [near.id, also_near.id]
    assert found[0][1] < 2 and 25 < found[1][1] < 35

    async with d.tx() as s:
        assert await sv.me_too(s, near.id, d.users["neighbour"]) is True
    async with d.tx() as s:
        assert await sv.me_too(s, near.id, d.users["neighbour"]) is False  # once per person
        assert await sv.me_too(s, near.id, d.users["resident"]) is False  # the reporter
    after = await d.get(near.id)
    assert after.me_too_count == 1
    assert after.version == near.version  # a staff member's open form is not made stale
    with pytest.raises(IllegalTransition, match='"Me too" is not possible'):
        async with d.tx() as s:
            await sv.me_too(s, rejected.id, d.users["neighbour"])


async def test_merging_a_duplicate_moves_its_supporters_and_earlier_duplicates_to_the_target(
    district: District,
) -> None:
    d = district
    a, b, c, e = [await d.report() for _ in range(4)]
    async with d.tx() as s:
        await sv.me_too(s, a.id, d.users["neighbour"])
    await d.act(a.id, "merge", "community", into=b.id)
    assert (await d.get(b.id)).me_too_count == 2  # the duplicate itself and its supporter
    await d.act(b.id, "merge", "community", into=c.id)
    a, b, c = await d.get(a.id), await d.get(b.id), await d.get(c.id)
    assert (a.state, a.merged_into_id) == ("merged", c.id)  # no chain through a merged event
    assert (b.state, b.merged_into_id) == ("merged", c.id)
    assert c.me_too_count == 3
    with pytest.raises(IllegalTransition, match='not one that is "Merged"'):
        await d.act(e.id, "merge", "community", into=a.id)
    with pytest.raises(IllegalTransition, match="into itself"):
        await d.act(e.id, "merge", "community", into=e.id)


# ---- the dispatch catalogue --------------------------------------------------------------------


async def test_the_catalogue_keeps_small_things_in_the_community_and_escalation_goes_one_level_up(
    district: District,
) -> None:
    d = district
    in_g01 = await d.report(node="g01")
    in_g02 = await d.report(node="g02")
    in_yx = await d.report(node="yx-g01")
    cover = await d.report(node="g01", category="SS-01")
    other = await d.report(node="g01", category="QT")
    async with d.db.session(d.tenant_id) as s:

        async def unit(event: Event, level: int | None = None) -> str | None:
            target = await sv.dispatch_target(s, event, level)
            return next(k for k, v in d.units.items() if v == target.unit.id) if target else None

        assert await unit(in_g01) == "sa"  # 小事不出网格、大事不出社区
        assert await unit(in_g02) == "sa-g02"  # the most specific area wins
        assert await unit(in_yx) == "yx"
        assert await unit(cover) == "urban"  # 井盖 go to the department, district-wide
        assert await unit(other) == "centre"  # nothing lower: the command centre
        assert await unit(in_g01, 2) == "ybs"  # one level up
        assert await unit(in_g01, 1) == "centre"
        assert await unit(cover, 1) == "centre"


async def test_dispatch_without_a_rule_or_a_choice_is_refused_clearly(district: District) -> None:
    d = district
    async with d.tx() as s:
        await s.execute(DispatchRule.__table__.update().values(active=False))
    event = await d.report()
    await d.act(event.id, "accept", "community")
    await d.act(event.id, "register", "community")
    with pytest.raises(sv.DispatchError, match="No handling unit is set"):
        await d.act(event.id, "dispatch", "community")
    event = await d.act(event.id, "dispatch", "centre", unit_id=d.units["ybs"])
    assert (event.state, event.handling_unit_id, event.level) == ("dispatched", d.units["ybs"], 2)


async def test_staff_may_act_only_within_their_part_of_the_tree(app: Any, district: District) -> None:
    d = district
    policy = TenantPolicy(default_rules(all_actions(app.state.plugins)), 0)

    def can_as(role: str, node: str) -> Any:
        subject = Subject(1, (Assignment(role, d.nodes[node].path),))
        return lambda action, path: policy.allows(subject, action, path)

    in_g01, in_yx = await d.report(node="g01"), await d.report(node="yx-g01")
    with pytest.raises(sv.NotAllowed, match='You may not "Accept" this event'):
        await d.act(in_g01.id, "accept", "worker", can=can_as("grid_worker", "g01"))
    with pytest.raises(sv.NotAllowed):
        await d.act(in_yx.id, "accept", "community", can=can_as("community_worker", "sa"))
    accepted = await d.act(in_g01.id, "accept", "community", can=can_as("community_worker", "sa"))
    assert accepted.state == "accepted"


# ---- parking and extensions --------------------------------------------------------------------


async def test_parking_stops_the_clock_and_resuming_gives_back_the_time_left(district: District) -> None:
    d = district
    event = await dispatched_to_worker(d)
    # Handling time from 派遣: sign 1 h + handle 8 h = 9 working hours → Thursday 10:30.
    assert event.due_at == datetime(2026, 11, 26, 10, 30, tzinfo=SH)
    half_past = WEDNESDAY_9 + timedelta(minutes=30)
    await d.act(event.id, "request_park", "worker", note="等待专项资金", now=half_past)
    with pytest.raises(IllegalTransition, match="already waiting"):
        await d.act(event.id, "request_extension", "worker", note="再等等", hours=4, now=half_past)
    event = await d.act(event.id, "approve_park", "officer", now=half_past)
    assert (event.state, event.parked_from, event.due_at, event.sla_remaining_seconds) == (
        "parked",
        "dispatched",
        None,
        8.5 * 3600,
    )

    async with d.tx() as s:  # parked for days: nothing breaches
        assert await sv.escalate_breached(s, WEDNESDAY_9 + timedelta(days=30)) == []
    friday_1715 = datetime(2026, 11, 27, 17, 15, tzinfo=SH)
    event = await d.act(event.id, "resume", "officer", now=friday_1715)
    assert event.state == "dispatched" and event.pending is None
    # 15 min on Friday, 7 h 30 on Monday, the last 45 min on Tuesday.
    assert event.due_at == datetime(2026, 12, 1, 9, 15, tzinfo=SH)


async def test_an_approved_extension_moves_the_deadline_by_working_hours(district: District) -> None:
    d = district
    event = await dispatched_to_worker(d)
    await d.act(event.id, "sign", "worker")
    event = await d.act(event.id, "handle", "worker")
    # Handling within 9 working hours of 派遣 (签收 and 处置 on one clock): 7 on Wednesday, 2 on Thursday.
    assert event.due_at == datetime(2026, 11, 26, 10, 30, tzinfo=SH)
    with pytest.raises(sv.NotAllowed):
        await d.act(event.id, "request_extension", "worker2", note="需要材料", hours=4)
    await d.act(event.id, "request_extension", "worker", note="需要采购材料", hours=4)
    event = await d.act(event.id, "approve_extension", "officer")
    assert event.due_at == datetime(2026, 11, 26, 16, 0, tzinfo=SH)  # 10:30 + 4 h, lunch excluded
    assert event.handle_due_at == event.due_at
    assert (event.extension_count, event.pending, event.pending_hours) == (1, None, None)
    with pytest.raises(IllegalTransition, match="nothing is waiting"):
        await d.act(event.id, "approve_extension", "officer")


# ---- SLA escalation ----------------------------------------------------------------------------


async def test_a_breached_deadline_escalates_once_even_when_two_timers_run_at_once(
    app: Any, district: District
) -> None:
    d = district
    event = await d.report()
    await d.act(event.id, "accept", "community")
    await d.act(event.id, "register", "community")
    event = await d.act(event.id, "dispatch", "community")  # to 双安社区, handled within 9 h
    later = event.due_at + timedelta(hours=3)
    processes = [Database(app.state.settings.database_url), Database(app.state.settings.database_url)]

    async def timer(db: Database) -> list[int]:
        async with db.transaction(d.tenant_id) as s:
            return await sv.escalate_breached(s, later)

    try:
        results = await asyncio.gather(*(timer(db) for db in processes))
    finally:
        for db in processes:
            await db.dispose()
    assert sorted(results, key=len) == [[], [event.id]]
    after = await d.get(event.id)
    assert after.supervised and after.sla_breached and after.supervision_count == 1
    # 督办 one level up: the sub-district supervises; the community still handles it.
    assert (after.supervisor_level, after.supervisor_unit_id) == (2, d.units["ybs"])
    assert (after.level, after.handling_unit_id) == (3, d.units["sa"])
    escalations = [line for line in await d.timeline(event.id) if line.action == "escalate"]
    assert len(escalations) == 1
    assert escalations[0].data["breached_at"] == event.due_at.isoformat()
    async with d.tx() as s:
        assert await sv.escalate_breached(s, later + timedelta(days=1)) == []


async def test_after_downtime_each_breached_deadline_escalates_once_not_once_per_missed_run(
    app: Any, district: District
) -> None:
    d = district
    dispatched = await d.report()
    await d.act(dispatched.id, "accept", "community")
    await d.act(dispatched.id, "register", "community")
    dispatched = await d.act(dispatched.id, "dispatch", "community")
    waiting = await d.report()  # 受理 deadline passes too
    parked = await d.report()
    await d.act(parked.id, "accept", "community")
    await d.act(parked.id, "register", "community")
    await d.act(parked.id, "request_park", "community", note="历史遗留")
    await d.act(parked.id, "approve_park", "officer")
    rejected = await d.report()
    await d.act(rejected.id, "reject", "community", note="不属于受理范围")

    # The timer was down for a week: one run escalates each breached deadline once …
    week_later = WEDNESDAY_9 + timedelta(days=7)
    async with d.tx() as s:
        ctx = JobContext(d.tenant_id, s, d.db, app.state.plugins)
        assert await sv.sla_job(ctx, {}) == {"escalated": 2}
    async with d.tx() as s:
        assert await sv.escalate_breached(s, week_later + timedelta(days=7)) == []
    for event_id in (dispatched.id, waiting.id):
        lines = [line for line in await d.timeline(event_id) if line.action == "escalate"]
        assert len(lines) == 1
    assert (await d.get(waiting.id)).supervisor_level == 2

    # … and a new deadline (改派 restarts the handling clock) can be escalated once more, again one
    # level above the supervisor; the handling unit stays.
    await d.act(dispatched.id, "redispatch", "community", now=week_later)
    async with d.tx() as s:
        assert await sv.escalate_breached(s, week_later + timedelta(days=3)) == [dispatched.id]
        assert await sv.escalate_breached(s, week_later + timedelta(days=4)) == []
    again = await d.get(dispatched.id)
    assert (again.supervisor_level, again.level, again.handling_unit_id) == (1, 3, d.units["sa"])


# ---- announcements -----------------------------------------------------------------------------


class Listener:
    """Stands in for the plugin host: records what on_event would hear."""

    def __init__(self) -> None:
        self.heard: list[tuple[int, Any]] = []
        self.plugins = self

    async def run(self, hook: str, enabled: Any, /, **kw: Any) -> list[Any]:
        assert hook == "on_event"
        self.heard.append((kw["tenant_id"], kw["event"]))
        return []


async def test_changes_are_announced_to_plugins_only_once_committed(district: District) -> None:
    d = district
    listener = Listener()
    event = await d.report(app_state=listener, enabled=["smart_service"])
    with pytest.raises(RuntimeError):
        async with d.tx() as s:
            await sv.transition(s, event.id, "accept", d.users["community"], app_state=listener, enabled=[])
            raise RuntimeError("the page failed after the transition")
    await sv.announcements_sent()
    assert [e.name for _t, e in listener.heard] == ["smart_service.event.report"]
    await d.act(event.id, "accept", "community", app_state=listener)
    await sv.announcements_sent()
    tenant_id, heard = listener.heard[-1]
    assert tenant_id == d.tenant_id and heard.name == "smart_service.event.accept"
    assert heard.payload["state"] == "accepted" and heard.payload["from"] == "reported"
    assert heard.actor == d.users["community"]


async def test_nothing_from_one_district_is_visible_in_another(app: Any, district: District) -> None:
    d = district
    event = await d.report()
    from core.tenancy.service import get_tenant

    other = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(other.id) as s:
        with pytest.raises(sv.EventNotFound):
            await sv.get_event(s, event.id)
    assert event.state == State.REPORTED


@pytest.fixture(autouse=True)
async def _no_leftover_announcements() -> AsyncIterator[None]:
    yield
    await sv.announcements_sent()
