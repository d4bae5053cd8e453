"""All intake channels (issue #15): a 12345 operator enters an order (its number, deadline and
12345 category) — JSON or the form — dispatched at once to a 区直部门; the result reported (回复)
and the closure (办结) go back through the work-order adapter (the logging one here), sent by a
job; 12345's 不满意 reopens the case for 重办. Anonymous reports only where the district allows them."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.identity.models import ApiToken
from core.services.events import delivered
from core.services.jobs.models import Job
from core.services.jobs.runner import JobRunner
from core.tenancy.service import set_plugin
from core.web.context import hash_token
from plugins.smart_service import workorders
from plugins.smart_service.work_models import WorkOrder, WorkOrderMessage
from tests.conftest import form_post, make_client
from tests.plugins.smart_service.fixtures.district import District, build, with_levels
from tests.plugins.smart_service.fixtures.images import phone_jpeg


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    d.levels = await with_levels(d)  # type: ignore[attr-defined]
    yield d
    await d.close()


async def api_client(d: District, username: str) -> httpx.AsyncClient:
    raw = "lz_" + secrets.token_urlsafe(24)
    async with d.tx() as s:
        s.add(ApiToken(user_id=d.users[username].id, name="12345", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(d.app)
    client.headers["Authorization"] = f"Bearer {raw}"
    d.clients.append(client)
    return client


async def run_jobs(d: District) -> int:
    await delivered()
    return await JobRunner(d.app.state.db, d.app.state.plugins).run_pending()


def order(d: District, number: str = "12345-20261207-0042", **extra: Any) -> dict[str, Any]:
    due = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    return {
        "channel": "hotline_12345",
        "external_number": number,
        "external_category": "城乡建设/市容环境",
        "due_at": due,
        "description": "来电人反映双安社区东门外人行道井盖缺失，夜间行人易踩空。",
        "category": "SR",
        "node_id": d.nodes["g01"].id,
        "caller_name": "王女士",
        "caller_phone": "13800001234",
        "unit_id": d.levels["cgj"],  # type: ignore[attr-defined]
        **extra,
    }


async def test_a_12345_order_goes_to_the_bureau_and_its_reply_and_closure_go_back(
    district: District, caplog: Any
) -> None:
    d = district
    hotline = await api_client(d, "hotline")
    created = await hotline.post(d.url("/api/v1/smart-service/work-orders"), json=order(d))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["external_number"] == "12345-20261207-0042" and body["external_category"] == "城乡建设/市容环境"
    assert body["event"]["state"] == "dispatched"
    assert body["event"]["handling_unit_id"] == d.levels["cgj"]  # type: ignore[attr-defined]
    event = await d.event(body["event"]["number"])
    assert event.source == "hotline_12345" and event.reporter_phone_masked == "138****1234"

    # The bureau's clerk works it from the queue; the reported result is the reply to 12345.
    clerk = await api_client(d, "chengguan")
    base = d.url(f"/api/v1/smart-service/queue/{event.number}")
    v = (await clerk.post(f"{base}/sign", json={})).json()["version"]
    v = (await clerk.post(f"{base}/handle", json={"version": v})).json()["version"]
    fed = await clerk.post(
        f"{base}/feedback",
        data={"note": "已补装井盖并设置警示", "version": str(v)},
        files=[("after", ("after.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert fed.status_code == 200, fed.text
    with caplog.at_level(logging.INFO, logger="liuzhi.smart_service.work_orders"):
        await run_jobs(d)
    assert "[hotline_12345] reply 12345-20261207-0042" in caplog.text and "已补装井盖并设置警示" in caplog.text

    for action in ("inspect", "pass", "close"):
        await d.act(event.id, action, "community")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="liuzhi.smart_service.work_orders"):
        await run_jobs(d)
    assert "[hotline_12345] close 12345-20261207-0042" in caplog.text

    state = (await hotline.get(d.url("/api/v1/smart-service/work-orders/hotline_12345/12345-20261207-0042"))).json()
    assert [(m["kind"], m["status"]) for m in state["messages"]] == [("reply", "sent"), ("close", "sent")]
    assert state["event"]["state"] == "closed"

    # 12345's callback: 不满意 reopens the case for the bureau to handle again.
    url = d.url("/api/v1/smart-service/work-orders/hotline_12345/12345-20261207-0042/evaluation")
    wrong = await hotline.post(url, json={"evaluation": "meh"})
    assert wrong.status_code == 400 and "satisfied" in wrong.json()["detail"]
    answered = await hotline.post(url, json={"evaluation": "unsatisfied", "note": "井盖仍松动"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["event"]["state"] == "handling" and answered.json()["event"]["rework_count"] == 1
    event = await d.event(event.id)
    assert event.assignee_user_id == d.users["chengguan"].id and event.closed_at is None
    again = await hotline.post(url, json={"evaluation": "unsatisfied"})
    assert again.status_code == 409 and "not closed" in again.json()["detail"]
    page = await (await d.client("centre")).get(d.url(f"/smart-service/events/{event.id}"))
    assert "井盖仍松动" in page.text and "Not satisfied" in page.text


async def test_a_bad_order_is_refused_with_a_message_and_nothing_written(district: District) -> None:
    d = district
    hotline = await api_client(d, "hotline")
    url = d.url("/api/v1/smart-service/work-orders")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = [
        (order(d, external_number=""), 422, "number"),
        (order(d, due_at=past), 422, "deadline must be in the future"),
        (order(d, due_at="next tuesday"), 400, "deadline"),
        (order(d, node_id=12), 400, "where the event happened"),
        (order(d, category="NOPE"), 422, "category"),
        (order(d, channel="fax"), 422, "where the order comes from"),
        (order(d, unit_id=5), 422, "handling unit"),
        (order(d, caller_phone="abc"), 422, "phone"),
    ]
    for body, status, words in cases:
        r = await hotline.post(url, json=body)
        assert r.status_code == status, (body, r.text)
        assert words in r.json()["detail"], r.text
    assert (await hotline.post(url, content=b"{nope", headers={"content-type": "application/json"})).status_code == 400
    async with d.app.state.db.session(d.tenant.id) as s:
        assert (await s.execute(select(WorkOrder))).first() is None

    assert (await hotline.post(url, json=order(d))).status_code == 201
    twice = await hotline.post(url, json=order(d))
    assert twice.status_code == 422 and "entered already" in twice.json()["detail"]
    resident = await api_client(d, "resident")
    assert (await resident.post(url, json=order(d, "other"))).status_code == 403
    missing = await hotline.get(d.url("/api/v1/smart-service/work-orders/hotline_12345/none"))
    assert missing.status_code == 404


async def test_staff_enter_a_superiors_task_through_the_form_and_reply_to_it(district: District) -> None:
    d = district
    officer = await d.client("officer")
    form = await officer.get(d.url("/smart-service/intake"))
    assert form.status_code == 200 and 'name="external_number"' in form.text
    refused = await form_post(officer, d.url("/smart-service/intake"), {"channel": "superior", "node_id": ""})
    assert refused.status_code == 400 and "Choose where the event happened" in refused.text
    made = await form_post(
        officer,
        d.url("/smart-service/intake"),
        {
            "channel": "superior",
            "external_number": "区交〔2026〕17号",
            "issuer": "区委政法委",
            "due_at": "2030-12-10T17:00",
            "description": "核查双安社区群租房消防隐患",
            "category": "SR",
            "node_id": str(d.nodes["sa"].id),
        },
    )
    assert made.status_code == 303
    event_url = made.headers["location"]
    page = await officer.get(event_url)
    assert "区交〔2026〕17号" in page.text and "区委政法委" in page.text
    event_id = int(event_url.rstrip("/").rsplit("/", 1)[1])
    replied = await form_post(officer, d.url(f"/smart-service/events/{event_id}/reply"), {"text": "已受理，正在核查"})
    assert replied.status_code == 303
    empty = await form_post(officer, d.url(f"/smart-service/events/{event_id}/reply"), {"text": " "})
    assert empty.status_code == 422
    async with d.app.state.db.session(d.tenant.id) as s:
        sent = list((await s.execute(select(WorkOrderMessage))).scalars())
        assert [(m.kind, m.body) for m in sent] == [("reply", "已受理，正在核查")]
        event = await s.get(WorkOrder, (d.tenant.id, sent[0].order_id))
        assert event is not None and event.due_at is not None and event.due_at.hour == 9  # 17:00 in Shanghai
    resident = await d.client("resident")
    assert (await resident.get(d.url("/smart-service/intake"))).status_code == 403


async def test_a_failing_adapter_leaves_the_message_queued_and_the_job_retries(
    district: District, monkeypatch: Any
) -> None:
    d = district

    class Down:
        name = "down"

        async def send(self, message: Any) -> str:
            raise ConnectionError("12345 unreachable")

    monkeypatch.setitem(workorders.ADAPTERS, "down", Down)
    await set_plugin(
        d.app.state.db, d.app.state.plugins, d.tenant, "smart_service", True, {"work_order_adapter": "down"}
    )
    d.app.state.tenant_cache.clear()
    hotline = await api_client(d, "hotline")
    created = (await hotline.post(d.url("/api/v1/smart-service/work-orders"), json=order(d, unit_id=""))).json()
    officer = await d.client("officer")
    event_id = (await d.event(created["event"]["number"])).id
    await form_post(officer, d.url(f"/smart-service/events/{event_id}/reply"), {"text": "已受理"})
    await run_jobs(d)
    async with d.app.state.db.session(d.tenant.id) as s:
        message = (await s.execute(select(WorkOrderMessage))).scalar_one()
        assert message.status == "queued"
        job = (
            await s.execute(select(Job).where(Job.name == workorders.SEND_JOB, Job.tenant_id == d.tenant.id))
        ).scalar_one()
        assert job.status == "pending" and "12345 unreachable" in (job.last_error or "")
    assert workorders.adapter_for("nonexistent").name == "log"
    assert "log" in workorders.adapter_names()


async def test_anonymous_reports_only_where_the_district_allows_them(district: District) -> None:
    d = district
    anon = make_client(d.app)
    d.clients.append(anon)
    body = {"category": "SR", "description": "小区门口污水外溢", "node_id": d.nodes["g02"].id}
    assert (await anon.get(d.url("/smart-service/report/anonymous"))).status_code == 404
    off = await anon.post(d.url("/api/v1/smart-service/anonymous-reports"), json=body)
    assert off.status_code == 404

    await set_plugin(
        d.app.state.db, d.app.state.plugins, d.tenant, "smart_service", True, {"allow_anonymous_reports": True}
    )
    d.app.state.tenant_cache.clear()
    made = await anon.post(d.url("/api/v1/smart-service/anonymous-reports"), json=body)
    assert made.status_code == 201, made.text
    event = await d.event(made.json()["number"])
    assert event.reporter_user_id is None and event.reporter_name == "" and event.node_id == d.nodes["g02"].id
    bad = await anon.post(d.url("/api/v1/smart-service/anonymous-reports"), json={**body, "description": ""})
    assert bad.status_code == 400  # in the district's language, nobody being signed in
    assert bad.json()["detail"] in ("Say what the problem is.", "请说明是什么问题。")
    page = await anon.get(d.url("/smart-service/report/anonymous"))
    assert page.status_code == 200
    sent = await form_post(anon, d.url("/smart-service/report/anonymous"), {**body, "node_id": str(body["node_id"])})
    assert sent.status_code == 200 and 'data-testid="anonymous-done"' in sent.text
