"""服务智治 ↔ 平安法治: a dispute becomes an event and an event becomes a mediation case, linked both
ways through core events and jobs (neither pillar imports the other); with either pillar off the
action is not offered and nothing is heard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.context import Actor
from core.services.events import delivered
from core.services.jobs import JobRunner
from core.services.jobs.models import Job
from core.tenancy.service import set_plugin
from plugins.rule_of_law import screening
from plugins.rule_of_law.models import Case, Dispute
from plugins.smart_service import referrals
from plugins.smart_service.models import Category, Event, EventLink
from tests.conftest import form_post, main_text
from tests.plugins.smart_service.test_staff_pages import District, make_district


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> Any:
    d = await make_district(app, fresh_tenant)
    await set_plugin(app.state.db, app.state.plugins, fresh_tenant, "rule_of_law", True)
    async with app.state.db.transaction(fresh_tenant.id) as s:
        s.add(Category(code="ZA", kind="event", name_zh="社会治安", name_en="Public order"))
        await s.flush()
        s.add(Category(code="ZA-03", parent_code="ZA", name_zh="邻里纠纷", name_en="Neighbour dispute"))
    app.state.tenant_cache.clear()
    yield d
    for c in d.clients:
        await c.aclose()


async def settle(app: Any) -> None:
    """Deliver committed events and run the jobs they queue, until nothing is left (no sleeps)."""
    runner = JobRunner(app.state.db, app.state.plugins)
    for _ in range(6):
        await delivered()
        if not await runner.run_pending():
            await delivered()
            if not await runner.run_pending():
                return


async def hand_dispute(d: District, worker: str = "worker") -> int:
    async with d.app.state.db.transaction(d.tenant.id) as s:
        _visit, found = await screening.record_visit(
            s,
            d.nodes["g01"],
            d.users[worker],
            place="安顺乐居1号楼",
            note="",
            disputes=[screening.DisputeInput("neighbour", "high", "楼上漏水，楼下多次交涉未果", ["周文斌", "吴桂芳"])],
        )
        await screening.hand_to_event(s, found[0], Actor("user", d.users[worker], worker))
        return int(found[0].id)


async def count(d: District, stmt: Any) -> int:
    async with d.app.state.db.session(d.tenant.id) as s:
        return int(await s.scalar(stmt) or 0)


async def test_a_dispute_handed_on_becomes_one_event_and_each_page_links_to_the_other(district: District) -> None:
    d = district
    dispute_id = await hand_dispute(d)
    await settle(d.app)
    async with d.app.state.db.session(d.tenant.id) as s:
        link = (await s.execute(select(EventLink).where(EventLink.ref_id == str(dispute_id)))).scalar_one()
        event = (await s.execute(select(Event).where(Event.id == link.event_id))).scalar_one()
        dispute = await screening.get_dispute(s, dispute_id)
    assert event.category_code == "ZA-03" and event.urgency == 2  # the dispute category; high risk is urgent
    assert event.reporter_user_id == d.users["worker"] and event.source == "grid_patrol"
    assert (dispute.event_ref, dispute.event_number) == (str(event.id), event.number)
    assert link.direction == "from"

    community = await d.client("community")
    page = await community.get(d.url(f"/smart-service/events/{event.id}"))
    assert page.status_code == 200
    href = re.search(r'href="([^"]+)" data-testid="dispute-link"', page.text)
    assert href and href.group(1) == d.url(f"/rule-of-law/disputes/{dispute_id}")
    officer = await d.client("officer")
    page = await officer.get(d.url(f"/rule-of-law/disputes/{dispute_id}"))
    assert page.status_code == 200
    href = re.search(r'href="([^"]+)" data-testid="event-link">([^<]+)<', page.text)
    assert href and href.group(1) == d.url(f"/smart-service/events/{event.id}") and href.group(2) == event.number


async def test_the_same_referral_heard_twice_makes_one_event(district: District) -> None:
    d = district
    dispute_id = await hand_dispute(d)
    await settle(d.app)
    async with d.app.state.db.session(d.tenant.id) as s:
        dispute = await screening.get_dispute(s, dispute_id)
    payload = {"dispute_id": dispute_id, "number": dispute.number, "title": "x", "node_id": d.nodes["g01"].id}
    async with d.app.state.db.transaction(d.tenant.id) as s:  # a second delivery of the same announcement
        from core.services.jobs import enqueue

        await enqueue(s, d.tenant.id, referrals.FROM_DISPUTE_JOB, payload)
    await settle(d.app)
    assert await count(d, select(func.count(EventLink.id))) == 1
    assert await count(d, select(func.count(Event.id))) == 1


async def test_staff_refer_an_event_to_mediation_and_a_case_awaits_acceptance_linked_back(district: District) -> None:
    d = district
    event_id = await d.report()
    community = await d.client("community")
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    assert "Refer to people's mediation" in main_text(page.text)
    r = await form_post(
        community, d.url(f"/smart-service/events/{event_id}/refer-mediation"), {"note": "双方争执，建议调解"}
    )
    assert r.status_code == 303
    await settle(d.app)
    async with d.app.state.db.session(d.tenant.id) as s:
        dispute = (await s.execute(select(Dispute).where(Dispute.event_ref == str(event_id)))).scalar_one()
        case = (await s.execute(select(Case).where(Case.id == dispute.case_id))).scalar_one()
        link = (await s.execute(select(EventLink).where(EventLink.event_id == event_id))).scalar_one()
        event = await s.get(Event, (d.tenant.id, event_id))
    assert dispute.status == "mediation" and case.state == "pending" and "建议调解" in dispute.summary
    assert (link.direction, link.ref_id, link.ref_number) == ("to", str(dispute.id), dispute.number)
    assert event is not None and event.state == "reported"  # the event's own loop goes on

    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    text = main_text(page.text)
    assert dispute.number in text and "Refer to people's mediation" not in text  # offered once
    r = await form_post(community, d.url(f"/smart-service/events/{event_id}/refer-mediation"), {"note": ""})
    assert r.status_code == 409 and "already" in main_text(r.text)
    officer = await d.client("officer")
    page = await officer.get(d.url(f"/rule-of-law/disputes/{dispute.id}"))
    assert f'href="{d.url(f"/smart-service/events/{event_id}")}" data-testid="event-link"' in page.text
    await settle(d.app)
    assert await count(d, select(func.count(Dispute.id))) == 1


async def test_with_mediation_off_the_referral_is_not_offered_and_answers_404(district: District) -> None:
    d = district
    await set_plugin(d.app.state.db, d.app.state.plugins, d.tenant, "rule_of_law", False)
    d.app.state.tenant_cache.clear()
    event_id = await d.report()
    community = await d.client("community")
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    assert page.status_code == 200 and "refer-mediation" not in page.text
    r = await form_post(community, d.url(f"/smart-service/events/{event_id}/refer-mediation"), {"note": "x"})
    assert r.status_code == 404


async def test_with_smart_service_off_a_dispute_handed_on_waits_and_no_event_is_made(district: District) -> None:
    d = district
    await set_plugin(d.app.state.db, d.app.state.plugins, d.tenant, "smart_service", False)
    d.app.state.tenant_cache.clear()
    dispute_id = await hand_dispute(d)
    await settle(d.app)
    async with d.app.state.db.session(d.tenant.id) as s:
        dispute = await screening.get_dispute(s, dispute_id)
    assert dispute.status == "event" and dispute.event_ref is None
    assert await count(d, select(func.count(Event.id))) == 0
    async with d.app.state.db.session(None) as s:
        queued = await s.scalar(
            select(func.count(Job.id)).where(Job.tenant_id == d.tenant.id, Job.name.like("smart_service.referral%"))
        )
    assert queued == 0
    officer = await d.client("officer")
    page = await officer.get(d.url(f"/rule-of-law/disputes/{dispute_id}"))
    assert page.status_code == 200 and "event-link" not in page.text
