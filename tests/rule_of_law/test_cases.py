"""Mediation cases on the database: screening → case → 受理 → sessions → agreement (PDF) → 回访;
refusals, permissions, the one-month clock and the overdue flag (once, also with two runners)."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta
from typing import Any

import pypdf
import pytest
from sqlalchemy import func, select

from core.services import documents as docs
from core.services.files.models import StoredFile
from plugins.rule_of_law import cases, overdue, screening
from plugins.rule_of_law import documents as rl_documents
from plugins.rule_of_law.cases import Limits, NotAllowed, Stale
from plugins.rule_of_law.mediation import IllegalTransition, MissingInput
from plugins.rule_of_law.models import Case, CaseEntry
from tests.rule_of_law.conftest import MONDAY_10, District

AGREEMENT = {
    "parties": [
        {"name": "张建国", "gender": "男", "age": "56", "address": "行宫社区3号楼2单元301"},
        {"name": "李秀兰", "gender": "女", "age": "49", "address": "行宫社区3号楼2单元201"},
    ],
    "facts": "301室卫生间漏水致201室顶棚受损",
    "matters": "漏水维修责任及201室损失赔偿，301室承担主要责任",
    "terms": "张建国负责修复防水层并赔偿李秀兰装修损失人民币1200元",
    "performance": "2026年3月31日前修复完毕，赔偿款于签字当日以现金一次付清",
}


async def found_dispute(d: District, kind: str = "neighbour") -> int:
    async with d.tx() as s:
        _, found = await screening.record_visit(
            s,
            d.nodes["g1"],
            d.users["worker"].id,
            place="行宫社区3号楼",
            note="入户排查",
            disputes=[
                screening.DisputeInput(kind, "medium", "楼上漏水，楼下顶棚受损，双方多次争吵", ["张建国", "李秀兰"])
            ],
            at=MONDAY_10,
        )
        return found[0].id


async def new_case(d: District) -> int:
    dispute_id = await found_dispute(d)
    async with d.tx() as s:
        case = await screening.hand_to_mediation(s, await screening.get_dispute(s, dispute_id))
        return case.id


async def step(
    d: District, case_id: int, action: str, who: str, inputs: dict[str, Any], at: Any = MONDAY_10, **kw: Any
) -> Case:
    async with d.tx() as s:
        case = await cases.get_case(s, case_id)
        await cases.step(s, case, action, inputs, actor=d.users[who], can=d.can(who), limits=Limits(), at=at, **kw)
        return case


async def test_a_dispute_goes_from_screening_to_an_agreement_with_its_pdf_and_a_follow_up(district: District) -> None:
    d = district
    case_id = await new_case(d)
    case = await step(d, case_id, "accept", "mediator", {"origin": "application"})
    assert case.state == "accepted" and case.origin == "application"
    assert case.due_on == date(2026, 4, 16)  # one month from 16 March
    await step(d, case_id, "investigate", "mediator", {"note": "分别走访双方，查看漏水现场"})
    await step(d, case_id, "session", "mediator", {"attendees": "张建国、李秀兰、王芳", "note": "双方陈述，同意协商"})
    case = await step(d, case_id, "agree", "mediator", AGREEMENT, at=MONDAY_10 + timedelta(days=2))
    assert case.state == "agreed" and case.effective_on == date(2026, 3, 18)
    assert case.confirmation_due_on == date(2026, 4, 17)  # 第33条: 30 days
    assert case.days_to_close == 2
    async with d.tx() as s:
        case = await cases.get_case(s, case_id)
        doc = await rl_documents.issue_agreement(
            s, d.storage, tenant=d.tenant, case=case, base_url="https://liuzhi.test"
        )
        stored = (await s.execute(select(StoredFile).where(StoredFile.id == doc.file_id))).scalar_one()
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(d.storage.read(stored))).pages)
    for needle in ("人民调解协议书", "张建国", "李秀兰", "漏水", "赔偿", "2026年3月31日前", "三十日内", "人民调解员"):
        assert needle in text.replace("\n", ""), needle
    case = await step(
        d,
        case_id,
        "follow_up",
        "mediator",
        {"performance": "performed", "note": "已修复并付清"},
        at=MONDAY_10 + timedelta(days=16),
    )
    assert case.state == "followed_up"
    async with d.session() as s:
        kinds = [e.kind for e in await cases.entries(s, case_id)]
        assert kinds == ["accept", "investigate", "session", "agree", "reminder", "follow_up"]
        assert [doc.kind for doc in await docs.of_subject(s, ("rule_of_law.case", str(case_id)))] == ["agreement"]


async def test_a_party_declining_closes_the_case_and_it_cannot_be_mediated(district: District) -> None:
    d = district
    case_id = await new_case(d)
    case = await step(d, case_id, "refuse", "mediator", {"note": "李秀兰明确表示不接受调解"})
    assert case.state == "refused" and case.concluded_at is not None
    with pytest.raises(IllegalTransition):
        await step(d, case_id, "session", "mediator", {"attendees": "张建国", "note": "x"})


async def test_only_the_cases_mediators_record_its_steps_and_a_stale_form_is_refused(district: District) -> None:
    d = district
    case_id = await new_case(d)
    with pytest.raises(NotAllowed):
        await step(d, case_id, "accept", "worker", {"origin": "application"})
    case = await step(d, case_id, "accept", "mediator", {"origin": "own_initiative"})
    with pytest.raises(NotAllowed):  # a mediator in scope but not on this case
        await step(d, case_id, "session", "mediator2", {"attendees": "甲、乙", "note": "x"})
    with pytest.raises(Stale):
        await step(d, case_id, "session", "mediator", {"attendees": "甲、乙", "note": "x"}, version=case.version - 1)
    with pytest.raises(MissingInput):
        await step(d, case_id, "terminate", "mediator", {"note": "不成", "routes": []})
    case = await step(d, case_id, "terminate", "mediator", {"note": "分歧大", "routes": ["arbitration", "litigation"]})
    assert case.routes == ["arbitration", "litigation"]


async def test_case_contents_are_for_its_mediators_and_granted_roles_only(district: District) -> None:
    d = district
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})
    async with d.session() as s:
        case = await cases.get_case(s, case_id)
        ms = await cases.mediator_ids(s, case_id)
    assert cases.can_read_contents(case, d.users["mediator"].id, ms, d.can("mediator"))
    assert not cases.can_read_contents(case, d.users["mediator2"].id, ms, d.can("mediator2"))
    assert not cases.can_read_contents(case, d.users["officer"].id, ms, d.can("officer"))
    assert cases.can_see_case(case, d.users["officer"].id, ms, d.can("officer"))  # the figure, not the file
    granted = lambda action, path=None: action == cases.READ and path is not None  # noqa: E731
    assert cases.can_read_contents(case, d.users["officer"].id, ms, granted)


async def test_the_overdue_flag_comes_the_day_after_the_last_day_and_only_once(district: District) -> None:
    d = district
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})  # due 2026-04-16
    last_day = MONDAY_10 + timedelta(days=31)  # 16 April, 10:00 Beijing time
    async with d.tx() as s:
        assert await overdue.flag_overdue(s, last_day) == []
    async with d.tx() as s:
        assert await overdue.flag_overdue(s, last_day.replace(hour=23, minute=59)) == []
    next_day = last_day + timedelta(days=1)
    async with d.tx() as s:
        assert await overdue.flag_overdue(s, next_day) == [case_id]
    async with d.tx() as s:
        assert await overdue.flag_overdue(s, next_day + timedelta(days=1)) == []
    async with d.session() as s:
        n = await s.scalar(
            select(func.count(CaseEntry.id)).where(CaseEntry.case_id == case_id, CaseEntry.kind == "overdue")
        )
        assert n == 1


async def test_two_runners_flag_an_overdue_case_once_between_them(district: District) -> None:
    d = district
    ids = [await new_case(d) for _ in range(3)]
    for case_id in ids:
        await step(d, case_id, "accept", "mediator", {"origin": "application"})
    later = MONDAY_10 + timedelta(days=40)

    async def run() -> list[int]:
        async with d.tx() as s:
            return await overdue.flag_overdue(s, later)

    first, second = await asyncio.gather(run(), run())
    assert sorted(first + second) == sorted(ids)
    async with d.session() as s:
        n = await s.scalar(select(func.count(CaseEntry.id)).where(CaseEntry.kind == "overdue"))
        assert n == 3


async def test_a_concluded_case_is_never_flagged(district: District) -> None:
    d = district
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})
    await step(d, case_id, "terminate", "mediator", {"note": "撤回", "routes": ["litigation"]})
    async with d.tx() as s:
        assert await overdue.flag_overdue(s, MONDAY_10 + timedelta(days=60)) == []


async def test_the_case_file_lists_its_mandatory_documents(district: District) -> None:
    d = district
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})
    await step(d, case_id, "session", "mediator", {"attendees": "张建国、李秀兰", "note": "调解"})
    await step(d, case_id, "agree", "mediator", AGREEMENT)
    async with d.tx() as s:
        case = await cases.get_case(s, case_id)
        entries = await cases.entries(s, case_id)
        check = rl_documents.checklist(case, entries)
        missing = [name for name, ok in check.items if not ok]
        assert missing == ["人民调解调查记录", "人民调解回访记录"]
        doc = await rl_documents.issue_case_file(
            s,
            d.storage,
            tenant=d.tenant,
            case=case,
            entries=entries,
            mediator_names=["王芳"],
            base_url="https://liuzhi.test",
        )
        stored = (await s.execute(select(StoredFile).where(StoredFile.id == doc.file_id))).scalar_one()
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(d.storage.read(stored))).pages).replace(
            "\n", ""
        )
    assert "人民调解卷宗" in text and "人民调解回访记录（缺）" in text and "司法确认" in text


async def test_the_overdue_job_tells_the_cases_mediator_once(district: District, app: Any) -> None:
    from core.services.jobs import JobContext
    from core.services.notifications.models import InAppNotification

    d = district
    case_id = await new_case(d)
    await step(d, case_id, "accept", "mediator", {"origin": "application"})  # due long ago: 2026-04-16
    for _ in range(2):
        async with d.tx() as s:
            await overdue.job(JobContext(d.tenant.id, s, d.db, app.state.plugins), {})
    async with d.session() as s:
        notes = (
            (await s.execute(select(InAppNotification).where(InAppNotification.user_id == d.users["mediator"].id)))
            .scalars()
            .all()
        )
        assert len(notes) == 1 and "超过调解期限" in notes[0].title
