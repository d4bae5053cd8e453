"""Staff pages of 服务智治: the inbox, an event's page and its action forms, in a new district with a
small tree, its own handling units and staff who sign in like anyone else."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import httpx
import pytest
from PIL import Image

from core.db.base import new_id
from core.db.context import Actor
from core.grids.models import GridNode
from core.tenancy.service import ensure_user, set_plugin
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category, DispatchRule, Event, HandlingUnit
from tests.conftest import DEMO_PASSWORD, form_post, login, main_text, make_client
from tests.plugins.smart_service.fixtures.district import TREE, grow_tree

STAFF = [
    # username, display name, role, node
    ("centre", "指挥中心值班员", "district_admin", "root"),
    ("officer", "街道干部", "subdistrict_officer", "ybs"),
    ("community", "双安社区书记", "community_secretary", "sa"),
    ("worker", "网格员小王", "grid_worker", "g01"),
    ("worker2", "网格员小李", "grid_worker", "g02"),
]


@dataclass
class District:
    """区 → 元宝山街道 → 双安社区 (grids g01, g02); units 区指挥中心 / 街道办 / 双安社区."""

    app: Any
    tenant: Any
    nodes: dict[str, GridNode] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return str(self.tenant.slug)

    def url(self, path: str) -> str:
        return f"/t/{self.slug}{path}"

    async def client(self, username: str, app: Any = None) -> httpx.AsyncClient:
        c = make_client(app or self.app)
        self.clients.append(c)
        r = await login(c, self.slug, username)
        assert r.status_code == 303, r.text[:300]
        return c

    async def report(
        self, who: str = "worker", node: str = "g01", title: str = "楼道堆放杂物", app_state: Any = None
    ) -> int:
        async with self.app.state.db.transaction(self.tenant.id) as s:
            event = await sv.report_event(
                s,
                title=title,
                category_code="SR-01",
                node_id=self.nodes[node].id,
                source="grid_patrol",
                actor=Actor("user", self.users[who], who),
                lon=117.8,
                lat=40.95,
                address="安顺乐居 3 号楼",
                app_state=app_state,
            )
            return int(event.id)

    async def event(self, event_id: int) -> Event:
        async with self.app.state.db.session(self.tenant.id) as s:
            return await sv.get_event(s, event_id)


async def make_district(app: Any, tenant: Any) -> District:
    await set_plugin(app.state.db, app.state.plugins, tenant, "smart_service", True)
    d = District(app, tenant)
    async with app.state.db.transaction(tenant.id) as s:
        d.nodes.update(await grow_tree(s, [("root", None, "district", "双滦区"), *TREE[1:]]))
        for username, display, role, node_code in STAFF:
            user, _ = await ensure_user(s, username, display, DEMO_PASSWORD, role, d.nodes[node_code])
            user.locale = "en"  # messages are asserted in the source language
            d.users[username] = user.id
        s.add(Category(code="SR", kind="event", name_zh="市容环境", name_en="Cityscape"))
        await s.flush()
        s.add(Category(code="SR-01", parent_code="SR", name_zh="暴露垃圾", name_en="Exposed rubbish"))
        for code, name, level, node_code in [
            ("centre", "区指挥中心", 1, "root"),
            ("ybs", "元宝山街道办", 2, "ybs"),
            ("sa", "双安社区", 3, "sa"),
        ]:
            n = d.nodes[node_code]
            unit = HandlingUnit(id=new_id(), code=code, name=name, level=level, node_id=n.id, node_path=n.path)
            s.add(unit)
            d.units[code] = unit.id
        await s.flush()
        for category, node_code, unit_code in [(None, "root", "centre"), ("SR", "sa", "sa")]:
            n = d.nodes[node_code]
            s.add(DispatchRule(category_code=category, node_id=n.id, node_path=n.path, unit_id=d.units[unit_code]))
    app.state.tenant_cache.clear()
    return d


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> Any:
    d = await make_district(app, fresh_tenant)
    yield d
    for c in d.clients:
        await c.aclose()


def action_form(html: str, action: str) -> dict[str, str] | None:
    """The hidden fields of the form for ``action`` on the page, or None when it is not offered."""
    m = re.search(rf'<form [^>]*data-action="{action}".*?</form>', html, re.S)
    if not m:
        return None
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', m.group(0)))


def offered(html: str) -> list[str]:
    return re.findall(r'<form [^>]*data-action="([a-z_]+)"', html)


def says(response: httpx.Response) -> str:
    """What the page says, as a reader sees it (entities decoded)."""
    return unescape(main_text(response.text))


def shown_state(html: str) -> str:
    m = re.search(r'data-state="([a-z]+)"', html)
    assert m, "no state on the page"
    return m.group(1)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


async def do(d: District, client: httpx.AsyncClient, event_id: int, action: str, **fields: Any) -> httpx.Response:
    """Open the event page, then send the form for ``action`` as it is there (with its version)."""
    page = await client.get(d.url(f"/smart-service/events/{event_id}"))
    assert page.status_code == 200, page.text[:300]
    form = action_form(page.text, action)
    assert form is not None, f"{action} is not offered; offered: {offered(page.text)}"
    files = fields.pop("files", None)
    data = {**form, **{k: str(v) for k, v in fields.items()}}
    return await form_post(client, d.url(f"/smart-service/events/{event_id}/act"), data, files=files)


async def test_an_event_travels_the_whole_loop_through_the_pages_with_rework(district: District) -> None:
    d = district
    community, worker = await d.client("community"), await d.client("worker")
    event_id = await d.report()

    for action, extra in [("accept", {}), ("register", {})]:
        r = await do(d, community, event_id, action, **extra)
        assert r.status_code == 303, main_text(r.text)[:300]
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    assert shown_state(page.text) == "registered"
    # The catalogue's unit (双安社区 for 市容环境 here) is chosen already; the worker is picked.
    assert re.search(rf'<option value="{d.units["sa"]}" selected>', page.text)
    r = await do(d, community, event_id, "dispatch", unit_id=d.units["sa"], assignee_user_id=d.users["worker"])
    assert r.status_code == 303

    for action in ("sign", "handle"):
        assert (await do(d, worker, event_id, action)).status_code == 303
    photo = {"photos": ("after.jpg", jpeg(), "image/jpeg")}
    r = await do(d, worker, event_id, "feedback", note="已清理", files=photo)
    assert r.status_code == 303, main_text(r.text)[:300]

    assert (await do(d, community, event_id, "inspect")).status_code == 303
    r = await do(d, community, event_id, "rework", note="角落仍有垃圾")
    assert r.status_code == 303
    page = await worker.get(d.url(f"/smart-service/events/{event_id}"))
    assert shown_state(page.text) == "handling" and "角落仍有垃圾" in main_text(page.text)
    r = await do(d, worker, event_id, "feedback", note="已彻底清理", files={"photos": ("b.jpg", jpeg(), "image/jpeg")})
    assert r.status_code == 303
    for action in ("inspect", "pass", "close"):
        assert (await do(d, community, event_id, action)).status_code == 303

    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    text = main_text(page.text)
    assert shown_state(page.text) == "closed"
    assert "Send back for rework" in text
    assert offered(page.text) == ["revisit"]  # a closed case: only the follow-up visit is left
    # Before (none reported) and after: the two 反馈 photos, as thumbnails linking to the files.
    after = re.search(r"<h3>After</h3>(.*?)</div>\s*</div>", page.text, re.S)
    assert after and len(re.findall(r'<a href="/t/[^"]+/files/\d+"', after.group(1))) == 2
    thumb = re.search(r'<img src="(/t/[^"]+/files/\d+)"', after.group(1))
    assert thumb and (await community.get(thumb.group(1))).status_code == 200


async def test_a_grid_worker_returns_a_case_that_is_not_theirs_with_a_reason(district: District) -> None:
    d = district
    community, worker = await d.client("community"), await d.client("worker")
    event_id = await d.report()
    for action in ("accept", "register"):
        await do(d, community, event_id, action)
    await do(d, community, event_id, "dispatch", unit_id=d.units["sa"], assignee_user_id=d.users["worker"])

    r = await do(d, worker, event_id, "return", note="")
    assert r.status_code == 422 and 'A note is required to "Return"' in says(r)
    r = await do(d, worker, event_id, "return", note="不属于本网格，是物业管辖")
    assert r.status_code == 303
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    assert shown_state(page.text) == "registered"
    assert "不属于本网格，是物业管辖" in main_text(page.text)
    assert "dispatch" in offered(page.text)  # back with the dispatcher


async def test_the_inbox_shows_only_cases_in_the_users_area(district: District) -> None:
    d = district
    mine, theirs = await d.report(node="g01", title="第一网格的事"), await d.report(node="g02", title="第二网格的事")
    worker, community = await d.client("worker"), await d.client("community")

    text = main_text((await worker.get(d.url("/smart-service/events"))).text)
    assert "第一网格的事" in text and "第二网格的事" not in text
    assert (await worker.get(d.url(f"/smart-service/events/{theirs}"))).status_code == 404
    assert (await worker.get(d.url(f"/smart-service/events/{mine}"))).status_code == 200
    r = await form_post(worker, d.url(f"/smart-service/events/{theirs}/act"), {"action": "supervise", "note": "x"})
    assert r.status_code == 404

    # The community sees both grids' cases, on /smart-service/ too.
    text = main_text((await community.get(d.url("/smart-service/"))).text)
    assert "第一网格的事" in text and "第二网格的事" in text


async def test_the_inbox_filters_and_says_when_nothing_matches(district: District) -> None:
    d = district
    await d.report(title="占道经营")
    await d.report(title="井盖破损")
    community = await d.client("community")
    text = main_text((await community.get(d.url("/smart-service/events?q=井盖"))).text)
    assert "井盖破损" in text and "占道经营" not in text
    text = main_text((await community.get(d.url("/smart-service/events?mine=1"))).text)
    assert "No events match these filters." in text
    text = main_text((await community.get(d.url("/smart-service/events?state=closed"))).text)
    assert "No events match these filters." in text
    r = await community.get(d.url("/smart-service/events?state=reported&level=3&category=SR&overdue="))
    assert r.status_code == 200 and "占道经营" in says(r)


async def test_an_overdue_case_is_highlighted_in_the_inbox(district: District) -> None:
    d = district
    event_id = await d.report(title="过期未受理")
    async with d.app.state.db.transaction(d.tenant.id) as s:
        event = await sv.get_event(s, event_id)
        event.due_at = event.created_at.replace(year=event.created_at.year - 1)
    community = await d.client("community")
    html = (await community.get(d.url("/smart-service/events?overdue=1"))).text
    assert re.search(r'class="ss-card ss-overdue"[^>]*>.*?过期未受理', html, re.S)


async def test_a_form_someone_else_acted_on_meanwhile_is_refused(district: District) -> None:
    d = district
    community, officer = await d.client("community"), await d.client("officer")
    event_id = await d.report()
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    stale = action_form(page.text, "accept")
    assert stale is not None
    assert (await do(d, community, event_id, "accept")).status_code == 303  # someone else, first
    # The first form again: same version as before.
    r = await form_post(
        community, d.url(f"/smart-service/events/{event_id}/act"), {**stale, "action": "reject", "note": "重复"}
    )
    assert r.status_code == 409
    assert "changed by someone else" in says(r)
    assert (await d.event(event_id)).state == "accepted"
    assert officer is not None


async def test_an_action_that_is_not_possible_now_shows_why_and_changes_nothing(district: District) -> None:
    d = district
    community = await d.client("community")
    event_id = await d.report()
    before = await d.event(event_id)
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    assert offered(page.text)[:2] == ["accept", "reject"] and "close" not in offered(page.text)
    version = action_form(page.text, "accept")["version"]  # type: ignore[index]
    r = await form_post(
        community, d.url(f"/smart-service/events/{event_id}/act"), {"action": "close", "version": version}
    )
    assert r.status_code == 422
    assert '"Close" is not possible while the event is "Reported"' in says(r)
    after = await d.event(event_id)
    assert (after.state, after.version) == (before.state, before.version)


async def test_a_grid_worker_is_not_offered_the_command_centres_actions(district: District) -> None:
    d = district
    worker = await d.client("worker")
    event_id = await d.report()
    page = await worker.get(d.url(f"/smart-service/events/{event_id}"))
    assert offered(page.text) == []
    r = await form_post(worker, d.url(f"/smart-service/events/{event_id}/act"), {"action": "accept", "version": "1"})
    assert r.status_code == 422 and 'You may not "Accept" this event' in says(r)


async def test_an_htmx_action_swaps_only_the_event_panel(district: District) -> None:
    d = district
    community = await d.client("community")
    event_id = await d.report()
    page = await community.get(d.url(f"/smart-service/events/{event_id}"))
    form = action_form(page.text, "accept")
    r = await form_post(community, d.url(f"/smart-service/events/{event_id}/act"), form, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="ss-event-panel">') and "<html" not in r.text
    assert shown_state(r.text) == "accepted" and "register" in offered(r.text)
    # A refusal comes back the same way, with the message in the panel.
    r = await form_post(community, d.url(f"/smart-service/events/{event_id}/act"), form, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "changed by someone else" in r.text


async def test_a_merge_needs_an_event_number_the_user_can_see(district: District) -> None:
    d = district
    community = await d.client("community")
    first, duplicate = await d.report(title="原单"), await d.report(title="重复单")
    r = await do(d, community, duplicate, "merge", into="SL-19990101-0001")
    assert r.status_code == 422 and "The event to merge into was not found" in says(r)
    number = (await d.event(first)).number
    r = await do(d, community, duplicate, "merge", into=number)
    assert r.status_code == 303
    assert (await d.event(duplicate)).merged_into_id == first


# ---- configuration ---------------------------------------------------------------------------


async def test_a_district_admin_adds_a_category_and_a_wrong_form_says_what_is_wrong(district: District) -> None:
    d = district
    admin = await d.client("centre")
    url = d.url("/smart-service/admin/categories")
    r = await form_post(
        admin, url, {"code": "bad code!", "kind": "event", "name_zh": "", "urgency": "1", "limit_handle": "-3"}
    )
    assert r.status_code == 422
    text = says(r)
    assert "Use 1 to 32 letters, digits, - or _" in text and "Give the name" in text
    assert "Give a number of working hours above 0" in text

    form = {"code": "SR-02", "parent_code": "SR", "kind": "event", "name_zh": "乱贴小广告", "urgency": "2"}
    r = await form_post(admin, url, {**form, "limit_handle": "4", "urgent_handle": "2", "active": "1"})
    assert r.status_code == 303
    async with d.app.state.db.session(d.tenant.id) as s:
        from sqlalchemy import select

        row = (await s.execute(select(Category).where(Category.code == "SR-02"))).scalar_one()
        assert (row.parent_code, row.urgency, row.time_limits, row.urgent_time_limits) == (
            "SR",
            2,
            {"handle": 4},
            {"handle": 2},
        )
    r = await form_post(admin, url, {**form, "name_zh": "另一个"})
    assert r.status_code == 422 and "This code is taken" in says(r)
    # Editing keeps the code and changes the rest.
    r = await form_post(admin, url, {**form, "id": str(row.id), "name_zh": "乱张贴", "active": "1"})
    assert r.status_code == 303 and "乱张贴" in says(await admin.get(url))


async def test_the_working_calendar_takes_hours_weekdays_and_holidays(district: District) -> None:
    d = district
    admin = await d.client("centre")
    url = d.url("/smart-service/admin/calendar")
    r = await form_post(admin, url, {"periods": "12:00-08:30", "weekdays": "0", "timezone": "Asia/Shanghai"})
    assert r.status_code == 422 and "in order and not overlapping" in says(r)
    r = await form_post(admin, url, {"periods": "09:00-12:00, 14:00-18:00", "weekdays": ["0", "1", "2", "3", "4", "5"]})
    assert r.status_code == 303
    page = await admin.get(url)
    assert 'value="09:00-12:00, 14:00-18:00"' in page.text and 'name="weekdays" value="5" checked' in page.text

    r = await form_post(admin, url + "/days", {"day": "2026-10-01", "note": "国庆节"})
    assert r.status_code == 303
    r = await form_post(admin, url + "/days", {"day": "2026-10-01"})
    assert r.status_code == 422 and "This day is in the calendar already" in says(r)
    r = await form_post(admin, url + "/days", {"day": "10/11/2026"})
    assert r.status_code == 422 and "Give the date as YYYY-MM-DD" in says(r)
    text = says(await admin.get(url))
    assert "2026-10-01 · Holiday · 国庆节" in text


async def test_units_and_dispatch_rules_decide_where_a_case_is_sent(district: District) -> None:
    d = district
    admin = await d.client("centre")
    r = await form_post(
        admin,
        d.url("/smart-service/admin/units"),
        {"code": "g02-team", "name": "第二网格工作组", "level": "3", "node": "nowhere"},
    )
    assert r.status_code == 422 and "No grid node has this code" in says(r)
    r = await form_post(
        admin,
        d.url("/smart-service/admin/units"),
        {"code": "g02-team", "name": "第二网格工作组", "level": "3", "node": "g02", "active": "1"},
    )
    assert r.status_code == 303
    async with d.app.state.db.session(d.tenant.id) as s:
        from sqlalchemy import select

        unit = (await s.execute(select(HandlingUnit).where(HandlingUnit.code == "g02-team"))).scalar_one()
    r = await form_post(admin, d.url("/smart-service/admin/dispatch"), {"category": "SR-01", "node": "g02", "unit": ""})
    assert r.status_code == 422 and "Choose a handling unit" in says(r)
    r = await form_post(
        admin, d.url("/smart-service/admin/dispatch"), {"category": "SR-01", "node": "g02", "unit": str(unit.id)}
    )
    assert r.status_code == 303
    assert "第二网格工作组" in says(await admin.get(d.url("/smart-service/admin/dispatch")))

    # A case in g02, registered: the dispatch form proposes the new unit (most specific area wins).
    event_id = await d.report(node="g02")
    for action in ("accept", "register"):
        await do(d, admin, event_id, action)
    page = await admin.get(d.url(f"/smart-service/events/{event_id}"))
    assert re.search(rf'<option value="{unit.id}" selected>', page.text)


async def test_configuration_is_for_those_allowed_to_edit_it(district: District) -> None:
    d = district
    community = await d.client("community")
    for path in ("categories", "calendar", "units", "dispatch"):
        assert (await community.get(d.url(f"/smart-service/admin/{path}"))).status_code == 403
    r = await form_post(community, d.url("/smart-service/admin/units"), {"code": "x", "name": "x", "level": "3"})
    assert r.status_code == 403


def total(response: httpx.Response) -> int:
    m = re.search(r'data-total="(\d+)"', response.text)
    assert m, "no count on the page"
    return int(m.group(1))


async def test_the_demo_districts_inbox_and_board_open_for_its_staff(
    as_admin: httpx.AsyncClient, as_grid_worker: httpx.AsyncClient
) -> None:
    r = await as_admin.get("/t/shuangluan/smart-service/")
    assert r.status_code == 200
    cards = re.findall(r'class="ss-card[^"]*" href="(/t/shuangluan/smart-service/events/\d+)"', r.text)
    assert 0 < len(cards) <= 50
    assert (await as_admin.get(cards[0])).status_code == 200
    assert (await as_admin.get("/t/shuangluan/smart-service/board")).status_code == 200
    # The grid worker's list holds their grid's cases only: fewer than the whole district's.
    everything = await as_admin.get("/t/shuangluan/smart-service/events?state=all")
    theirs = await as_grid_worker.get("/t/shuangluan/smart-service/events?state=all")
    assert theirs.status_code == 200 and total(theirs) < total(everything)
