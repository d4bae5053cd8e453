"""The mini-program's JSON API: bearer tokens only, reports with photos (multipart) or without
(JSON), my reports and their timeline, 我也遇到, rating after closing, errors as JSON messages."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.identity.models import ApiToken
from core.web.context import hash_token
from plugins.smart_service import photos as ph
from plugins.smart_service import services as sv
from tests.conftest import make_client
from tests.plugins.smart_service.fixtures.district import HERE, District, build
from tests.plugins.smart_service.fixtures.images import GPS, phone_jpeg


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    yield d
    await d.close()


async def api_client(d: District, username: str) -> httpx.AsyncClient:
    raw = "lz_" + secrets.token_urlsafe(24)
    async with d.tx() as s:
        s.add(ApiToken(user_id=d.users[username].id, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(d.app)
    client.headers["Authorization"] = f"Bearer {raw}"
    d.clients.append(client)
    return client


async def test_the_api_round_trip_report_with_a_photo_list_timeline_and_rate_after_closing(district: District) -> None:
    d = district
    api = await api_client(d, "resident")
    base = d.url("/api/v1/smart-service")

    cats = await api.get(f"{base}/categories")
    assert cats.status_code == 200
    assert cats.json()["categories"] == [{"code": "SR", "parent": None, "kind": "event", "name": "Exposed rubbish"}]

    created = await api.post(
        f"{base}/reports",
        data={"category": "SR", "description": "楼道堆物"},
        files=[("photos", ("p.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert created.status_code == 201, created.text
    report = created.json()
    assert (report["lon"], report["lat"]) == pytest.approx(GPS, abs=1e-6)
    assert report["state"] == "reported"
    number = report["number"]

    mine = (await api.get(f"{base}/reports")).json()
    assert [r["number"] for r in mine["reports"]] == [number] and mine["total"] == 1
    one = (await api.get(f"{base}/reports/{number}")).json()
    assert one["description"] == "楼道堆物" and one["timeline"][0]["action"] == "report"
    photo_url = one["timeline"][0]["photos"][0]
    photo = await api.get(photo_url)
    assert photo.status_code == 200 and ph.read_gps(photo.content) is None

    early = await api.post(f"{base}/reports/{number}/rate", json={"rating": 5})
    assert early.status_code == 409
    assert early.json() == {"status_code": 409, "detail": "A report can be rated once it is closed."}

    event = await d.event(number)
    await d.to_worker(event.id)
    for action in ("sign", "handle"):
        await d.act(event.id, action, "worker")
    async with d.tx() as s:
        stored = await ph.store_photos(
            d.app.state,
            s,
            d.tenant.id,
            [phone_jpeg()],
            event_id=event.id,
            kind="after",
            uploaded_by=d.users["worker"].id,
        )
        await sv.transition(s, event.id, "feedback", d.users["worker"], note="已清理", photos=stored.ids)
    for action in ("inspect", "pass", "close"):
        await d.act(event.id, action, "community")

    bad = await api.post(f"{base}/reports/{number}/rate", json={"rating": 9})
    assert bad.status_code == 400 and "1 to 5" in bad.json()["detail"]
    rated = await api.post(f"{base}/reports/{number}/rate", json={"rating": 5, "comment": "满意"})
    assert rated.status_code == 200 and rated.json()["rating"] == 5 and rated.json()["state"] == "closed"


async def test_a_json_report_without_photos_and_me_too_from_a_neighbour(district: District) -> None:
    d = district
    base = d.url("/api/v1/smart-service")
    mine = await api_client(d, "resident")
    created = await mine.post(f"{base}/reports", json={"category": "SR", "lon": HERE[0], "lat": HERE[1]})
    assert created.status_code == 201, created.text
    number = created.json()["number"]

    neighbour = await api_client(d, "neighbour")
    near = await neighbour.get(f"{base}/nearby", params={"category": "SR", "lon": "117.8005", "lat": "40.9502"})
    assert [r["number"] for r in near.json()["reports"]] == [number]
    joined = await neighbour.post(f"{base}/reports/{number}/me-too")
    assert joined.json() == {"number": number, "me_too_count": 1, "counted": True}
    again = await neighbour.post(f"{base}/reports/{number}/me-too")
    assert again.json()["counted"] is False and again.json()["me_too_count"] == 1
    # It is still not the neighbour's report to follow.
    other = await neighbour.get(f"{base}/reports/{number}")
    assert other.status_code == 404 and number in other.json()["detail"]


async def test_api_errors_are_json_with_clear_messages(district: District) -> None:
    d = district
    base = d.url("/api/v1/smart-service")
    api = await api_client(d, "resident")
    no_category = await api.post(f"{base}/reports", json={"description": "x"})
    assert no_category.status_code == 400 and no_category.json() == {"status_code": 400, "detail": "Choose a category."}
    half = await api.post(f"{base}/reports", json={"category": "SR", "lon": "117.8"})
    assert half.status_code == 400 and "longitude and latitude" in half.json()["detail"]
    not_photo = await api.post(
        f"{base}/reports", data={"category": "SR"}, files=[("photos", ("x.jpg", b"GIF89a...", "image/jpeg"))]
    )
    assert not_photo.status_code == 400 and "x.jpg" in not_photo.json()["detail"]
    missing = await api.get(f"{base}/reports/SL-19990101-0001")
    assert missing.status_code == 404 and missing.json()["status_code"] == 404


async def test_the_api_takes_bearer_tokens_only_not_a_browser_session(district: District) -> None:
    d = district
    base = d.url("/api/v1/smart-service")
    browser = await d.client("resident")  # signed in with a cookie
    r = await browser.get(f"{base}/reports")
    assert r.status_code == 401 and r.json()["status_code"] == 401
    anonymous = make_client(d.app)
    d.clients.append(anonymous)
    anonymous.headers["Authorization"] = "Bearer not-a-token"
    assert (await anonymous.get(f"{base}/categories")).status_code == 401
    worker_only = await api_client(d, "worker")  # a grid worker may report too
    assert (await worker_only.get(f"{base}/categories")).status_code == 200
