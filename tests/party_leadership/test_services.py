"""The pillar's use cases on the database: the three lists from need to done, 双报到 through 评议 with
the tenant's targets at their edges and the export, posts' capacity, committees and decisions,
五事联办 routing, 网络楼长, and the agreement reminder (once, across processes)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.db.engine import Database
from core.rbac.models import RoleAssignment
from core.services import activities, notices
from core.services.errors import Conflict, InvalidInput, NotFound
from core.services.notifications.models import InAppNotification
from plugins.party_leadership import agreements as ag
from plugins.party_leadership import captains, committees, figures, lists, matters, members, review, rules
from plugins.party_leadership.models import Agreement, Member, Project, Review
from plugins.party_leadership.settings import settings_of
from tests.party_leadership.conftest import District

YEAR = 2026
CATEGORIES = settings_of({}).categories()


async def _report(d: District, who: str, community: str = "sa", unit_id: int | None = None) -> Member:
    async with d.tx(who) as s:
        node = await members.community(s, d.nodes[community].id)
        return await members.report_in(s, node, name=who, on=date(YEAR, 3, 1), user_id=d.uid(who), unit_id=unit_id)


async def _unit(d: District, name: str = "国网双滦供电公司", community: str = "sa", contact: str | None = None) -> int:
    async with d.tx("secretary") as s:
        node = await members.community(s, d.nodes[community].id)
        unit = await members.register_unit(
            s,
            node,
            name=name,
            party_org=f"{name}党支部",
            on=date(YEAR, 2, 1),
            contact_user_id=d.uid(contact) if contact else None,
        )
        return unit.id


# ---- 三项清单 ------------------------------------------------------------------------------------


async def test_a_need_becomes_a_project_a_unit_claims_and_completes(district: District) -> None:
    d = district
    unit_id = await _unit(d)
    async with d.tx("worker") as s:
        sa = d.nodes["sa"]
        need = await lists.add_need(s, sa, title="老旧小区楼道照明", description="3号楼楼道无灯", source="resident")
        resource = await lists.add_resource(s, sa, kind="funds", title="照明改造资金 2 万元", unit_id=unit_id)
        project = await lists.create_project(s, sa, title="", need_id=need.id, resource_id=resource.id)
        assert (project.title, project.state, need.status) == ("老旧小区楼道照明", "listed", "matched")
        # The same need cannot be matched twice.
        with pytest.raises(Conflict):
            await lists.create_project(s, sa, title="again", need_id=need.id)
    async with d.tx("worker") as s:
        p = await lists.get_project(s, project.id)
        with pytest.raises(Conflict):  # nobody has claimed it: it cannot start
            await lists.step(s, p, "start")
    async with d.tx("worker") as s:
        p = await lists.get_project(s, project.id)
        await lists.step(s, p, "claim", unit_id=unit_id)
        await lists.step(s, p, "start", note="施工队进场")
        await lists.step(s, p, "progress", progress=60, note="已装 12 盏")
        with pytest.raises(InvalidInput) as missing:
            await lists.step(s, p, "complete", summary=" ")
        assert missing.value.field == "summary"
    async with d.tx("worker") as s:
        p = await lists.get_project(s, project.id)
        await lists.step(s, p, "complete", summary="更换感应灯 20 盏，居民验收满意")
        assert (p.state, p.progress, p.unit_id) == ("done", 100, unit_id)
        history = [u.action for u in await lists.history(s, p.id)]
        assert history == ["create", "claim", "start", "progress", "complete"]
        with pytest.raises(Conflict):
            await lists.step(s, p, "cancel")
        counts = await lists.project_counts(s, [d.nodes["sa"].path])
        assert counts == {"done": 1}
        notice = await lists.publish_lists(s, d.nodes["sa"])
        assert "【项目清单】" in notice.body and "老旧小区楼道照明（已完成）" in notice.body
        assert [n.id for n in await notices.board(s, d.nodes["sa"])] == [notice.id]


async def test_a_member_claims_a_project_of_their_own_community_only(district: District) -> None:
    d = district
    member = await _report(d, "m1")
    async with d.tx("worker") as s:
        mine = await lists.create_project(s, d.nodes["sa"], title="助老送餐")
        theirs = await lists.create_project(s, d.nodes["yx"], title="御祥园绿化")
    async with d.tx("m1") as s:
        from plugins.party_leadership import mine as mine_mod

        with pytest.raises(NotFound):
            await mine_mod.claim_project(s, member, theirs.id)
        claimed = await mine_mod.claim_project(s, member, mine.id)
        assert (claimed.state, claimed.member_id) == ("claimed", member.id)


async def test_an_event_number_turns_into_one_need_however_often_it_is_sent(district: District) -> None:
    d = district
    async with d.tx("worker") as s:
        a = await lists.add_need(
            s, d.nodes["sa"], title="路灯不亮", source="event", source_ref="smart_service.event:SL-1"
        )
        b = await lists.add_need(
            s, d.nodes["sa"], title="路灯不亮", source="event", source_ref="smart_service.event:SL-1"
        )
        assert a.id == b.id
        with pytest.raises(InvalidInput):
            await lists.add_need(s, d.nodes["sa"], title="  ")


# ---- 双报到 → 评议 ---------------------------------------------------------------------------------


async def _activity(d: District, minutes: int, day: int) -> int:
    start = datetime(YEAR, 5, day, 1, 0, tzinfo=UTC)  # 09:00 in 承德
    async with d.tx("secretary") as s:
        act = await members.publish_activity(
            s,
            d.nodes["sa"],
            title=f"文明创城志愿服务 5月{day}日",
            starts_at=start,
            ends_at=start + timedelta(minutes=max(minutes, 60)),
            category="社区治理",
            categories=CATEGORIES,
        )
        return act.id


async def _attend(d: District, activity_id: int, who: str, minutes: int, day: int) -> None:
    start = datetime(YEAR, 5, day, 1, 0, tzinfo=UTC)
    async with d.tx(who) as s:
        await activities.sign_up(s, activity_id, d.uid(who), at=start - timedelta(days=1))
    async with d.tx("secretary") as s:
        await activities.check_in(s, activity_id, d.uid(who), at=start)
        await activities.check_out(s, activity_id, d.uid(who), at=start + timedelta(minutes=minutes))


async def test_dual_registration_through_the_yearly_review_at_the_tenants_edges(district: District) -> None:
    d = district
    unit_id = await _unit(d, contact="employer")
    m1 = await _report(d, "m1", unit_id=unit_id)
    m2 = await _report(d, "m2", unit_id=unit_id)
    async with d.session() as s:  # reporting in lets them join the community's party activities
        roles = set(
            (
                await s.execute(select(RoleAssignment.user_id).where(RoleAssignment.role_code == "party_member"))
            ).scalars()
        )
        assert roles == {d.uid("m1"), d.uid("m2")}
    with pytest.raises(Conflict):
        await _report(d, "m1")
    # 47 hours recorded by staff, then an activity: m1 stays 30 minutes short of 50 hours.
    for member in (m1, m2):
        for day in (1, 2):  # two long duty days, 23.5 h each
            async with d.tx("secretary") as s:
                await members.record_service(
                    s,
                    member,
                    served_on=date(YEAR, 4, day),
                    minutes=1410,
                    description="防汛值守（纸质签到表）",
                    today=date(YEAR, 12, 31),
                )
    act = await _activity(d, 180, 10)
    await _attend(d, act, "m1", 150, 10)  # 2.5 h → 49.5 h
    await _attend(d, act, "m2", 180, 10)  # 3 h → 50 h
    async with d.session() as s:
        card = await members.service_card(s, m1, YEAR)
        assert card.minutes == 2970 and card.hours == Decimal("49.5")
        assert [line.source for line in card.lines] == ["activity", "staff", "staff"]
        assert (await members.service_card(s, m2, YEAR)).minutes == 3000
    hours_only = rules.Scoring.of(settings_of({"hours_points": 60, "post_points": 0, "report_points": 0}))
    async with d.tx("secretary") as s:
        rows = await review.run(s, [d.nodes["sa"].path], YEAR, hours_only)
    by_name = {r.name: r for r in rows if r.subject == "member"}
    assert (by_name["m1"].hours_met, by_name["m1"].score, by_name["m1"].passed) == (False, Decimal("59.4"), False)
    assert (by_name["m2"].hours_met, by_name["m2"].score, by_name["m2"].passed) == (True, Decimal("60.0"), True)
    # The community's rating moves m1 across the pass mark; re-running keeps ratings not given again.
    rated = rules.Scoring.of(settings_of({"hours_points": 50, "post_points": 0, "report_points": 0}))
    async with d.tx("secretary") as s:
        await review.run(s, [d.nodes["sa"].path], YEAR, rated, {m1.id: 9, m2.id: 10})
    async with d.tx("secretary") as s:
        rows = await review.run(s, [d.nodes["sa"].path], YEAR, rated)
    by_name = {r.name: r for r in rows if r.subject == "member"}
    # m1: 49.5/50 × 50 = 49.5 + 9 = 58.5; m2: 50 + 10 = 60.
    assert (by_name["m1"].score, by_name["m1"].passed) == (Decimal("58.5"), False)
    assert (by_name["m2"].score, by_name["m2"].passed) == (Decimal("60.0"), True)
    unit_row = next(r for r in rows if r.subject == "unit")
    assert unit_row.score == Decimal("59.2") and not unit_row.passed  # mean of 58.5 and 60, rounded down
    with pytest.raises(InvalidInput):
        async with d.tx("secretary") as s:
            await review.run(s, [d.nodes["sa"].path], YEAR, rated, {m1.id: 11})
    # The export carries both, with the targets they were scored on.
    async with d.session() as s:
        results = await review.results(s, YEAR, unit_id=unit_id)
    book = load_workbook(io.BytesIO(review.export_xlsx(results, {unit_id: "国网双滦供电公司"}, {}, YEAR, 50, 60)))
    sheet = book.active
    assert "年度服务时长目标 50 小时" in [c.value for c in sheet[1]]
    data = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert data["m1"][3] == 49.5 and data["m1"][8] == "不合格"
    assert data["m2"][3] == 50.0 and data["m2"][8] == "合格"


async def test_the_overview_counts_members_hours_and_those_at_the_target(district: District) -> None:
    d = district
    m1 = await _report(d, "m1")
    await _report(d, "m2")
    await _report(d, "m3", "yx")
    async with d.tx("secretary") as s:
        await members.record_service(
            s, m1, served_on=date(YEAR, 4, 1), minutes=24 * 60, description="值守", today=date(YEAR, 12, 1)
        )
    async with d.session() as s:
        rows = await figures.overview(s, [d.nodes["root"].path], YEAR, 24)
        head = await figures.headline(s, [d.nodes["root"].path], YEAR)
    assert [(r.name, r.members, r.minutes, r.at_target) for r in rows] == [
        ("双安社区", 2, 1440, 1),
        ("御祥园社区", 1, 0, 0),
    ]
    assert (head.members, head.minutes) == (3, 1440)


async def test_a_full_post_refuses_the_next_member_and_a_post_is_claimed_once(district: District) -> None:
    d = district
    m1, m2 = await _report(d, "m1"), await _report(d, "m2")
    m3 = await _report(d, "m3", "yx")
    async with d.tx("secretary") as s:
        post = await members.create_post(
            s, d.nodes["sa"], category="法律咨询与援助", title="法律咨询岗", capacity=1, categories=CATEGORIES
        )
        with pytest.raises(InvalidInput):
            await members.create_post(s, d.nodes["sa"], category="打麻将", title="x", categories=CATEGORIES)
    async with d.tx("m1") as s:
        await members.claim_post(s, post.id, m1)
    with pytest.raises(Conflict):
        async with d.tx("m1") as s:
            await members.claim_post(s, post.id, m1)
    with pytest.raises(Conflict):
        async with d.tx("m2") as s:
            await members.claim_post(s, post.id, m2)
    with pytest.raises(NotFound):  # another community's post
        async with d.tx("m3") as s:
            await members.claim_post(s, post.id, m3)


async def test_quarterly_feedback_goes_to_the_employer_once(app: Any, district: District) -> None:
    d = district
    unit_id = await _unit(d, contact="employer")
    m1 = await _report(d, "m1", unit_id=unit_id)
    async with d.tx("secretary") as s:
        await members.record_service(
            s, m1, served_on=date(YEAR, 5, 1), minutes=90, description="普法宣传", today=date(YEAR, 12, 1)
        )
        unit = await members.get_unit(s, unit_id)
        fb = await members.send_feedback(s, app.state, unit, YEAR, 2)
        assert fb.summary == {"members": 1, "minutes": 90, "rows": [{"name": "m1", "minutes": 90}]}
    with pytest.raises(Conflict):
        async with d.tx("secretary") as s:
            await members.send_feedback(s, app.state, await members.get_unit(s, unit_id), YEAR, 2)
    async with d.session() as s:
        notes = (
            (await s.execute(select(InAppNotification).where(InAppNotification.user_id == d.uid("employer"))))
            .scalars()
            .all()
        )
    assert len(notes) == 1 and "第2季度" in notes[0].title


# ---- 大工委/大党委, 联席会议 -----------------------------------------------------------------------


async def test_a_joint_meeting_is_called_held_and_its_decisions_tracked_to_done(district: District) -> None:
    d = district
    unit_id = await _unit(d)
    async with d.tx("partyadmin") as s:
        k = await committees.create_committee(s, d.nodes["ybs"])
        assert (k.kind, k.name) == ("working", "元宝山街道大工委")
        with pytest.raises(Conflict):
            await committees.create_committee(s, d.nodes["ybs"])
        with pytest.raises(InvalidInput):  # a 兼职委员 comes from a unit
            await committees.add_member(
                s, k, name="王委员", position="part_time", term_start=date(YEAR, 1, 1), term_years=5
            )
        a = await committees.add_member(
            s, k, name="王委员", position="part_time", unit_id=unit_id, term_start=date(YEAR, 1, 1), term_years=5
        )
        b = await committees.add_member(
            s, k, name="刘书记", position="secretary", term_start=date(2020, 1, 1), term_years=5
        )
        assert a.term_end == date(YEAR + 5, 1, 1)
        meeting = await committees.call_meeting(
            s,
            k,
            title="第二季度联席会议",
            agenda="1. 共建项目\n2. 双报到",
            starts_at=datetime(YEAR, 6, 1, 1, tzinfo=UTC),
        )
        assert meeting.expected == 1  # 刘书记's term ended in 2025
        with pytest.raises(Conflict):
            await committees.decide(s, meeting, text="先开会")
        await committees.hold(s, meeting, present_ids=[a.id], minutes="会议纪要……")
        with pytest.raises(InvalidInput):
            await committees.decide(s, meeting, text="x", votes=(2, 0, 0))  # more votes than present
        decision = await committees.decide(
            s, meeting, text="供电公司认领照明改造", owner="供电公司", due_on=date(YEAR, 7, 1), votes=(1, 0, 0)
        )
        assert committees.carried(decision) is True
        assert [x.id for x in await committees.open_decisions(s, [d.nodes["root"].path])] == [decision.id]
        second = await committees.call_meeting(
            s, k, title="临时会议", agenda="……", starts_at=datetime(YEAR, 6, 9, 1, tzinfo=UTC)
        )
        with pytest.raises(InvalidInput):
            await committees.hold(s, second, present_ids=[b.id + 1], minutes="x")
    async with d.tx("partyadmin") as s:
        await committees.complete_decision(s, decision.id, "6月28日完工")
        assert await committees.open_decisions(s, [d.nodes["root"].path]) == []
        with pytest.raises(Conflict):
            await committees.complete_decision(s, decision.id, "again")


async def test_five_matters_are_routed_to_their_joint_process(district: District) -> None:
    d = district
    now = datetime(YEAR, 6, 1, 1, tzinfo=UTC)
    async with d.tx("worker") as s:
        with pytest.raises(Conflict):  # no committee yet to take a meeting
            await matters.file(s, d.nodes["sa"], kind="discuss", title="加装电梯", meeting_at=now)
        project_matter = await matters.file(s, d.nodes["sa"], kind="do", title="修缮车棚")
        assert project_matter.route == "project" and project_matter.project_id
    async with d.tx("partyadmin") as s:
        await committees.create_committee(s, d.nodes["sa"])
    async with d.tx("worker") as s:
        discuss = await matters.file(
            s, d.nodes["sa"], kind="discuss", title="加装电梯", meeting_at=now + timedelta(days=7)
        )
        with pytest.raises(InvalidInput):
            await matters.file(s, d.nodes["sa"], kind="decide", title="停车收费标准")
        vote = await matters.file(
            s, d.nodes["sa"], kind="decide", title="停车收费标准", meeting_at=now + timedelta(days=3)
        )
        urgent = await matters.file(s, d.nodes["sa"], kind="urgent", title="暴雨积水", at=now, urgent_hours=24)
        hard = await matters.file(s, d.nodes["sa"], kind="solve", title="历史遗留产权", meeting_at=now)
        consult = await committees.get_meeting(s, urgent.meeting_id)  # type: ignore[arg-type]
        assert consult.urgent and consult.starts_at.astimezone(UTC) == now + timedelta(hours=24)
        assert [m.route for m in (discuss, vote, urgent, hard)] == ["meeting", "vote", "consultation", "meeting"]
        assert (await committees.get_meeting(s, vote.meeting_id)).title == "表决事项：停车收费标准"  # type: ignore[arg-type]
        await matters.resolve(s, discuss, "经联席会议商定，分批加装")
        with pytest.raises(Conflict):
            await matters.resolve(s, discuss, "again")


# ---- 网络楼长 ------------------------------------------------------------------------------------


async def test_a_member_captains_a_building_of_their_community_once(district: District) -> None:
    d = district
    m1, m2 = await _report(d, "m1"), await _report(d, "m2")
    async with d.tx("m1") as s:
        with pytest.raises(NotFound):
            await captains.claim(s, m1, d.nodes["yb1"].id)
        with pytest.raises(NotFound):  # not a building
            await captains.claim(s, m1, d.nodes["g01"].id)
        with pytest.raises(InvalidInput):
            await captains.claim(s, m1, d.nodes["b1"].id, group_link="javascript:alert(1)")
    async with d.tx("m1") as s:
        await captains.claim(
            s, m1, d.nodes["b1"].id, group_link="https://work.weixin.qq.com/g/abc", contact="微信 zhang"
        )
    with pytest.raises(Conflict):
        async with d.tx("m2") as s:
            await captains.claim(s, m2, d.nodes["b1"].id)
    async with d.session() as s:
        assert await captains.counts(s, [d.nodes["sa"].path]) == (1, 1)
        assert await captains.counts(s, [d.nodes["root"].path]) == (1, 2)
        rows, total = await captains.buildings(s, [d.nodes["sa"].path])
        assert total == 2 and rows[0].captain_name == "m1" and rows[0].head_names == ["楼栋长老赵"]
        free, _ = await captains.buildings(s, [d.nodes["sa"].path], without_captain=True)
        assert [r.node.name for r in free] == ["2号楼"]


# ---- 共建协议: the reminder, once across processes -------------------------------------------------


async def test_an_expiring_agreement_is_reminded_once_even_by_two_processes_at_once(
    app: Any, district: District
) -> None:
    d = district
    unit_id = await _unit(d)
    today = date(YEAR, 11, 20)
    async with d.tx("secretary") as s:
        soon = await ag.create(
            s,
            d.nodes["sa"],
            unit_id=unit_id,
            title="双安社区—供电公司共建协议",
            terms="供电公司每季度开展一次用电安全进社区",
            starts_on=date(YEAR - 1, 12, 1),
            ends_on=date(YEAR, 12, 10),
        )
        later = await ag.create(
            s,
            d.nodes["sa"],
            unit_id=unit_id,
            title="长期协议",
            terms="……",
            starts_on=date(YEAR, 1, 1),
            ends_on=date(YEAR + 1, 12, 31),
        )
        with pytest.raises(InvalidInput):
            await ag.create(s, d.nodes["sa"], unit_id=unit_id, title="x", terms="y", starts_on=today, ends_on=today)
        with pytest.raises(InvalidInput):  # the unit reported to 双安, not 御祥园
            await ag.create(
                s, d.nodes["yx"], unit_id=unit_id, title="x", terms="y", starts_on=today, ends_on=date(YEAR + 1, 1, 1)
            )
        assert ag.state_of(soon, today, 30) == "expiring" and ag.state_of(later, today, 30) == "active"
    processes = [Database(app.state.settings.database_url), Database(app.state.settings.database_url)]

    async def run(db: Database) -> list[int]:
        async with db.transaction(d.tenant.id) as s:
            return await ag.remind_expiring(s, app.state, today, 30)

    try:
        results = await asyncio.gather(*(run(db) for db in processes))
    finally:
        for db in processes:
            await db.dispose()
    assert sorted(results, key=len) == [[], [soon.id]]
    async with d.tx() as s:
        assert await ag.remind_expiring(s, app.state, today + timedelta(days=5), 30) == []
    async with d.session() as s:
        told = (
            (
                await s.execute(
                    select(InAppNotification.user_id).where(InAppNotification.title.contains("共建协议即将到期"))
                )
            )
            .scalars()
            .all()
        )
    assert sorted(told) == sorted([d.uid("partyadmin"), d.uid("secretary")])  # once each, not 御祥园's secretary
    # Renewed to a new end date, it is reminded again when that one nears.
    async with d.tx() as s:
        row = await ag.get(s, soon.id)
        row.ends_on = date(YEAR + 1, 12, 10)
    async with d.tx() as s:
        assert await ag.remind_expiring(s, app.state, date(YEAR + 1, 11, 20), 30) == [soon.id]


async def test_the_reminder_job_uses_the_tenants_period(app: Any, district: District) -> None:
    from core.services.jobs import JobContext
    from core.tenancy.service import set_plugin

    d = district
    unit_id = await _unit(d)
    async with d.tx("secretary") as s:
        a = await ag.create(
            s,
            d.nodes["sa"],
            unit_id=unit_id,
            title="协议",
            terms="……",
            starts_on=date(YEAR, 1, 1),
            ends_on=date(YEAR, 12, 31),
        )
    await set_plugin(app.state.db, app.state.plugins, d.tenant, "party_leadership", True, {"agreement_remind_days": 10})
    async with d.tx() as s:
        ctx = JobContext(d.tenant.id, s, app.state.db, app.state.plugins)
        assert await ag.reminder_job(ctx, {"today": f"{YEAR}-12-01"}) == {"reminded": 0}  # 30 days out: not yet
        assert await ag.reminder_job(ctx, {"today": f"{YEAR}-12-21"}) == {"reminded": 1}
    async with d.session() as s:
        assert (await s.get(Agreement, (d.tenant.id, a.id))).reminded_for == date(YEAR, 12, 31)  # type: ignore[union-attr]


async def test_nothing_of_one_district_is_visible_in_another(app: Any, district: District) -> None:
    from core.tenancy.service import get_tenant

    d = district
    await _report(d, "m1")
    other = await get_tenant(app.state.db, "luanping")
    async with app.state.db.session(other.id) as s:
        assert await s.scalar(select(func.count(Member.id)).where(Member.name == "m1")) == 0
        assert await s.scalar(select(func.count(Project.id))) is not None
        assert await s.scalar(select(func.count(Review.id)).where(Review.name == "m1")) == 0
