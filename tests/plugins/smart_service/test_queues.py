"""Every level works its own queue (issue #15): a handling unit's members — here 区城管局's two
clerks — see what is dispatched to their unit, sign for it (the signer takes it), handle it and
report the result with photos, or return it to whoever dispatched it; people outside the unit
neither see it nor act on it. Pages, the JSON API and the admin page of a unit's members."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.identity.models import ApiToken
from core.web.context import hash_token
from plugins.smart_service import services as sv
from plugins.smart_service import units
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
        s.add(ApiToken(user_id=d.users[username].id, name="app", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(d.app)
    client.headers["Authorization"] = f"Bearer {raw}"
    d.clients.append(client)
    return client


async def report_and_dispatch(d: District, unit: str, title: str = "人行道井盖破损") -> int:
    """A resident's report, accepted and registered by the community, dispatched by the centre to ``unit``."""
    async with d.tx() as s:
        event = await sv.report_event(
            s, title=title, category_code="SR", node_id=d.nodes["g01"].id, source="resident", actor=d.users["resident"]
        )
        event_id = event.id
    await d.act(event_id, "accept", "community")
    await d.act(event_id, "register", "community")
    await d.act(event_id, "dispatch", "centre", unit_id=d.levels[unit])  # type: ignore[attr-defined]
    return event_id


async def test_a_department_clerk_signs_handles_and_reports_a_case_from_the_units_queue(district: District) -> None:
    d = district
    event_id = await report_and_dispatch(d, "cgj")
    event = await d.event(event_id)
    clerk = await d.client("chengguan")

    page = await clerk.get(d.url("/smart-service/queue"))
    assert page.status_code == 200
    assert "Urban management bureau" in page.text and event.number in page.text

    task = await clerk.get(d.url(f"/smart-service/tasks/{event_id}"))
    assert task.status_code == 200 and "Sign for" in task.text
    signed = await form_post(clerk, d.url(f"/smart-service/tasks/{event_id}/sign"), {"version": str(event.version)})
    assert signed.status_code == 303
    event = await d.event(event_id)
    assert event.state == "signed" and event.assignee_user_id == d.users["chengguan"].id

    # The other clerk still sees it in the unit's queue, but it is the signer's to work.
    other = await d.client("chengguan2")
    doing = await other.get(d.url("/smart-service/queue?tab=doing"))
    assert event.number in doing.text
    refused = await form_post(other, d.url(f"/smart-service/tasks/{event_id}/handle"), {"version": str(event.version)})
    assert refused.status_code == 400 and "Only the person it is assigned to" in refused.text

    await form_post(clerk, d.url(f"/smart-service/tasks/{event_id}/handle"), {"version": str(event.version)})
    event = await d.event(event_id)
    result = await clerk.post(
        d.url(f"/smart-service/tasks/{event_id}/feedback"),
        data={"_csrf_token": clerk.cookies.get("liuzhi_csrf"), "version": str(event.version), "note": "已更换井盖"},
        files=[("after", ("after.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert result.status_code == 303, result.text[:500]
    event = await d.event(event_id)
    assert event.state == "feedback" and event.handling_unit_id == d.levels["cgj"]  # type: ignore[attr-defined]
    done = await clerk.get(d.url("/smart-service/queue?tab=done"))
    assert event.number in done.text


async def test_people_outside_the_unit_neither_see_nor_work_its_cases(district: District) -> None:
    d = district
    to_bureau = await report_and_dispatch(d, "cgj", "占道经营")
    to_office = await report_and_dispatch(d, "ybs", "违章搭建")
    bureau, office = await d.event(to_bureau), await d.event(to_office)

    clerk = await d.client("chengguan")
    queue = (await clerk.get(d.url("/smart-service/queue"))).text
    assert bureau.number in queue and office.number not in queue
    assert (await clerk.get(d.url(f"/smart-service/tasks/{to_office}"))).status_code == 404
    assert (await clerk.get(d.url(f"/smart-service/events/{to_bureau}"))).status_code == 403  # no district-wide view

    officer = await d.client("officer")
    assert office.number in (await officer.get(d.url("/smart-service/queue"))).text
    # A grid worker of the community has no say over the bureau's case.
    worker = await d.client("worker")
    assert (await worker.get(d.url(f"/smart-service/tasks/{to_bureau}"))).status_code == 404

    api = await api_client(d, "chengguan")
    listed = (await api.get(d.url("/api/v1/smart-service/queue"))).json()
    assert [e["number"] for e in listed["events"]] == [bureau.number]
    assert listed["units"][0]["name"] == "Urban management bureau"
    denied = await api.post(d.url(f"/api/v1/smart-service/queue/{office.number}/sign"), json={})
    assert denied.status_code == 404 and office.number in denied.json()["detail"]


async def test_a_clerk_returns_a_case_that_is_not_the_bureaus_to_the_command_centre(district: District) -> None:
    d = district
    event_id = await report_and_dispatch(d, "cgj", "楼道堆物")
    api = await api_client(d, "chengguan")
    event = await d.event(event_id)
    base = d.url(f"/api/v1/smart-service/queue/{event.number}")

    no_reason = await api.post(f"{base}/return", json={"version": event.version})
    assert no_reason.status_code == 422 and "note is required" in no_reason.json()["detail"]
    stale = await api.post(f"{base}/sign", json={"version": event.version + 5})
    assert stale.status_code == 409

    signed = await api.post(f"{base}/sign", json={"version": event.version})
    assert signed.status_code == 200 and signed.json()["state"] == "signed"
    returned = await api.post(f"{base}/return", json={"note": "属物业管理范围", "version": signed.json()["version"]})
    assert returned.status_code == 200, returned.text
    event = await d.event(event_id)
    # Back to the command centre that dispatched it (no unit), nobody assigned, to be re-dispatched.
    assert event.state == "registered" and event.assignee_user_id is None and event.handling_unit_id is None
    assert (await api.get(d.url("/api/v1/smart-service/queue"))).json()["total"] == 0
    unknown = await api.post(f"{base}/close", json={})
    assert unknown.status_code == 404


async def test_an_admin_keeps_a_units_members(district: District) -> None:
    d = district
    admin = await d.client("centre")
    unit_id = d.levels["cgj"]  # type: ignore[attr-defined]
    page = await admin.get(d.url(f"/smart-service/admin/units/{unit_id}/members"))
    assert page.status_code == 200 and "城管局科员老刘" in page.text

    nobody = await form_post(admin, d.url(f"/smart-service/admin/units/{unit_id}/members"), {"username": "ghost"})
    assert nobody.status_code == 422 and "No active account is called ghost" in nobody.text
    added = await form_post(
        admin, d.url(f"/smart-service/admin/units/{unit_id}/members"), {"username": "worker", "duty": "协管员"}
    )
    assert added.status_code == 303
    async with d.app.state.db.session(d.tenant.id) as s:
        assert await units.is_member(s, unit_id, d.users["worker"].id)
    removed = await form_post(
        admin, d.url(f"/smart-service/admin/units/{unit_id}/members/{d.users['worker'].id}/remove")
    )
    assert removed.status_code == 303
    again = await form_post(admin, d.url(f"/smart-service/admin/units/{unit_id}/members/{d.users['worker'].id}/remove"))
    assert again.status_code == 404
    assert (await admin.get(d.url("/smart-service/admin/units/999/members"))).status_code == 404
    clerk = await d.client("chengguan")
    assert (await clerk.get(d.url(f"/smart-service/admin/units/{unit_id}/members"))).status_code == 403
