"""People are told (issue #15): the unit's members of a new task, the reporter of acceptance and of
closure with the request to rate, supervisors of a breach, followers of an area of its new public
reports — in the bell and through the SMS/WeChat adapters (core's logging sender here). Each
change is heard after commit (core events) and sent by a job."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db.base import utcnow
from core.services.events import delivered
from core.services.jobs.runner import JobRunner
from core.services.notifications.models import InAppNotification
from core.tenancy.service import set_plugin
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category
from tests.conftest import form_post
from tests.plugins.smart_service.fixtures.district import District, build, with_levels


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    d.levels = await with_levels(d)  # type: ignore[attr-defined]
    yield d
    await d.close()


async def run_jobs(d: District) -> None:
    await delivered()
    await JobRunner(d.app.state.db, d.app.state.plugins).run_pending()


async def told(d: District, username: str) -> list[str]:
    async with d.app.state.db.session(d.tenant.id) as s:
        rows = await s.execute(
            select(InAppNotification.title)
            .where(InAppNotification.user_id == d.users[username].id)
            .order_by(InAppNotification.created_at, InAppNotification.id)
        )
        return list(rows.scalars())


async def act(d: District, event_id: int, action: str, who: str, **kw: Any) -> None:
    async with d.tx() as s:
        await sv.transition(s, event_id, action, d.users[who], app_state=d.app.state, **kw)


async def report(d: District, who: str = "resident", node: str = "g01", category: str = "SR") -> int:
    async with d.tx() as s:
        event = await sv.report_event(
            s,
            title="路灯不亮",
            category_code=category,
            node_id=d.nodes[node].id,
            source="resident",
            actor=d.users[who],
            app_state=d.app.state,
        )
        return event.id


async def test_the_unit_hears_of_a_new_task_and_the_reporter_of_acceptance_and_closure(
    district: District, caplog: Any
) -> None:
    d = district
    event_id = await report(d)
    await act(d, event_id, "accept", "community")
    await act(d, event_id, "register", "community")
    await act(d, event_id, "dispatch", "centre", unit_id=d.levels["cgj"])  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="liuzhi.notify"):
        await run_jobs(d)
    number = (await d.event(event_id)).number
    assert await told(d, "resident") == [f"Your report {number} was accepted"]
    assert await told(d, "chengguan") == [f"New task {number}: 路灯不亮"]
    assert await told(d, "chengguan2") == [f"New task {number}: 路灯不亮"]
    assert await told(d, "community") == []  # nobody is told of what they did themselves
    assert f"[sms] to user {d.users['chengguan'].id}" in caplog.text
    assert f"[wechat] to user {d.users['resident'].id}" in caplog.text

    for action in ("sign", "handle"):
        await act(d, event_id, action, "chengguan")
    async with d.tx() as s:  # the result straight to 核查通过 (photos are not this test's point)
        event = await sv.get_event(s, event_id)
        event.state = "inspected"
    await act(d, event_id, "close", "community")
    await run_jobs(d)
    assert (await told(d, "resident"))[-1] == f"Your report {number} is closed"
    async with d.app.state.db.session(d.tenant.id) as s:
        row = (
            (await s.execute(select(InAppNotification).where(InAppNotification.user_id == d.users["resident"].id)))
            .scalars()
            .all()[-1]
        )
        assert row.body == "Please rate how it was handled." and row.link == f"/smart-service/mine/{event_id}"


async def test_supervisors_hear_of_a_breach(district: District) -> None:
    d = district
    await report(d)
    async with d.tx() as s:
        await sv.escalate_breached(s, utcnow() + timedelta(days=30), app_state=d.app.state)
    await run_jobs(d)
    titles = await told(d, "officer")  # 街道干部: supervises at 元宝山街道 and below
    assert titles and titles[0].startswith("Time limit passed")
    assert await told(d, "resident") == []


async def test_followers_of_an_area_hear_of_its_new_public_reports_only(district: District) -> None:
    d = district
    neighbour = await d.client("neighbour")
    page = await neighbour.get(d.url("/smart-service/follows"))
    assert page.status_code == 200 and "第一网格" in page.text
    followed = await form_post(neighbour, d.url("/smart-service/follows"), {"node_id": str(d.nodes["g01"].id)})
    assert followed.status_code == 303
    outside = await form_post(neighbour, d.url("/smart-service/follows"), {"node_id": "999"})
    assert outside.status_code == 400 and "Choose an area to follow" in outside.text

    await report(d, "resident", "g01")
    await report(d, "stranger", "g02")  # not followed
    await run_jobs(d)
    assert await told(d, "neighbour") == ["New report in an area you follow: 路灯不亮"]

    # A category the district keeps from the public (if the category says so) is told to nobody.
    async with d.tx() as s:
        s.add(Category(code="QZ", kind="event", name_zh="群租", name_en="Group renting"))
        await s.flush()
        category = (await s.execute(select(Category).where(Category.code == "QZ"))).scalar_one()
        if not hasattr(category, "public"):
            pytest.skip("categories carry no public flag on this branch")
        category.public = False
    await report(d, "resident", "g01", "QZ")
    await run_jobs(d)
    assert len(await told(d, "neighbour")) == 1


async def test_sms_and_wechat_follow_the_district_settings(district: District, caplog: Any) -> None:
    d = district
    await set_plugin(
        d.app.state.db,
        d.app.state.plugins,
        d.tenant,
        "smart_service",
        True,
        {"notify_by_sms": False, "notify_by_wechat": False},
    )
    event_id = await report(d)
    await act(d, event_id, "accept", "community")
    with caplog.at_level(logging.INFO, logger="liuzhi.notify"):
        await run_jobs(d)
    assert len(await told(d, "resident")) == 1
    assert "[sms]" not in caplog.text and "[wechat]" not in caplog.text


async def test_the_follows_api(district: District) -> None:
    from tests.plugins.smart_service.test_queues import api_client

    d = district
    api = await api_client(d, "neighbour")
    base = d.url("/api/v1/smart-service/follows")
    made = await api.post(base, json={"node_id": d.nodes["g01"].id})
    assert made.status_code == 201 and made.json()["name"] == "第一网格"
    assert [f["name"] for f in (await api.get(base)).json()["follows"]] == ["第一网格"]
    assert (await api.post(base, json={"node_id": d.nodes["sa"].id})).status_code == 400  # above her place
    assert (await api.post(base, json=["x"])).status_code == 400
    assert (await api.delete(f"{base}/{d.nodes['g01'].id}")).status_code == 200
    assert (await api.delete(f"{base}/{d.nodes['g01'].id}")).status_code == 404
