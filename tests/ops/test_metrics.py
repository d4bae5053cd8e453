"""/metrics: who may scrape, what a request adds, and the figures read at scrape time."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.app import create_app
from core.ops.settings import parse_networks
from core.services.jobs.runner import enqueue
from tests.conftest import make_client, start_app


def samples(text: str, name: str) -> list[Any]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


def value(text: str, name: str, **labels: str) -> float:
    return sum(s.value for s in samples(text, name) if all(s.labels.get(k) == v for k, v in labels.items()))


@pytest.fixture
async def app_with(migrated: Any) -> Any:
    """``await app_with(metrics_token=…)`` → a started app with those ops settings."""
    stacks = []

    async def make(**ops: Any) -> Any:
        application = create_app(replace(migrated, ops=replace(migrated.ops, **ops)))
        stacks.append(await start_app(application))
        return application

    yield make
    for stack in stacks:
        await stack.aclose()


async def test_a_tenant_page_is_counted_by_route_template_status_and_tenant(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get("/t/shuangluan/login")).status_code == 200
    assert (await client.get("/t/luanping/login")).status_code == 200
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = r.text
    labels = {"route": "/login", "method": "GET", "status": "200"}
    grown = value(after, "liuzhi_http_requests_total", tenant="shuangluan", **labels) - value(
        before, "liuzhi_http_requests_total", tenant="shuangluan", **labels
    )
    assert grown == 3
    assert value(after, "liuzhi_http_requests_total", tenant="luanping", **labels) >= 1
    # The latency histogram counts the same requests (route and method, no tenant).
    count = value(after, "liuzhi_http_request_duration_seconds_count", route="/login", method="GET")
    assert count >= 4


async def test_route_labels_are_templates_never_raw_paths(client: httpx.AsyncClient) -> None:
    await client.get("/t/shuangluan/grid/123456789")
    await client.get("/no/such/page/at/all")
    text = (await client.get("/metrics")).text
    routes = {s.labels["route"] for s in samples(text, "liuzhi_http_requests_total")}
    assert "/grid/{node_id}" in routes
    assert "unmatched" in routes
    assert not any("123456789" in r or "such" in r for r in routes)


async def test_an_unknown_tenant_slug_does_not_become_a_label(client: httpx.AsyncClient) -> None:
    assert (await client.get("/t/no-such-district-x9/login")).status_code == 404
    text = (await client.get("/metrics")).text
    tenants = {s.labels["tenant"] for s in samples(text, "liuzhi_http_requests_total")}
    assert "no-such-district-x9" not in tenants


async def test_scrape_time_figures_queue_depth_age_lag_database_and_tenants(
    app: Any, client: httpx.AsyncClient
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete

    from core.services.jobs.models import Job
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(app.state.db, "shuangluan")
    name = "ops.metrics-test"
    async with app.state.db.transaction(tenant.id) as s:
        job = await enqueue(s, tenant.id, name, run_at=datetime.now(UTC) - timedelta(minutes=3))
    try:
        text = (await client.get("/metrics")).text
        assert value(text, "liuzhi_jobs", job=name, status="pending") == 1
        assert value(text, "liuzhi_job_queue_age_seconds", job=name) >= 170
        assert value(text, "liuzhi_database_up") == 1
        assert value(text, "liuzhi_tenants", status="active") >= 2
        assert samples(text, "liuzhi_periodic_job_lag_seconds") is not None
        assert value(text, "liuzhi_db_pool_capacity") >= 1
        assert samples(text, "liuzhi_db_pool_connections_in_use")
        assert not samples(text, "liuzhi_redis_up")  # no Redis configured: no such series
    finally:
        async with app.state.db.transaction(None) as s:
            await s.execute(delete(Job).where(Job.id == job.id))


async def test_a_token_protects_metrics_from_anywhere(app_with: Any) -> None:
    application = await app_with(metrics_token="s3cret-scrape")
    async with make_client(application) as c:
        r = await c.get("/metrics")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        ok = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200
        assert "liuzhi_http_requests_total" in ok.text


async def test_without_a_token_only_loopback_or_the_configured_networks_may_scrape(app_with: Any) -> None:
    application = await app_with(metrics_networks=parse_networks("10.8.0.0/16"))
    outside = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=("192.0.2.7", 4000)), base_url="http://localhost"
    )
    inside = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=("10.8.3.4", 4000)), base_url="http://localhost"
    )
    async with outside, inside:
        assert (await outside.get("/metrics")).status_code == 403
        assert (await inside.get("/metrics")).status_code == 200
    default = await app_with()
    stranger = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=default, client=("192.0.2.7", 4000)), base_url="http://localhost"
    )
    async with stranger:
        assert (await stranger.get("/metrics")).status_code == 403


async def test_metrics_switched_off_answer_404(app_with: Any) -> None:
    application = await app_with(metrics=False)
    async with make_client(application) as c:
        assert (await c.get("/metrics")).status_code == 404
        # …and pages still carry their request id.
        assert re.fullmatch(r"[0-9a-f]{16}", (await c.get("/t/shuangluan/login")).headers["x-request-id"])
