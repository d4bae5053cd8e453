"""A grid worker's day on the phone (issue 18): the tab bar, tasks they may act on, a patrol with its
route and what was found on it, a household visit that updates the register, the daily log read
by the community; scope and permissions; offline replays that write once. Demo district 双滦区:
the grid worker holds 双安社区第一网格 (g01), the community secretary 双安社区."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.db.base import new_id
from core.grids.basedata import Resident
from core.grids.fieldwork import service as fw
from core.grids.fieldwork.models import DailyLog, PatrolFinding, Visit
from core.grids.models import GridNode
from core.identity.models import ApiToken, User
from core.identity.passwords import hash_password
from core.rbac.models import RoleAssignment
from core.services.submissions.models import ClientSubmission
from core.web.context import hash_token
from tests.conftest import DEMO_PASSWORD, csrf_of, login, make_client

T = "/t/shuangluan"


@pytest.fixture
async def tenant(app: Any) -> Any:
    from core.tenancy.service import get_tenant

    return await get_tenant(app.state.db, "shuangluan")


async def node(app: Any, tenant: Any, code: str) -> GridNode:
    async with app.state.db.session(tenant.id) as s:
        return (await s.execute(select(GridNode).where(GridNode.code == code))).scalar_one()


async def user_id(app: Any, tenant: Any, username: str) -> int:
    async with app.state.db.session(tenant.id) as s:
        return (await s.execute(select(User.id).where(User.username == username))).scalar_one()


@pytest.fixture
async def sibling_worker(app: Any, tenant: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A grid worker of 双安社区第二网格 (g02), next door to the demo grid worker."""
    g02 = await node(app, tenant, "sl-ybs-sa-g02")
    username = "gw2_" + secrets.token_hex(3)
    async with app.state.db.transaction(tenant.id) as s:
        user = User(id=new_id(), username=username, display_name="二网格员", password_hash=hash_password(DEMO_PASSWORD))
        s.add(user)
        await s.flush()
        s.add(RoleAssignment(user_id=user.id, role_code="grid_worker", node_id=g02.id, node_path=g02.path))
    async with make_client(app) as client:
        r = await login(client, "shuangluan", username)
        assert r.status_code == 303
        yield client


async def post(client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
    return await client.post(url, data={"_csrf_token": csrf_of(client), **(data or {})}, **kw)


async def post_json(client: httpx.AsyncClient, url: str, body: Any) -> httpx.Response:
    return await client.post(url, json=body, headers={"X-CSRFToken": csrf_of(client)})


async def end_any_patrol(app: Any, tenant: Any, username: str) -> None:
    uid = await user_id(app, tenant, username)
    async with app.state.db.transaction(tenant.id) as s:
        current = await fw.active_patrol(s, uid)
        if current is not None:
            await fw.end_patrol(s, current)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


# ---- tab bar and tasks ----------------------------------------------------------------------


async def test_a_grid_worker_has_the_five_tabs_on_every_page_and_a_resident_has_none(
    as_grid_worker: httpx.AsyncClient, as_resident: httpx.AsyncClient
) -> None:
    page = await as_grid_worker.get(f"{T}/field/")
    assert page.status_code == 200
    bar = re.search(r'<nav class="lz-tabbar".*?</nav>', page.text, re.S)
    assert bar is not None
    titles = re.findall(r'<span class="lz-tab-title">([^<]+)</span>', bar.group(0))
    assert titles == ["任务", "上报", "巡查", "居民", "我的"]
    hrefs = re.findall(r'href="([^"]+)"', bar.group(0))
    for href in hrefs:
        assert (await as_grid_worker.get(href.replace("&amp;", "&"))).status_code == 200, href
    assert 'data-testid="tabbar"' in (await as_grid_worker.get(f"{T}/smart-service/tasks")).text
    assert 'data-testid="tabbar"' not in (await as_resident.get(f"{T}/me/")).text


async def test_tasks_are_grouped_and_list_only_what_the_worker_may_act_on(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient
) -> None:
    from plugins.smart_service.models import Event

    worker = await user_id(app, tenant, "grid_worker")
    g02 = await node(app, tenant, "sl-ybs-sa-g02")
    # An event next door assigned to the worker by mistake: not theirs to act on, so not listed.
    async with app.state.db.transaction(tenant.id) as s:
        stray = (
            await s.execute(
                select(Event).where(Event.node_path.startswith(g02.path), Event.state == "dispatched").limit(1)
            )
        ).scalar_one_or_none()
        if stray is None:
            stray = (await s.execute(select(Event).where(Event.state == "dispatched").limit(1))).scalar_one()
            stray.node_id, stray.node_path = g02.id, g02.path
        stray.assignee_user_id = worker
        stray_id = stray.id
    page = await as_grid_worker.get(f"{T}/smart-service/tasks")
    assert page.status_code == 200
    for key, title in (("to_sign", "待签收"), ("handling", "处置中"), ("reported", "已反馈")):
        assert f'data-testid="group-{key}"' in page.text
        assert title in page.text
    listed = set(re.findall(r'/smart-service/tasks/(\d+)"', page.text))
    assert str(stray_id) not in listed
    assert (await as_grid_worker.get(f"{T}/smart-service/tasks/{stray_id}")).status_code == 404
    assert listed, "the demo grid worker has tasks in their own grid"
    for event_id in sorted(listed)[:5]:
        assert (await as_grid_worker.get(f"{T}/smart-service/tasks/{event_id}")).status_code == 200


# ---- patrols ------------------------------------------------------------------------------


async def test_a_patrol_records_its_route_in_batches_once_and_staff_see_it_drawn(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient, signed_in: Any, sibling_worker: httpx.AsyncClient
) -> None:
    await end_any_patrol(app, tenant, "grid_worker")
    r = await post(as_grid_worker, f"{T}/field/patrol/start")
    assert r.status_code == 303
    page = await as_grid_worker.get(f"{T}/field/patrol")
    patrol_id = int(re.search(r'data-patrol="(\d+)"', page.text).group(1))
    now = datetime.now(UTC)
    points = [
        {"t": ms(now + timedelta(seconds=10 * i)), "lon": 117.7800 + 0.0005 * i, "lat": 40.9500, "acc": 8}
        for i in range(4)
    ]
    first = await post_json(as_grid_worker, f"{T}/field/patrol/{patrol_id}/points", {"points": points[:3]})
    assert first.status_code == 200 and first.json()["added"] == 3
    again = await post_json(as_grid_worker, f"{T}/field/patrol/{patrol_id}/points", {"points": points})
    assert again.json() == {"added": 1, "point_count": 4, "distance_m": pytest.approx(126, abs=3)}
    bad = await post_json(as_grid_worker, f"{T}/field/patrol/{patrol_id}/points", {"points": [{"t": 1, "lon": 500}]})
    assert bad.status_code == 400 and "detail" in bad.json()
    # Starting again while one is under way continues it.
    await post(as_grid_worker, f"{T}/field/patrol/start")
    assert f'data-patrol="{patrol_id}"' in (await as_grid_worker.get(f"{T}/field/patrol")).text

    ended = await post(as_grid_worker, f"{T}/field/patrol/{patrol_id}/end", {"note": "一切正常"})
    assert ended.status_code == 303 and ended.headers["location"].endswith(f"/field/patrols/{patrol_id}")
    # Late points from the queue, taken before the end, still count; a second end changes nothing.
    assert (await post(as_grid_worker, f"{T}/field/patrol/{patrol_id}/end")).status_code == 303

    community = await signed_in("shuangluan", "community")
    detail = await community.get(f"{T}/field/patrols/{patrol_id}")
    assert detail.status_code == 200
    assert 'data-testid="route"' in detail.text and "<polyline" in detail.text
    assert re.search(r'data-testid="patrol-points">4<', detail.text)
    assert f"/field/patrols/{patrol_id}" in (await community.get(f"{T}/field/patrols")).text
    # Next door sees nothing of it, and cannot add to it.
    assert (await sibling_worker.get(f"{T}/field/patrols/{patrol_id}")).status_code == 404
    assert f"/field/patrols/{patrol_id}" not in (await sibling_worker.get(f"{T}/field/patrols")).text
    assert (await post_json(sibling_worker, f"{T}/field/patrol/{patrol_id}/points", {"points": []})).status_code == 404


async def test_a_report_made_on_patrol_is_found_on_it_and_a_replay_writes_it_once(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient
) -> None:
    from plugins.smart_service.models import Category, Event

    await end_any_patrol(app, tenant, "grid_worker")
    await post(as_grid_worker, f"{T}/field/patrol/start")
    g01 = await node(app, tenant, "sl-ybs-sa-g01")
    async with app.state.db.session(tenant.id) as s:
        category = (await s.execute(select(Category.code).where(Category.active.is_(True)).limit(1))).scalar_one()
    marker = "巡查发现-" + secrets.token_hex(4)
    form = {
        "category": category,
        "description": marker,
        "node_id": str(g01.id),
        "source": "grid_patrol",
        "client_id": str(uuid.uuid4()),
    }
    first = await post(as_grid_worker, f"{T}/smart-service/report", form)
    assert first.status_code == 303 and first.headers["location"].endswith("/field/patrol")
    replay = await post(as_grid_worker, f"{T}/smart-service/report", form)
    assert replay.status_code == 303 and replay.headers["location"] == first.headers["location"]
    async with app.state.db.session(tenant.id) as s:
        events = (await s.execute(select(Event).where(Event.description == marker))).scalars().all()
        assert len(events) == 1
        finding = (await s.execute(select(PatrolFinding).where(PatrolFinding.ref == events[0].number))).scalar_one()
    live = await as_grid_worker.get(f"{T}/field/patrol")
    assert events[0].number in live.text
    await post(as_grid_worker, f"{T}/field/patrol/{finding.patrol_id}/end")
    detail = await as_grid_worker.get(f"{T}/field/patrols/{finding.patrol_id}")
    assert events[0].number in detail.text and f"/smart-service/events/{events[0].id}" in detail.text


# ---- visits -------------------------------------------------------------------------------


async def test_a_visit_updates_the_register_audited_and_a_replay_writes_it_once(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient, signed_in: Any
) -> None:
    room = await node(app, tenant, "sl-ybs-sa-g01-asly-b1-u1-102")
    listing = await as_grid_worker.get(f"{T}/field/households")
    assert listing.status_code == 200 and f"/field/households/{room.id}/visit" in listing.text
    form_page = await as_grid_worker.get(f"{T}/field/households/{room.id}/visit")
    assert form_page.status_code == 200
    async with app.state.db.session(tenant.id) as s:
        resident = (await s.execute(select(Resident).where(Resident.node_id == room.id).limit(1))).scalar_one()
    assert resident.name in form_page.text
    phone = "139" + str(secrets.randbelow(10**8)).zfill(8)
    client_id = str(uuid.uuid4())
    data = {"notes": "家中老人身体尚好，电话已更换", f"phone_{resident.id}": phone, "client_id": client_id}
    r = await post(as_grid_worker, f"{T}/field/households/{room.id}/visit", data)
    assert r.status_code == 303, r.text[:500]
    again = await post(as_grid_worker, f"{T}/field/households/{room.id}/visit", data)
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    visit_id = int(r.headers["location"].rsplit("/", 1)[1])
    async with app.state.db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(Visit.id)).where(Visit.notes == data["notes"])) == 1
        updated = await s.get(Resident, (tenant.id, resident.id))
        assert updated.phone_masked == phone[:3] + "****" + phone[-4:]
        audited = (
            await s.execute(
                select(AuditEntry).where(
                    AuditEntry.action == "field.visit.register_changed", AuditEntry.object_id == str(visit_id)
                )
            )
        ).scalar_one()
        assert audited.actor_name == "grid_worker"
        row_audit = await s.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.object_type == "residents",
                AuditEntry.object_id == str(resident.id),
                AuditEntry.action == "residents.update",
            )
        )
        assert row_audit >= 1
    shown = await as_grid_worker.get(r.headers["location"])
    assert 'data-testid="visit-changes"' in shown.text and "电话" in shown.text
    community = await signed_in("shuangluan", "community")
    assert f"/field/visits/{visit_id}" in (await community.get(f"{T}/field/visits")).text


async def test_a_visit_without_notes_or_with_a_bad_phone_writes_nothing(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient
) -> None:
    room = await node(app, tenant, "sl-ybs-sa-g01-asly-b1-u1-201")
    async with app.state.db.session(tenant.id) as s:
        resident = (await s.execute(select(Resident).where(Resident.node_id == room.id).limit(1))).scalar_one()
        before = await s.scalar(select(func.count(Visit.id)))
    empty = await post(as_grid_worker, f"{T}/field/households/{room.id}/visit", {"notes": " "})
    assert empty.status_code == 400 and "走访" in empty.text
    bad = await post(
        as_grid_worker,
        f"{T}/field/households/{room.id}/visit",
        {"notes": "走访记录", f"phone_{resident.id}": "12345", "client_id": str(uuid.uuid4())},
    )
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    async with app.state.db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(Visit.id))) == before
        assert await s.scalar(select(func.count(ClientSubmission.id)).where(ClientSubmission.kind == "nothing")) == 0


async def test_households_next_door_are_not_the_workers_to_visit(
    app: Any, tenant: Any, sibling_worker: httpx.AsyncClient, as_grid_worker: httpx.AsyncClient
) -> None:
    mine = await node(app, tenant, "sl-ybs-sa-g01-asly-b1-u1-101")
    assert (await sibling_worker.get(f"{T}/field/households/{mine.id}/visit")).status_code == 404
    r = await post(sibling_worker, f"{T}/field/households/{mine.id}/visit", {"notes": "越界"})
    assert r.status_code == 404
    assert f"/field/households/{mine.id}/visit" not in (await sibling_worker.get(f"{T}/field/households")).text
    # A node that is not a household is not visited either.
    grid = await node(app, tenant, "sl-ybs-sa-g01")
    assert (await as_grid_worker.get(f"{T}/field/households/{grid.id}/visit")).status_code == 404


# ---- daily log ----------------------------------------------------------------------------


async def test_the_daily_log_is_read_by_the_community_and_not_next_door(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient, signed_in: Any, sibling_worker: httpx.AsyncClient
) -> None:
    body = "居民反映路灯不亮-" + secrets.token_hex(3)
    client_id = str(uuid.uuid4())
    r = await post(as_grid_worker, f"{T}/field/log", {"body": body, "topic": "concern", "client_id": client_id})
    assert r.status_code == 303
    assert (await post(as_grid_worker, f"{T}/field/log", {"body": body, "client_id": client_id})).status_code == 303
    async with app.state.db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(DailyLog.id)).where(DailyLog.body == body)) == 1
    assert body in (await as_grid_worker.get(f"{T}/field/log")).text
    empty = await post(as_grid_worker, f"{T}/field/log", {"body": ""})
    assert empty.status_code == 400
    wrong = await post(as_grid_worker, f"{T}/field/log", {"body": "x", "topic": "nonsense"})
    assert wrong.status_code == 400

    community = await signed_in("shuangluan", "community")
    logs = await community.get(f"{T}/field/logs")
    assert logs.status_code == 200 and body in logs.text
    worker = await user_id(app, tenant, "grid_worker")
    assert body in (await community.get(f"{T}/field/logs?worker={worker}")).text
    assert (await as_grid_worker.get(f"{T}/field/logs")).status_code == 403
    assert body not in (await sibling_worker.get(f"{T}/field/log")).text
    resident = await signed_in("shuangluan", "resident")
    assert (await resident.get(f"{T}/field/log")).status_code == 403
    assert (await resident.get(f"{T}/field/")).status_code == 403


# ---- JSON API -----------------------------------------------------------------------------


async def api_client(app: Any, tenant: Any, username: str) -> httpx.AsyncClient:
    raw = "lz_" + secrets.token_urlsafe(24)
    uid = await user_id(app, tenant, username)
    async with app.state.db.transaction(tenant.id) as s:
        s.add(ApiToken(user_id=uid, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(app)
    client.headers["Authorization"] = f"Bearer {raw}"
    return client


async def test_the_api_does_a_patrol_a_visit_and_a_log_entry_idempotently(app: Any, tenant: Any) -> None:
    await end_any_patrol(app, tenant, "grid_worker")
    api = await api_client(app, tenant, "grid_worker")
    base = f"{T}/api/v1/field"
    try:
        started = await api.post(f"{base}/patrols")
        assert started.status_code == 201
        pid = started.json()["id"]
        now = datetime.now(UTC)
        pts = [
            {"t": (now + timedelta(seconds=i)).isoformat(), "lon": 117.78, "lat": 40.95 + 0.0001 * i} for i in range(3)
        ]
        added = await api.post(f"{base}/patrols/{pid}/points", json={"points": pts})
        assert added.json()["added"] == 3
        assert (await api.post(f"{base}/patrols/{pid}/points", json={"points": pts})).json()["added"] == 0
        assert (await api.post(f"{base}/patrols/{pid}/points", content=b"[")).status_code == 400
        ended = await api.post(f"{base}/patrols/{pid}/end", json={"note": "正常"})
        assert ended.status_code == 200 and ended.json()["ended_at"] and ended.json()["point_count"] == 3
        one = (await api.get(f"{base}/patrols/{pid}")).json()
        assert len(one["points"]) == 3 and one["distance_m"] > 0
        assert pid in [p["id"] for p in (await api.get(f"{base}/patrols")).json()["items"]]

        homes = (await api.get(f"{base}/households")).json()["items"]
        g01 = await node(app, tenant, "sl-ybs-sa-g01")
        assert homes and all(h["path"].startswith(g01.path) for h in homes)
        visit = {
            "household_id": homes[0]["id"],
            "notes": "API 走访-" + secrets.token_hex(3),
            "client_id": str(uuid.uuid4()),
        }
        first = await api.post(f"{base}/visits", json=visit)
        assert first.status_code == 201, first.text
        replay = await api.post(f"{base}/visits", json=visit)
        assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
        bad = await api.post(f"{base}/visits", json={"household_id": homes[0]["id"], "notes": ""})
        assert bad.status_code == 400 and bad.json()["field"] == "notes"
        missing = await api.post(f"{base}/visits", json={"household_id": 1, "notes": "x"})
        assert missing.status_code == 404

        entry = {"body": "API 日志", "topic": "safety", "client_id": str(uuid.uuid4())}
        made = await api.post(f"{base}/logs", json=entry)
        assert made.status_code == 201
        assert (await api.post(f"{base}/logs", json=entry)).json()["id"] == made.json()["id"]
        assert (await api.post(f"{base}/logs", json={"body": "x", "day": "2026-13-40"})).status_code == 400
        assert made.json()["id"] in [e["id"] for e in (await api.get(f"{base}/logs?mine=1")).json()["items"]]
    finally:
        await api.aclose()


async def test_the_field_api_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{T}/api/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/field/patrols", "/api/v1/field/visits", "/api/v1/field/logs"):
        assert path in paths, path


# ---- the web app ----------------------------------------------------------------------------


async def test_the_pages_install_as_a_web_app(as_grid_worker: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    manifest = await client.get(f"{T}/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == f"{T}/" and body["display"] == "standalone"
    icon = await client.get(body["icons"][0]["src"])
    assert icon.status_code == 200 and icon.content[:4] == b"\x89PNG"
    sw = await client.get(f"{T}/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["content-type"]
    assert "caches" in sw.text and ".css" not in sw.text  # no hard-coded file list
    page = await as_grid_worker.get(f"{T}/field/")
    assert f'href="{T}/manifest.webmanifest"' in page.text and 'data-sw="' in page.text
    assert (await client.get("/t/nowhere/sw.js")).status_code == 404


# ---- the service itself ---------------------------------------------------------------------


def test_distance_and_drawing_of_a_route() -> None:
    class P:
        def __init__(self, lon: float, lat: float) -> None:
            self.lon, self.lat = lon, lat

    a, b = P(117.78, 40.95), P(117.78, 40.96)
    assert fw.metres(a, b) == pytest.approx(1112, abs=2)  # 0.01° of latitude
    drawn = fw.svg_route([a, b, P(117.79, 40.96)])
    assert drawn["points"].count(",") == 3 and drawn["start"] != drawn["end"]
    assert fw.svg_route([])["points"] == ""
    assert fw.svg_route([a])["points"]  # one point: drawn, no division by zero


def test_points_from_a_phone_are_checked() -> None:
    fixes = fw.parse_fixes([{"t": 1_765_000_000_123, "lon": "117.7", "lat": 40.9, "acc": None}])
    assert fixes[0].at == datetime(2025, 12, 6, 5, 46, 40, 123000, tzinfo=UTC)
    for bad in ("x", [1], [{"t": "yesterday", "lon": 1, "lat": 1}], [{"t": 1, "lon": float("nan"), "lat": 1}]):
        with pytest.raises(fw.InvalidInput):
            fw.parse_fixes(bad)
    with pytest.raises(fw.InvalidInput):
        fw.parse_fixes([{"t": 1, "lon": 1, "lat": 1}] * (fw.MAX_BATCH + 1))


async def test_the_same_client_id_from_two_sessions_claims_once(app: Any, tenant: Any) -> None:
    from core.services import submissions

    uid = await user_id(app, tenant, "grid_worker")
    key = str(uuid.uuid4())
    async with app.state.db.transaction(tenant.id) as s:
        claim, new = await submissions.claim(s, uid, key, "test")
        assert new
        submissions.complete(claim, 42, "/x")
    async with app.state.db.transaction(tenant.id) as s:
        again, new = await submissions.claim(s, uid, key, "test")
        assert not new and again is not None and again.ref == "42" and again.location == "/x"
    assert submissions.clean_client_id("short") is None and submissions.clean_client_id("a b c d e f g h") is None


async def test_a_report_sent_twice_through_the_api_is_one_report(app: Any, tenant: Any) -> None:
    from plugins.smart_service.models import Category, Event

    api = await api_client(app, tenant, "resident")
    try:
        async with app.state.db.session(tenant.id) as s:
            category = (await s.execute(select(Category.code).where(Category.active.is_(True)).limit(1))).scalar_one()
        marker = "API 重发-" + secrets.token_hex(4)
        body = {"category": category, "description": marker, "client_id": str(uuid.uuid4())}
        first = await api.post(f"{T}/api/v1/smart-service/reports", json=body)
        assert first.status_code == 201, first.text
        again = await api.post(f"{T}/api/v1/smart-service/reports", json=body)
        assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
        async with app.state.db.session(tenant.id) as s:
            assert await s.scalar(select(func.count(Event.id)).where(Event.description == marker)) == 1
    finally:
        await api.aclose()


async def test_a_visit_keeps_its_photos_without_their_metadata_for_those_who_may_see_it(
    app: Any, tenant: Any, as_grid_worker: httpx.AsyncClient, signed_in: Any, sibling_worker: httpx.AsyncClient
) -> None:
    from tests.plugins.smart_service.fixtures.images import phone_jpeg

    room = await node(app, tenant, "sl-ybs-sa-g01-asly-b1-u1-101")
    url = f"{T}/field/households/{room.id}/visit"
    not_a_photo = await as_grid_worker.post(
        url,
        data={"_csrf_token": csrf_of(as_grid_worker), "notes": "带照片的走访"},
        files=[("photos", ("x.jpg", b"not a picture", "image/jpeg"))],
    )
    assert not_a_photo.status_code == 400 and 'aria-invalid="true"' in not_a_photo.text
    made = await as_grid_worker.post(
        url,
        data={"_csrf_token": csrf_of(as_grid_worker), "notes": "带照片的走访", "client_id": str(uuid.uuid4())},
        files=[("photos", ("p.jpg", phone_jpeg(), "image/jpeg"))],
    )
    assert made.status_code == 303, made.text[:300]
    page = await as_grid_worker.get(made.headers["location"])
    photo = re.search(r'data-testid="visit-photos"><a href="([^"]+)"', page.text).group(1)
    mine = await as_grid_worker.get(photo)
    assert mine.status_code == 200 and mine.content[:2] == b"\xff\xd8" and b"Exif" not in mine.content
    community = await signed_in("shuangluan", "community")
    assert (await community.get(photo)).status_code == 200
    assert (await sibling_worker.get(photo)).status_code == 404
    async with app.state.db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(Visit.id)).where(Visit.notes == "带照片的走访")) == 1
