"""特殊人群 registers and counselling notes: who may open them, and every read in the audit log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from plugins.rule_of_law import counselling, sensitive, teams
from plugins.rule_of_law.common import NotFound
from plugins.rule_of_law.models import SpecialPerson
from plugins.rule_of_law.rules import Composition
from tests.rule_of_law.conftest import MONDAY_10, District


def test_only_the_register_officer_role_is_granted_the_registers_by_default(district: District) -> None:
    d = district
    assert d.can("keeper")(sensitive.SPECIAL_VIEW, d.nodes["g1"].path)
    for who in ("mediator", "worker", "officer", "counsellor", "resident"):
        assert not d.can(who)(sensitive.SPECIAL_VIEW, d.nodes["g1"].path), who


async def test_every_read_of_a_register_is_logged_with_its_reader(district: District) -> None:
    d = district
    async with d.tx() as s:
        s.info["actor"] = d.users["keeper"]
        person = await sensitive.add_person(
            s,
            d.vault,
            category="corrections",
            name="测试对象甲",
            node=d.nodes["g1"],
            details="缓刑，考验期至2027年6月",
            every_days=30,
            today=date(2026, 3, 16),
        )
    async with d.tx() as s:
        s.info["actor"] = d.users["keeper"]
        people = await sensitive.register(s, [d.nodes["gc"].path], "corrections")
        assert [p.name for p in people] == ["测试对象甲"]
        _, details, _ = await sensitive.open_person(s, d.vault, person.id)
        sensitive.log_read(s, "person", "rl_special_people", person.id, {"category": "corrections"})
        assert details == "缓刑，考验期至2027年6月"
    async with d.session() as s:
        raw = (await s.execute(select(SpecialPerson.details_enc).where(SpecialPerson.id == person.id))).scalar_one()
        assert "缓刑".encode() not in raw  # encrypted at rest
        log = await sensitive.access_log(s)
        assert [(e.actor_name, e.changes["what"]) for e in log] == [
            ("专管员周强", "person"),
            ("专管员周强", "register"),
        ]


async def test_a_visit_moves_the_next_visit_by_the_persons_schedule(district: District) -> None:
    d = district
    async with d.tx() as s:
        person = await sensitive.add_person(
            s,
            d.vault,
            category="youth",
            name="测试对象乙",
            node=d.nodes["s1"],
            details="",
            every_days=14,
            today=date(2026, 3, 1),
        )
        assert sensitive.visit_due(person, date(2026, 3, 15)) and not sensitive.visit_due(person, date(2026, 3, 14))
        await sensitive.record_visit(s, d.vault, person, d.users["keeper"].id, "在校表现良好", date(2026, 3, 16))
        assert person.next_visit_on == date(2026, 3, 30)


async def test_counselling_notes_open_to_the_counsellor_only_and_each_read_is_logged(district: District) -> None:
    d = district
    async with d.tx() as s:
        appt = await counselling.book(
            s,
            node=d.nodes["g1"],
            room="行宫社区心理咨询室",
            allowed_rooms=["行宫社区心理咨询室"],
            person_name="居民张三",
            starts_at=MONDAY_10 + timedelta(days=2),
            resident_user_id=d.users["resident"].id,
            consent_given=True,
            now=MONDAY_10,
        )
        await counselling.take(s, appt, d.users["counsellor"].id)
        await sensitive.write_notes(s, d.vault, appt, d.users["counsellor"].id, "睡眠差，工作压力大；建议两周后复访")
    async with d.tx() as s:
        appt = await counselling.get(s, appt.id)
        with pytest.raises(NotFound):
            await sensitive.read_notes(s, d.vault, appt, d.users["officer"].id)
        s.info["actor"] = d.users["counsellor"]
        assert "睡眠差" in await sensitive.read_notes(s, d.vault, appt, d.users["counsellor"].id)
    async with d.session() as s:
        n = (await s.execute(select(AuditEntry).where(AuditEntry.action == sensitive.READ_ACTION))).scalars().all()
        assert [(e.object_type, e.changes["what"]) for e in n] == [("rl_appointments", "counselling_notes")]


async def test_booking_counselling_needs_consent_a_room_and_a_future_time(district: District) -> None:
    d = district
    kw = dict(
        node=d.nodes["g1"],
        allowed_rooms=["行宫社区心理咨询室"],
        person_name="居民张三",
        resident_user_id=d.users["resident"].id,
        now=MONDAY_10,
    )
    async with d.tx() as s:
        with pytest.raises(Exception, match="consent"):
            await counselling.book(
                s, room="行宫社区心理咨询室", starts_at=MONDAY_10 + timedelta(days=1), consent_given=False, **kw
            )
        with pytest.raises(Exception, match="counselling rooms"):
            await counselling.book(s, room="别处", starts_at=MONDAY_10 + timedelta(days=1), consent_given=True, **kw)
        with pytest.raises(Exception, match="future"):
            await counselling.book(s, room="行宫社区心理咨询室", starts_at=MONDAY_10, consent_given=True, **kw)


async def test_incomplete_teams_are_listed_by_the_districts_rule(district: District) -> None:
    d = district
    async with d.tx() as s:
        full = await teams.create_team(s, d.nodes["g1"], "行宫第一网格服务团队")
        for position, name in [
            ("instructor", "街道副主任刘军"),
            ("leader", "社区干部陈静"),
            ("part_time", "楼栋长老赵"),
            ("other", "社区民警孙涛"),
        ]:
            await teams.add_member(s, full, position=position, name=name)
        thin = await teams.create_team(s, d.nodes["g2"], "")
        await teams.add_member(s, thin, position="leader", name="社区干部吴越")
    async with d.session() as s:
        views = await teams.overview(s, [d.nodes["gc"].path], Composition(part_time=1))
        assert {v.team.name: v.gaps for v in views} == {
            "行宫第一网格服务团队": {},
            "行宫第二网格服务团队": {"instructor": 1, "part_time": 1, "other": 1},
        }
        views = await teams.overview(s, [d.nodes["gc"].path], Composition(part_time=2))
        assert not views[0].complete
