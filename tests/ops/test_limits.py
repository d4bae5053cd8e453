"""Per-tenant limits answer 429/413 with the documented bodies and write nothing; the operator
sees each district's usage and sets its limits on the platform pages."""

from __future__ import annotations

import io
import random
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import delete, func, select

from core.db.base import new_id
from core.ops.settings import MB
from core.services.files.models import StoredFile
from core.tenancy.models import Tenant
from plugins.smart_service.models import Event
from tests.conftest import csrf_of, main_text
from tests.plugins.smart_service.fixtures.district import District, build
from tests.plugins.smart_service.fixtures.images import phone_jpeg
from tests.plugins.smart_service.test_api import api_client
from tests.plugins.smart_service.test_open311 import IN_GRID, KEY
from tests.plugins.smart_service.test_open311 import district as open311_district  # noqa: F401

EN = {"Accept-Language": "en"}


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    yield d
    await d.close()


async def set_limits(app: Any, tenant_id: int, **limits: int) -> None:
    async with app.state.db.transaction(None) as s:
        (await s.get(Tenant, tenant_id)).limits = limits
    app.state.tenant_cache.clear()


def early_in_a_minute() -> float:
    """Windows are calendar minutes: a moment at the start of this one, so that a burst counted
    there never straddles two windows (the limiter's clock stays on it; nobody waits)."""
    return time.time() // 60 * 60 + 1


@pytest.fixture
def still_clock(app: Any, monkeypatch: Any) -> float:
    """The app's rate limiter sees one moment early in a minute for the whole test."""
    at = early_in_a_minute()
    monkeypatch.setattr(app.state.ops.limiter, "clock", lambda: at)
    return at


async def count(app: Any, tenant_id: int, model: Any) -> int:
    async with app.state.db.session(tenant_id) as s:
        return int(await s.scalar(select(func.count(model.id))) or 0)


async def test_an_api_token_over_its_limit_gets_429_with_retry_after_and_nothing_is_written(
    district: District, still_clock: float
) -> None:
    d = district
    await set_limits(d.app, d.tenant.id, api_per_minute=3)
    api = await api_client(d, "resident")
    other = await api_client(d, "resident")  # the limit is per token
    base = d.url("/api/v1/smart-service")
    for _ in range(3):
        assert (await api.get(f"{base}/reports")).status_code == 200
    events = await count(d.app, d.tenant.id, Event)
    refused = await api.post(f"{base}/reports", json={"category": "SR", "description": "楼道堆物"})
    assert refused.status_code == 429
    retry = int(refused.headers["retry-after"])
    assert retry == 59  # seconds from the limiter's moment to the next minute
    body = refused.json()
    assert body["status_code"] == 429
    assert body["retry_after"] == retry
    assert "at most 3 per minute" in body["detail"] or "3" in body["detail"]
    assert body["request_id"] == refused.headers["x-request-id"]
    assert await count(d.app, d.tenant.id, Event) == events  # nothing written
    assert (await other.get(f"{base}/reports")).status_code == 200


async def test_an_open311_key_over_its_limit_gets_429_in_the_open311_format(
    app: Any,
    open311_district: Any,  # noqa: F811
    still_clock: float,
) -> None:
    d = open311_district
    await set_limits(app, d.tenant_id, open311_per_minute=2)
    for _ in range(2):
        await d.report()
    events = await count(app, d.tenant_id, Event)
    fields = {"api_key": KEY, "service_code": "SR-01", "lat": IN_GRID[0], "long": IN_GRID[1], "description": "垃圾"}
    refused = await d.post("json", **fields)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 59
    [error] = refused.json()
    assert error["code"] == 429 and ("per minute" in error["description"] or "每分钟" in error["description"])
    xml = await d.post("xml", **fields)
    assert xml.status_code == 429 and b"<errors>" in xml.content
    assert await count(app, d.tenant_id, Event) == events


@pytest.fixture
async def full_storage(district: District) -> AsyncIterator[District]:
    """The district's quota (1 MB) taken up by one stored file's row."""
    d = district
    await set_limits(d.app, d.tenant.id, storage_quota_mb=1)
    filler = new_id()
    async with d.tx() as s:
        s.add(
            StoredFile(
                id=filler,
                owner_type="test.filler",
                filename="big.bin",
                content_type="application/octet-stream",
                size=MB,
                sha256="0" * 64,
                storage_key=f"t{d.tenant.id}/00/{filler}",
            )
        )
    yield d
    async with d.tx() as s:
        await s.execute(delete(StoredFile).where(StoredFile.id == filler))


def files_on_disk(app: Any, tenant_id: int) -> set[str]:
    root = app.state.settings.data_dir / "files" / f"t{tenant_id}"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def test_a_full_quota_says_so_on_the_upload_form_and_a_report_with_a_photo_answers_413(
    full_storage: District,
) -> None:
    d = full_storage
    web = await d.client("resident")
    web.headers.update(EN)
    form = await web.get(d.url("/smart-service/report"))
    assert form.status_code == 200
    assert "file storage is full" in main_text(form.text)
    before_files, before_rows = files_on_disk(d.app, d.tenant.id), await count(d.app, d.tenant.id, StoredFile)
    events = await count(d.app, d.tenant.id, Event)
    r = await web.post(
        d.url("/smart-service/report"),
        data={"_csrf_token": csrf_of(web), "category": "SR", "description": "楼道堆物", "source": "resident"},
        files=[("photos", ("p.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert r.status_code == 413
    assert "storage is full" in main_text(r.text) and "nothing was saved" in main_text(r.text)
    api = await api_client(d, "resident")
    r = await api.post(
        d.url("/api/v1/smart-service/reports"),
        data={"category": "SR", "description": "楼道堆物"},
        files=[("photos", ("p.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert r.status_code == 413
    assert r.json()["status_code"] == 413 and "storage is full" in r.json()["detail"]
    assert await count(d.app, d.tenant.id, Event) == events
    assert await count(d.app, d.tenant.id, StoredFile) == before_rows
    assert files_on_disk(d.app, d.tenant.id) == before_files
    # Without a photo a report still goes through.
    ok = await api.post(d.url("/api/v1/smart-service/reports"), json={"category": "SR", "description": "楼道堆物"})
    assert ok.status_code == 201, ok.text


def noisy_png(side: int = 1600) -> bytes:
    rng = random.Random(7)
    img = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


async def test_a_file_over_the_districts_upload_size_answers_413_and_stores_nothing(district: District) -> None:
    d = district
    await set_limits(d.app, d.tenant.id, upload_mb=1)
    api = await api_client(d, "resident")
    rows, events = await count(d.app, d.tenant.id, StoredFile), await count(d.app, d.tenant.id, Event)
    r = await api.post(
        d.url("/api/v1/smart-service/reports"),
        data={"category": "SR", "description": "楼道堆物"},
        files=[("photos", ("noise.png", noisy_png(), "image/png"))],
        headers=EN,
    )
    assert r.status_code == 413, r.text
    assert "at most 1 MB" in r.json()["detail"]
    assert (await count(d.app, d.tenant.id, StoredFile), await count(d.app, d.tenant.id, Event)) == (rows, events)


# ---- the operator's pages -------------------------------------------------------------------


async def test_the_operator_sees_usage_per_district_with_requests_and_plugin_figures(
    app: Any, as_operator: httpx.AsyncClient
) -> None:
    as_operator.headers.update(EN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 1)), base_url="http://localhost"
    ) as visitor:
        for _ in range(5):
            await visitor.get("/t/luanping/login")
    await app.state.ops.usage.flush()
    listing = await as_operator.get("/platform/")
    assert listing.status_code == 200
    assert 'href="/platform/tenants/luanping"' in listing.text
    page = await as_operator.get("/platform/tenants/luanping")
    assert page.status_code == 200
    text = main_text(page.text)
    assert "Requests today" in text
    requests_today = int(page.text.split('data-figure="requests">')[1].split("<")[0])
    assert requests_today >= 5
    assert "<svg" in page.text  # requests per day as bars
    assert "Events reported" in text  # smart_service's usage_figures
    shuangluan = main_text((await as_operator.get("/platform/tenants/shuangluan")).text)
    assert "Residents" in shuangluan and "Background jobs" in shuangluan
    assert (await as_operator.get("/platform/tenants/no-such-place")).status_code == 404


async def test_the_operator_sets_limits_bad_values_are_refused_on_the_form(
    app: Any, as_operator: httpx.AsyncClient, fresh_tenant: Any
) -> None:
    as_operator.headers.update(EN)
    url = f"/platform/tenants/{fresh_tenant.slug}/limits"
    await as_operator.get(f"/platform/tenants/{fresh_tenant.slug}")
    bad = await as_operator.post(url, data={"_csrf_token": csrf_of(as_operator), "api_per_minute": "lots"})
    assert bad.status_code == 400
    assert "whole number" in main_text(bad.text)
    async with app.state.db.session(None) as s:
        assert (await s.get(Tenant, fresh_tenant.id)).limits == {}
    ok = await as_operator.post(
        url, data={"_csrf_token": csrf_of(as_operator), "api_per_minute": "30", "storage_quota_mb": "500"}
    )
    assert ok.status_code == 303
    async with app.state.db.session(None) as s:
        assert (await s.get(Tenant, fresh_tenant.id)).limits == {"api_per_minute": 30, "storage_quota_mb": 500}
    page = await as_operator.get(ok.headers["location"])
    assert "Limits saved" in page.text and 'value="30"' in page.text
    # Without an operator's session the form is not reachable.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as stranger:
        refused = await stranger.get(f"/platform/tenants/{fresh_tenant.slug}")
        assert refused.status_code == 302 and refused.headers["location"].startswith("/platform/login")


async def test_the_rate_limiter_counts_in_redis_across_limiters_and_in_the_process_when_redis_is_away() -> None:
    import os

    from core.ops.limits import RateLimiter

    url = os.environ.get("LIUZHI_TEST_REDIS_URL")
    now = [early_in_a_minute()]
    if url:
        key = "test:" + secrets.token_hex(4)
        # two processes' limiters share the count
        one, two = RateLimiter(url, clock=lambda: now[0]), RateLimiter(url, clock=lambda: now[0])
        try:
            assert [await one.hit(key, 3), await two.hit(key, 3), await one.hit(key, 3)] == [0, 0, 0]
            assert await two.hit(key, 3) == 59
            now[0] += 59  # the next minute: a new window
            assert await two.hit(key, 3) == 0
        finally:
            await one.close()
            await two.close()
    now[0] = early_in_a_minute()
    away = RateLimiter("redis://127.0.0.1:1/0", clock=lambda: now[0])  # nothing listens there
    try:
        assert [await away.hit("k", 1), await away.hit("k", 1)] == [0, 59]
        now[0] += 59
        assert await away.hit("k", 1) == 0
    finally:
        await away.close()
