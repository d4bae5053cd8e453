"""Request ids (header, error pages, API errors) and what a log line carries about its request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.ops.logging import ContextFilter, json_formatter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log lines of the ``liuzhi`` loggers as the production handler writes them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("liuzhi")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(old)


def records(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


async def test_every_answer_carries_a_request_id_and_error_pages_show_it(as_admin: httpx.AsyncClient) -> None:
    ok = await as_admin.get("/t/shuangluan/")
    assert re.fullmatch(r"[0-9a-f]{16}", ok.headers["x-request-id"])
    missing = await as_admin.get("/t/shuangluan/grid/424242")
    assert missing.status_code == 404
    rid = missing.headers["x-request-id"]
    assert rid != ok.headers["x-request-id"]
    assert rid in missing.text  # a person can read it out to support
    api = await as_admin.get("/t/shuangluan/api/v1/no-such-thing", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json()["request_id"] == api.headers["x-request-id"]


async def test_a_sane_request_id_from_the_proxy_is_kept_and_a_hostile_one_replaced(client: httpx.AsyncClient) -> None:
    kept = await client.get("/t/shuangluan/login", headers={"X-Request-ID": "edge-7f3a9c21b0"})
    assert kept.headers["x-request-id"] == "edge-7f3a9c21b0"
    replaced = await client.get("/t/shuangluan/login", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert re.fullmatch(r"[0-9a-f]{16}", replaced.headers["x-request-id"])


async def test_log_lines_parse_as_json_with_request_id_tenant_and_user_id(
    as_admin: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    r = await as_admin.get("/t/shuangluan/grid/424242")
    rid = r.headers["x-request-id"]
    lines = [x for x in records(json_log) if x.get("request_id") == rid]
    access = next(x for x in lines if x["logger"] == "liuzhi.access")
    assert access["tenant"] == "shuangluan"
    assert access["status"] == 404
    assert access["route"] == "/grid/{node_id}"
    assert access["path"] == "/t/shuangluan/grid/424242"
    assert isinstance(access["user_id"], int)
    # Ids only: the user's name and username are not in the line.
    assert "admin" not in json.dumps({k: v for k, v in access.items() if k != "logger"})


async def test_the_access_log_leaves_out_the_query_string(client: httpx.AsyncClient, json_log: io.StringIO) -> None:
    r = await client.get("/t/shuangluan/login?next=/residents/%3Fq%3D110101199003074518")
    line = next(x for x in records(json_log) if x.get("request_id") == r.headers["x-request-id"])
    assert "110101199003074518" not in json.dumps(line)
    assert line["path"] == "/t/shuangluan/login"


async def test_with_opentelemetry_on_a_request_makes_a_span_and_its_log_lines_carry_the_trace(
    migrated: Any,
) -> None:
    from dataclasses import replace

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from core.app import create_app
    from tests.conftest import make_client, start_app

    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    application = create_app(replace(migrated, ops=replace(migrated.ops, otel=True)))
    stack = await start_app(application)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter(otel=True))
    logger = logging.getLogger("liuzhi.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with make_client(application) as c:
            r = await c.get("/t/shuangluan/login")
        assert r.status_code == 200
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        await stack.aclose()
    spans = exporter.get_finished_spans()
    assert spans, "no span was recorded"
    trace_ids = {format(s.context.trace_id, "032x") for s in spans}
    line = next(x for x in records(out) if x.get("request_id") == r.headers["x-request-id"])
    assert line["trace_id"] in trace_ids
    assert re.fullmatch(r"[0-9a-f]{16}", line["span_id"])


def test_tracing_is_off_by_default_and_imports_nothing() -> None:
    from core.ops.settings import OpsSettings
    from core.ops.tracing import plugins

    assert OpsSettings().otel is False
    assert plugins(OpsSettings()) == []
