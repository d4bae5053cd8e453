"""Residents and grid workers on their phones: 随手拍 with a photo (located, stripped), 我也遇到,
following one's own reports, rating after closing; a grid worker signs, handles, returns; photos
are shown only to who may see the event."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update

from core.services.files.models import StoredFile
from plugins.smart_service import photos as ph
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category, Event
from tests.conftest import csrf_of, main_text
from tests.plugins.smart_service.fixtures.district import HERE, District, build
from tests.plugins.smart_service.fixtures.images import GPS, phone_jpeg


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    yield d
    await d.close()


async def report(
    d: District, client: httpx.AsyncClient, photos: list[tuple[str, bytes]] = (), **fields: Any
) -> httpx.Response:  # type: ignore[assignment]
    data = {"_csrf_token": csrf_of(client), "category": "SR", "description": "小区门口垃圾堆积", **fields}
    files = [("photos", (name, body, "image/jpeg")) for name, body in photos]
    return await client.post(d.url("/smart-service/report"), data=data, files=files or None)


async def latest_of(d: District, username: str) -> Event:
    async with d.app.state.db.session(d.tenant.id) as s:
        row = await s.scalar(
            select(Event).where(Event.reporter_user_id == d.users[username].id).order_by(Event.created_at.desc())
        )
        assert row is not None
        return row


async def test_a_resident_reports_with_a_photo_whose_location_is_read_and_whose_metadata_is_gone(
    district: District,
) -> None:
    d = district
    me = await d.client("resident")
    page = await me.get(d.url("/smart-service/report"))
    assert page.status_code == 200 and "Exposed rubbish" in page.text and 'type="file"' in page.text

    r = await report(d, me, [("IMG_0001.JPG", phone_jpeg())])
    assert r.status_code == 303, main_text(r.text)
    event = await latest_of(d, "resident")
    assert r.headers["location"] == d.url(f"/smart-service/mine/{event.id}")
    assert (float(event.lon), float(event.lat)) == pytest.approx(GPS, abs=1e-6)  # from the photo
    assert event.node_id == d.nodes["g01"].id  # the resident's own grid, by default
    assert event.source == "resident"

    async with d.app.state.db.session(d.tenant.id) as s:
        line = (await sv.timeline(s, event.id))[0]
    photo = await me.get(d.url(f"/files/{line.photos[0]}"))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert b"PhoneMaker" not in photo.content and ph.read_gps(photo.content) is None
    assert dict(Image.open(io.BytesIO(photo.content)).getexif()) == {}

    mine = await me.get(d.url("/smart-service/mine"))
    assert event.number in main_text(mine.text) and "Submitted" in main_text(mine.text)  # resident words
    detail = await me.get(d.url(f"/smart-service/mine/{event.id}"))
    assert detail.status_code == 200
    assert event.number in detail.text and "/files/" in detail.text


async def test_the_location_typed_on_the_page_wins_over_the_photos(district: District) -> None:
    d = district
    me = await d.client("resident")
    r = await report(d, me, [("a.jpg", phone_jpeg())], lon=str(HERE[0]), lat=str(HERE[1]))
    assert r.status_code == 303
    event = await latest_of(d, "resident")
    assert (float(event.lon), float(event.lat)) == pytest.approx(HERE)


async def test_a_report_with_a_file_that_is_not_a_photo_is_refused_with_its_name(district: District) -> None:
    d = district
    me = await d.client("resident")
    r = await report(d, me, [("evil.jpg", b"<script>alert(1)</script>")])
    assert r.status_code == 400
    assert "evil.jpg" in main_text(r.text)
    assert "小区门口垃圾堆积" in r.text  # what was typed is kept
    async with d.app.state.db.session(d.tenant.id) as s:
        assert await s.scalar(select(Event.id)) is None
        assert await s.scalar(select(StoredFile.id)) is None


async def test_seven_photos_are_refused_with_a_clear_message(district: District) -> None:
    d = district
    me = await d.client("resident")
    r = await report(d, me, [(f"{i}.jpg", phone_jpeg(40, 20)) for i in range(7)])
    assert r.status_code == 400 and "6" in main_text(r.text)


async def test_an_open_report_nearby_is_offered_and_me_too_counts_one_more(district: District) -> None:
    d = district
    first = await d.client("resident")
    assert (await report(d, first, lon=str(HERE[0]), lat=str(HERE[1]))).status_code == 303
    event = await latest_of(d, "resident")

    other = await d.client("neighbour")
    offered = await other.post(
        d.url("/smart-service/report/nearby"),
        data={"category": "SR", "lon": "117.8010", "lat": "40.9505"},  # ~100 m away
        headers={"HX-Request": "true", "X-CSRFToken": csrf_of(other) or (await _csrf(d, other))},
    )
    assert offered.status_code == 200
    assert event.title in offered.text and "me-too" in offered.text
    far = await other.post(
        d.url("/smart-service/report/nearby"),
        data={"category": "SR", "lon": "117.8200", "lat": "40.9500"},  # ~1.7 km away
        headers={"HX-Request": "true", "X-CSRFToken": csrf_of(other)},
    )
    assert event.title not in far.text
    async with d.tx() as s:  # a category the district keeps off public outputs: not shown to others
        await s.execute(update(Category).where(Category.code == "SR").values(public=False))
    hidden = await other.post(
        d.url("/smart-service/report/nearby"),
        data={"category": "SR", "lon": "117.8010", "lat": "40.9505"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_of(other)},
    )
    assert hidden.status_code == 200 and event.title not in hidden.text
    async with d.tx() as s:
        await s.execute(update(Category).where(Category.code == "SR").values(public=True))

    joined = await other.post(d.url(f"/smart-service/events/{event.id}/me-too"), data={"_csrf_token": csrf_of(other)})
    assert joined.status_code == 200 and event.number in main_text(joined.text)
    again = await other.post(d.url(f"/smart-service/events/{event.id}/me-too"), data={"_csrf_token": csrf_of(other)})
    assert again.status_code == 200
    assert (await d.event(event.id)).me_too_count == 1  # once per person


async def _csrf(d: District, client: httpx.AsyncClient) -> str:
    await client.get(d.url("/smart-service/report"))
    return csrf_of(client)


async def test_another_resident_cannot_open_my_report_nor_its_photos(district: District) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me, [("a.jpg", phone_jpeg())])).status_code == 303
    event = await latest_of(d, "resident")
    async with d.app.state.db.session(d.tenant.id) as s:
        photo_id = (await sv.timeline(s, event.id))[0].photos[0]
        thumb_id = (await ph.thumbnails(s, [photo_id]))[photo_id]

    stranger = await d.client("stranger")
    assert (await stranger.get(d.url(f"/smart-service/mine/{event.id}"))).status_code == 404
    assert (await stranger.get(d.url(f"/files/{photo_id}"))).status_code == 404
    assert (await stranger.get(d.url(f"/files/{thumb_id}"))).status_code == 404
    assert event.number not in (await stranger.get(d.url("/smart-service/mine"))).text
    # Staff whose scope covers the event see it; the reporter sees the thumbnail too.
    community = await d.client("community")
    assert (await community.get(d.url(f"/files/{photo_id}"))).status_code == 200
    assert (await me.get(d.url(f"/files/{thumb_id}"))).status_code == 200


async def test_a_photo_is_not_served_in_another_district(district: District, as_resident: httpx.AsyncClient) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me, [("a.jpg", phone_jpeg())])).status_code == 303
    event = await latest_of(d, "resident")
    async with d.app.state.db.session(d.tenant.id) as s:
        photo_id = (await sv.timeline(s, event.id))[0].photos[0]
    assert (await as_resident.get(f"/t/shuangluan/files/{photo_id}")).status_code == 404


async def test_rating_is_offered_only_after_closing_and_counts_once(district: District) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me)).status_code == 303
    event = await latest_of(d, "resident")
    page = await me.get(d.url(f"/smart-service/mine/{event.id}"))
    assert "rate-form" not in page.text
    early = await me.post(
        d.url(f"/smart-service/mine/{event.id}/rate"), data={"_csrf_token": csrf_of(me), "rating": "5"}
    )
    assert early.status_code == 400 and "lz-alert" in early.text

    await d.to_worker(event.id)
    await d.act(event.id, "sign", "worker")
    await d.act(event.id, "handle", "worker")
    async with d.tx() as s:
        stored = await ph.store_photos(
            d.app.state,
            s,
            d.tenant.id,
            [("after.jpg", phone_jpeg())],
            event_id=event.id,
            kind="after",
            uploaded_by=d.users["worker"].id,
        )
        await sv.transition(s, event.id, "feedback", d.users["worker"], note="内部：已清运", photos=stored.ids)
    for action in ("inspect", "pass", "close"):
        await d.act(event.id, action, "community")
    async with d.tx() as s:
        await sv.publish_note(s, event.id, d.users["community"], "已清运")

    page = await me.get(d.url(f"/smart-service/mine/{event.id}"))
    text = main_text(page.text)
    # The note written for residents, not the worker's own (publicity.py).
    assert "rate-form" in page.text and "已清运" in text and "内部" not in text
    rated = await me.post(
        d.url(f"/smart-service/mine/{event.id}/rate"),
        data={"_csrf_token": csrf_of(me), "rating": "4", "comment": "挺快"},
    )
    assert rated.status_code == 303
    page = await me.get(d.url(f"/smart-service/mine/{event.id}"))
    assert "★★★★☆" in page.text and "挺快" in page.text and "rate-form" not in page.text
    assert (await d.event(event.id)).rating == 4


async def test_the_residents_timeline_leaves_out_staff_internal_notes(district: District) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me)).status_code == 303
    event = await latest_of(d, "resident")
    await d.to_worker(event.id)
    await d.act(event.id, "return", "worker", note="内部：不是我们网格的")
    page = await me.get(d.url(f"/smart-service/mine/{event.id}"))
    assert page.status_code == 200
    assert "不是我们网格的" not in page.text


async def test_a_grid_worker_signs_handles_and_reports_the_result_with_before_and_after_photos(
    district: District,
) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me)).status_code == 303
    event = await latest_of(d, "resident")
    await d.to_worker(event.id)

    worker = await d.client("worker")
    tasks = await worker.get(d.url("/smart-service/tasks"))
    assert tasks.status_code == 200 and event.number in tasks.text
    page = await worker.get(d.url(f"/smart-service/tasks/{event.id}"))
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]

    signed = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/sign"), data={"_csrf_token": csrf_of(worker), "version": version}
    )
    assert signed.status_code == 303
    stale = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/handle"), data={"_csrf_token": csrf_of(worker), "version": version}
    )
    assert stale.status_code == 400 and "changed by someone else" in main_text(stale.text)
    current = str((await d.event(event.id)).version)
    started = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/handle"), data={"_csrf_token": csrf_of(worker), "version": current}
    )
    assert started.status_code == 303
    assert (await d.event(event.id)).state == "handling"

    no_photo = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/feedback"),
        data={"_csrf_token": csrf_of(worker), "note": "已清运"},
        files=[("after", ("", b"", "application/octet-stream"))],
    )
    assert no_photo.status_code == 400 and "photo of the result" in main_text(no_photo.text)

    done = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/feedback"),
        data={"_csrf_token": csrf_of(worker), "note": "已清运"},
        files=[("before", ("b.jpg", phone_jpeg(), "image/jpeg")), ("after", ("a.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert done.status_code == 303
    assert (await d.event(event.id)).state == "feedback"
    page = await worker.get(d.url(f"/smart-service/tasks/{event.id}"))
    assert page.text.count("/files/") >= 4  # before and after, each a thumbnail linking the photo
    async with d.app.state.db.session(d.tenant.id) as s:
        line = (await sv.timeline(s, event.id))[-1]
        kinds = [ph.kind_of(row) for row in (await ph.photos_by_id(s, line.photos)).values()]
    assert sorted(kinds) == ["after", "before"]


async def test_a_grid_worker_returns_a_case_with_a_reason_and_it_leaves_their_list(district: District) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me)).status_code == 303
    event = await latest_of(d, "resident")
    await d.to_worker(event.id)
    worker = await d.client("worker")
    no_reason = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/return"), data={"_csrf_token": csrf_of(worker)}
    )
    assert no_reason.status_code == 400 and "lz-alert" in no_reason.text
    returned = await worker.post(
        d.url(f"/smart-service/tasks/{event.id}/return"), data={"_csrf_token": csrf_of(worker), "note": "不属于本网格"}
    )
    assert returned.status_code == 303
    assert (await d.event(event.id)).state == "registered"
    assert event.number not in (await worker.get(d.url("/smart-service/tasks"))).text
    assert (await worker.get(d.url(f"/smart-service/tasks/{event.id}"))).status_code == 404


async def test_a_grid_worker_reports_what_they_find_on_patrol(district: District) -> None:
    d = district
    worker = await d.client("worker")
    form = await worker.get(d.url("/smart-service/report?source=grid_patrol"))
    assert 'value="grid_patrol"' in form.text
    r = await report(d, worker, source="grid_patrol")
    assert r.status_code == 303 and r.headers["location"] == d.url("/smart-service/tasks")
    assert (await latest_of(d, "worker")).source == "grid_patrol"
    # A resident cannot pass as a patrol.
    me = await d.client("resident")
    assert (await report(d, me, source="grid_patrol")).status_code == 303
    assert (await latest_of(d, "resident")).source == "resident"


async def test_a_resident_has_no_task_list(district: District) -> None:
    me = await district.client("resident")
    assert (await me.get(district.url("/smart-service/tasks"))).status_code == 403
