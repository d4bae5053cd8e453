"""家政 bookings and ratings, training to employment, 红色物业 reviews, and the certificate of
service — as a resident, a trainer or a community worker would notice them."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.services import documents
from core.services.errors import Conflict, InvalidInput, NotFound
from core.services.files.models import StoredFile
from plugins.co_governance import certificate, homeservice, property, training, volunteers
from tests.co_governance.conftest import activity, rule, volunteer_of

CREDIT = "91130821MA0EXAMPLE"


def _credit_code() -> str:
    # a valid GB 32100 code: compute the check character for a fixed body
    from core.grids import validation

    body = "91130821MA0CKX0Y3"
    for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        try:
            return validation.check_credit_code(body + ch)
        except validation.InvalidValue:
            continue
    raise AssertionError("no check character")


async def test_a_resident_books_a_service_it_is_done_and_rated_once(world: Any) -> None:
    async with world.transaction("staff") as s:
        provider = await homeservice.add_provider(
            s,
            name="承德家家乐家政服务有限公司",
            kind="company",
            credit_code=_credit_code(),
            node=world.community,
            licence="家政服务企业备案",
            contact_name="王经理",
            phone="0314-2345678",
        )
        with pytest.raises(InvalidInput) as bad:
            await homeservice.add_provider(s, name="某公司", kind="company", credit_code=CREDIT, node=world.community)
        assert bad.value.field == "credit_code"
        offer = await homeservice.add_offer(s, provider, title="日常保洁 2 小时", category="保洁", price="80")
        assert offer.price_cents == 8000
        booking = await homeservice.book(
            s,
            offer,
            user_id=world.users["ann"].id,
            node=world.grid,
            wanted_on="2026-12-10",
            today=date(2026, 12, 7),
        )
        assert booking.state == "requested" and booking.number.startswith("JZ-")
        with pytest.raises(Conflict):
            await homeservice.rate(s, booking, world.users["ann"].id, 5)
        with pytest.raises(Conflict):
            await homeservice.move(s, booking, "confirm", staff=False)  # a resident cannot confirm
        await homeservice.move(s, booking, "confirm", staff=True)
        await homeservice.move(s, booking, "done", staff=True)
        with pytest.raises(NotFound):
            await homeservice.rate(s, booking, world.users["bob"].id, 5)  # not theirs
        with pytest.raises(InvalidInput):
            await homeservice.rate(s, booking, world.users["ann"].id, 6)
        await homeservice.rate(s, booking, world.users["ann"].id, 4, "阿姨很细心")
        assert booking.rating == 4
        with pytest.raises(Conflict, match="already rated"):
            await homeservice.rate(s, booking, world.users["ann"].id, 5)
        with pytest.raises(InvalidInput):
            await homeservice.book(
                s,
                offer,
                user_id=world.users["ann"].id,
                node=world.grid,
                wanted_on="2026-12-01",
                today=date(2026, 12, 7),
            )


async def test_a_contract_lists_deliverables_that_are_ticked_off(world: Any) -> None:
    async with world.transaction("staff") as s:
        provider = await homeservice.add_provider(
            s, name="双滦区社工服务中心", kind="social_org", credit_code=_credit_code(), node=world.community
        )
        contract = await homeservice.add_contract(
            s,
            provider,
            title="2026 年居家养老服务购买",
            node=world.community,
            amount="120000",
            starts_on="2026-01-01",
            ends_on="2026-12-31",
            deliverables=["助餐 2000 人次", "上门探访 600 次"],
        )
        await homeservice.mark_deliverable(s, contract, 1, True)
        assert [d["done"] for d in contract.deliverables] == [False, True]


@pytest.mark.parametrize("attended", [7, 8])
async def test_completion_needs_the_required_sessions_then_employment_is_followed_up(
    world: Any, app: Any, attended: int
) -> None:
    async with world.transaction("staff") as s:
        course = await training.add_course(
            s,
            title="中式面点师（初级）",
            trade="面点",
            provider_name="天牧培训学校",
            node=world.community,
            starts_on="2026-09-01",
            ends_on="2026-10-15",
            sessions=10,
            required_sessions=8,
        )
        row = await training.enrol(s, app.state.vault, course, name="刘桂芳", phone="13833334444")
        for _ in range(attended):
            await training.attend(s, course, row)
        if attended < 8:
            with pytest.raises(Conflict, match="7 of 8"):
                await training.complete(s, course, row, "2026-10-15")
            return
        with pytest.raises(Conflict):
            await training.follow_up(s, row, employed=True, employer="x", on="2026-11-01")
        await training.complete(s, course, row, "2026-10-15")
        await training.follow_up(s, row, employed=True, employer="承德御祥园酒店", on="2026-11-20")
        [fig] = await training.figures(s, ["/"])
        assert (fig.enrolled, fig.completed, fig.employed) == (1, 1, 1)


async def test_property_reviews_one_per_resident_and_quarter_with_history(world: Any) -> None:
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput) as bad:
            await property.add_company(s, name="华宇物业", estate=world.grid, party_mode="instructor")
        assert bad.value.field == "instructor"
        company = await property.add_company(
            s, name="华宇物业", estate=world.grid, party_mode="instructor", instructor="李建国"
        )
        await property.review(s, company, world.users["ann"].id, 4, quarter="2026Q3")
        await property.review(s, company, world.users["bob"].id, 2, quarter="2026Q3")
        await property.review(s, company, world.users["ann"].id, 5, quarter="2026Q4")
        with pytest.raises(Conflict, match="already reviewed"):
            await property.review(s, company, world.users["ann"].id, 1, quarter="2026Q4")
        history = await property.history(s, company.id)
        assert [(h.quarter, h.reviews, str(h.average)) for h in history] == [
            ("2026Q4", 1, "5.00"),
            ("2026Q3", 2, "3.00"),
        ]
    assert property.quarter_of(date(2026, 3, 31)) == "2026Q1" and property.quarter_of(date(2026, 4, 1)) == "2026Q2"


async def test_the_certificate_states_hours_star_and_each_activity_with_its_organiser(world: Any, app: Any) -> None:
    async with world.transaction("staff") as s:
        ann = await volunteer_of(s, app, world, "ann")
        with pytest.raises(Conflict, match="no recorded service"):
            await certificate.issue(
                s, app.state.storage, tenant=world.tenant, volunteer=ann, base_url="https://liuzhi.example.cn"
            )
        for day, minutes in ((0, 150), (3, 90)):
            act = await activity(s, world, day=day)
            await volunteers.record_service(s, act.id, ann, minutes, rule(), recorder_name="张社工")
        doc = await certificate.issue(
            s, app.state.storage, tenant=world.tenant, volunteer=ann, base_url="https://liuzhi.example.cn"
        )
        assert (await documents.verify(s, doc.verify_code)).id == doc.id
        stored = await s.scalar(select(StoredFile).where(StoredFile.id == doc.file_id))
        pdf = app.state.storage.read(stored)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = text.replace(" ", "").replace("\n", "")
    for expected in (
        "志愿服务证明",
        "志愿者ann",
        ann.number,
        "4.00",
        "双安社区居委会",
        "张社工",
        "环境清扫0",
        "特此证明",
    ):
        assert expected.replace(" ", "") in flat, expected
    assert "13912345678" not in flat
