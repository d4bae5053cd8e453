"""自处置 (issue #15): a grid worker who fixes a small thing on patrol records it found-and-handled
in one step with before and after photos; the case is closed at once, its source says so, and the
indicators can count such cases by that source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from plugins.smart_service import services as sv
from plugins.smart_service.models import ON_THE_SPOT, Event
from tests.plugins.smart_service.fixtures.district import District, build
from tests.plugins.smart_service.fixtures.images import phone_jpeg


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    yield d
    await d.close()


def photo(name: str) -> tuple[str, tuple[str, bytes, str]]:
    return name.split(".")[0], (name, phone_jpeg(), "image/jpeg")


async def test_a_grid_worker_records_a_fix_on_the_spot_in_one_step(district: District) -> None:
    d = district
    worker = await d.client("worker")
    form = await worker.get(d.url("/smart-service/on-the-spot"))
    assert form.status_code == 200 and 'name="after"' in form.text
    sent = await worker.post(
        d.url("/smart-service/on-the-spot"),
        data={
            "_csrf_token": worker.cookies.get("liuzhi_csrf"),
            "category": "SR",
            "description": "绿化带内散落垃圾",
            "note": "已当场清理",
            "node_id": str(d.nodes["g01"].id),
        },
        files=[photo("before.jpg"), photo("after.jpg")],
    )
    assert sent.status_code == 303, sent.text[:400]
    event_id = int(sent.headers["location"].rsplit("/", 1)[1])
    event = await d.event(event_id)
    assert event.state == "closed" and event.source == ON_THE_SPOT and event.closed_at is not None
    assert event.assignee_user_id == d.users["worker"].id and event.handling_unit_id == d.unit_id
    async with d.app.state.db.session(d.tenant.id) as s:
        lines = await sv.timeline(s, event_id)
        assert [line.action for line in lines] == ["report", "handle_on_spot"]
        assert len(lines[0].photos) == 1 and len(lines[1].photos) == 1 and lines[1].note == "已当场清理"
        # What an indicator counts: cases found and handled on the spot, by source.
        assert await s.scalar(select(func.count(Event.id)).where(Event.source == ON_THE_SPOT)) == 1
    page = await worker.get(d.url(f"/smart-service/tasks/{event_id}"))
    assert page.status_code == 200 and "Handled on the spot" in page.text


async def test_without_an_after_photo_nothing_is_recorded(district: District) -> None:
    d = district
    worker = await d.client("worker")
    refused = await worker.post(
        d.url("/smart-service/on-the-spot"),
        data={"_csrf_token": worker.cookies.get("liuzhi_csrf"), "category": "SR", "node_id": str(d.nodes["g01"].id)},
        files=[photo("before.jpg")],
    )
    assert refused.status_code == 400 and "photo of the result" in refused.text
    no_category = await worker.post(
        d.url("/smart-service/on-the-spot"),
        data={"_csrf_token": worker.cookies.get("liuzhi_csrf"), "category": "", "node_id": str(d.nodes["g01"].id)},
        files=[photo("after.jpg")],
    )
    assert no_category.status_code == 400 and "Choose a category" in no_category.text
    elsewhere = await worker.post(
        d.url("/smart-service/on-the-spot"),
        data={"_csrf_token": worker.cookies.get("liuzhi_csrf"), "category": "SR", "node_id": str(d.nodes["g02"].id)},
        files=[photo("after.jpg")],
    )
    assert elsewhere.status_code == 400 and "Choose where the problem is" in elsewhere.text
    async with d.app.state.db.session(d.tenant.id) as s:
        assert await s.scalar(select(func.count(Event.id))) == 0
    resident = await d.client("resident")
    assert (await resident.get(d.url("/smart-service/on-the-spot"))).status_code == 403


async def test_the_api_records_a_fix_on_the_spot(district: District) -> None:
    from tests.plugins.smart_service.test_queues import api_client

    d = district
    api = await api_client(d, "worker")
    made = await api.post(
        d.url("/api/v1/smart-service/on-the-spot"),
        data={"category": "SR", "description": "井盖松动已加固", "node_id": str(d.nodes["g01"].id)},
        files=[photo("after.jpg")],
    )
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "closed" and made.json()["source"] == ON_THE_SPOT
    json_body = await api.post(d.url("/api/v1/smart-service/on-the-spot"), json={"category": "SR"})
    assert json_body.status_code == 400
