"""Open311 GeoReport v2 as a client sees it: discovery, services and their definitions, POSTing a
request with an API key, reading requests back with the spec's filters, tokens, FixMyStreet's
servicerequestupdates, and the spec's error bodies — in XML and in JSON."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from core.db.base import new_id
from core.db.context import Actor
from core.grids.models import GridNode
from core.tenancy.service import set_plugin
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category, DispatchRule, Event, EventTransition, HandlingUnit
from plugins.smart_service.open311_keys import ensure_api_key
from tests.conftest import make_client
from tests.plugins.smart_service.fixtures.district import grow_tree

KEY = "test-open311-key"
# 双滦区 (root) and its first grid, a square around (117.80, 40.95).
ROOT_BOX = [[117.70, 40.85], [117.90, 40.85], [117.90, 41.05], [117.70, 41.05], [117.70, 40.85]]
GRID_BOX = [[117.79, 40.94], [117.81, 40.94], [117.81, 40.96], [117.79, 40.96], [117.79, 40.94]]
IN_GRID = ("40.950000", "117.800000")  # lat, long


@dataclass
class Open311District:
    slug: str
    tenant_id: int
    db: Any
    client: httpx.AsyncClient
    nodes: dict[str, GridNode] = field(default_factory=dict)

    def url(self, path: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"jurisdiction_id": self.slug, **params}.items())
        return f"/open311/v2/{path}?{query}"

    async def post(self, fmt: str = "json", **fields: Any) -> httpx.Response:
        data = {"jurisdiction_id": self.slug, **fields}
        return await self.client.post(f"/open311/v2/requests.{fmt}", data=data)

    async def report(self, **fields: Any) -> str:
        r = await self.post(
            api_key=KEY, service_code="SR-01", lat=IN_GRID[0], long=IN_GRID[1], description="垃圾", **fields
        )
        assert r.status_code == 200, r.text
        return str(r.json()[0]["service_request_id"])

    async def event(self, number: str) -> Event:
        async with self.db.session(self.tenant_id) as s:
            return await sv.get_by_number(s, number)


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> Any:
    nodes = await seed_district(app, fresh_tenant)
    async with make_client(app) as client:
        yield Open311District(fresh_tenant.slug, fresh_tenant.id, app.state.db, client, nodes)


async def seed_district(app: Any, tenant: Any) -> dict[str, GridNode]:
    """服务智治 on for ``tenant``: a district node with one grid (boundaries), a category with its
    handling unit and dispatch rule, and the API key ``KEY``."""
    db = app.state.db
    await set_plugin(db, app.state.plugins, tenant, "smart_service", True)
    app.state.tenant_cache.clear()
    async with db.transaction(tenant.id) as s:
        nodes = await grow_tree(s, [("root", None, "district", "双滦区"), ("g01", "root", "grid", "第一网格")])
        for code, box in (("root", ROOT_BOX), ("g01", GRID_BOX)):
            nodes[code].boundary = {"type": "Polygon", "coordinates": [box]}
        s.add(Category(code="SR", kind="event", name_zh="市容环境", name_en="City appearance"))
        await s.flush()
        s.add(Category(code="SR-01", parent_code="SR", name_zh="暴露垃圾", name_en="Exposed rubbish"))
        unit = HandlingUnit(id=new_id(), code="g01", name="第一网格工作站", level=3, node_id=nodes["g01"].id)
        unit.node_path = nodes["g01"].path
        s.add(unit)
        await s.flush()
        s.add(DispatchRule(category_code="SR", node_id=nodes["root"].id, node_path=nodes["root"].path, unit_id=unit.id))
        await ensure_api_key(s, KEY, "城市助手 App")
    return nodes


def xml(r: httpx.Response) -> ET.Element:
    assert r.headers["content-type"].startswith("text/xml"), r.headers["content-type"]
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(r.content)


# ---- discovery, services, definitions ----------------------------------------------------------


async def test_discovery_names_the_v2_endpoint_and_both_formats(district: Open311District) -> None:
    d = district
    root = xml(await d.client.get(d.url("discovery.xml")))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url", "").endswith("/open311/v2")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert root.findtext("changeset", "").endswith("+08:00")

    doc = (await d.client.get(d.url("discovery.json"))).json()
    assert doc["endpoints"][0]["formats"] == ["text/xml", "application/json"]


async def test_services_list_the_categories_with_their_group_in_xml_and_json(district: Open311District) -> None:
    d = district
    root = xml(await d.client.get(d.url("services.xml")))
    assert root.tag == "services"
    by_code = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(by_code) == {"SR", "SR-01"}
    assert by_code["SR-01"].findtext("service_name") == "暴露垃圾"
    assert by_code["SR-01"].findtext("group") == "市容环境"
    assert by_code["SR-01"].findtext("metadata") == "true"
    assert by_code["SR-01"].findtext("type") == "realtime"

    english = await d.client.get(d.url("services.json"), headers={"accept-language": "en"})
    assert english.headers["content-type"].startswith("application/json")
    services = {s["service_code"]: s for s in english.json()}
    assert services["SR-01"]["service_name"] == "Exposed rubbish" and services["SR-01"]["metadata"] is True


async def test_a_service_definition_lists_its_attributes_and_their_values(district: Open311District) -> None:
    d = district
    root = xml(await d.client.get(d.url("services/SR-01.xml")))
    assert root.tag == "service_definition" and root.findtext("service_code") == "SR-01"
    attributes = {a.findtext("code"): a for a in root.findall("attributes/attribute")}
    assert set(attributes) == {"TITLE", "URGENCY"}
    urgency = attributes["URGENCY"]
    assert urgency.findtext("datatype") == "singlevaluelist" and urgency.findtext("variable") == "true"
    assert [v.findtext("key") for v in urgency.findall("values/value")] == ["1", "2", "3"]

    doc = (await d.client.get(d.url("services/SR-01.json"))).json()
    assert [a["code"] for a in doc["attributes"]] == ["TITLE", "URGENCY"]
    assert doc["attributes"][1]["values"][1]["key"] == "2"


# ---- POST requests -----------------------------------------------------------------------------


async def test_posting_without_a_valid_api_key_is_refused_with_the_spec_403(district: Open311District) -> None:
    d = district
    r = await d.post("xml", service_code="SR-01", lat=IN_GRID[0], long=IN_GRID[1])
    assert r.status_code == 403
    error = xml(r).find("error")
    assert error is not None and error.findtext("code") == "403"
    assert "api_key" in error.findtext("description", "")

    r = await d.post("json", api_key="wrong", service_code="SR-01", lat=IN_GRID[0], long=IN_GRID[1])
    assert r.status_code == 403
    assert r.json()[0]["code"] == 403 and "api_key" in r.json()[0]["description"]


async def test_a_posted_request_becomes_an_event_in_the_grid_it_is_in(district: Open311District) -> None:
    d = district
    r = await d.post(
        "xml",
        api_key=KEY,
        service_code="SR-01",
        lat=IN_GRID[0],
        long=IN_GRID[1],
        description="小区门口垃圾堆积三天",
        media_url="https://example.org/p/1.jpg",
        first_name="三",
        last_name="张",
        phone="13800138000",
        email="zhang@example.org",
        **{"attribute[URGENCY]": "2", "attribute[TITLE]": "门口垃圾"},
    )
    assert r.status_code == 200, r.text
    request = xml(r).find("request")
    assert request is not None
    number = request.findtext("service_request_id", "")
    assert number.startswith("SL-")
    token = request.findtext("token", "")
    assert token

    event = await d.event(number)
    assert event.node_id == d.nodes["g01"].id
    assert (event.title, event.urgency, event.source) == ("门口垃圾", 2, "resident")
    assert event.reporter_phone_masked and "8000" in event.reporter_phone_masked

    # Read back by id, and through the token.
    doc = (await d.client.get(d.url(f"requests/{number}.json"))).json()[0]
    assert doc["service_request_id"] == number and doc["status"] == "open"
    assert doc["service_code"] == "SR-01" and doc["description"] == "小区门口垃圾堆积三天"
    assert doc["lat"] == 40.95 and doc["long"] == 117.8
    assert doc["media_url"] == "https://example.org/p/1.jpg"
    assert doc["requested_datetime"].endswith("+08:00") and doc["expected_datetime"].endswith("+08:00")
    root = xml(await d.client.get(d.url(f"tokens/{token}.xml")))
    assert root.findtext("request/service_request_id") == number and root.findtext("request/token") == token


async def test_a_posted_photo_is_stored_with_the_report(district: Open311District) -> None:
    d = district
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "JPEG")
    r = await d.client.post(
        "/open311/v2/requests.json",
        data={"jurisdiction_id": d.slug, "api_key": KEY, "service_code": "SR-01", "address_string": "安顺路 1 号"},
        files={"media": ("p.jpg", buf.getvalue(), "image/jpeg")},
    )
    assert r.status_code == 200, r.text
    event = await d.event(r.json()[0]["service_request_id"])
    assert event.node_id == d.nodes["root"].id and event.address == "安顺路 1 号"
    async with d.db.session(d.tenant_id) as s:
        line = (await sv.timeline(s, event.id))[0]
    assert len(line.photos) == 1


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_bad_posts_get_the_spec_400_with_a_reason(district: Open311District, fmt: str) -> None:
    d = district
    d.client.headers["accept-language"] = "en"  # the reasons in English (the district's language is Chinese)

    def described(r: httpx.Response) -> str:
        assert r.status_code == 400, r.text
        if fmt == "json":
            assert r.json()[0]["code"] == 400
            return str(r.json()[0]["description"])
        return xml(r).findtext("error/description", "")

    assert "service_code" in described(await d.post(fmt, api_key=KEY, service_code="NOPE", lat="40.95", long="117.8"))
    assert "location" in described(await d.post(fmt, api_key=KEY, service_code="SR-01"))
    too_long = "字" * 4001
    assert "4000" in described(
        await d.post(fmt, api_key=KEY, service_code="SR-01", lat="40.95", long="117.8", description=too_long)
    )
    assert "phone" in described(
        await d.post(fmt, api_key=KEY, service_code="SR-01", lat="40.95", long="117.8", phone="call me")
    )


# ---- GET requests ------------------------------------------------------------------------------


async def test_requests_are_filtered_by_id_code_status_and_paged(district: Open311District) -> None:
    d = district
    first, second, third = [await d.report() for _ in range(3)]
    async with d.db.transaction(d.tenant_id) as s:
        rejected = (await sv.get_by_number(s, second)).id
        await sv.transition(s, rejected, "reject", Actor("system", None, "t"), "内部：重复")
        await sv.publish_note(s, rejected, Actor("system", None, "t"), "重复")

    def ids(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert ids(await d.client.get(d.url("requests.json"))) == [third, second, first]  # newest first
    assert ids(await d.client.get(d.url("requests.json", status="closed"))) == [second]
    assert ids(await d.client.get(d.url("requests.json", status="open"))) == [third, first]
    assert ids(await d.client.get(d.url("requests.json", service_request_id=f"{first},{third}"))) == [third, first]
    assert ids(await d.client.get(d.url("requests.json", service_code="SR"))) == []
    assert ids(await d.client.get(d.url("requests.json", page_size="2", page="2"))) == [first]
    assert ids(await d.client.get(d.url("requests.json", end_date="2000-01-01"))) == []

    root = xml(await d.client.get(d.url("requests.xml", status="closed")))
    assert root.tag == "service_requests"
    closed = root.find("request")
    assert closed is not None
    # The note written for residents, never the staff's own (publicity.py).
    assert closed.findtext("status") == "closed" and closed.findtext("status_notes") == "重复"
    assert closed.findtext("expected_datetime") is None or closed.findtext("expected_datetime") == ""
    assert closed.findtext("agency_responsible") == ""  # never dispatched


async def test_agency_responsible_is_the_unit_handling_it(district: Open311District) -> None:
    d = district
    number = await d.report()
    async with d.db.transaction(d.tenant_id) as s:
        event = await sv.get_by_number(s, number)
        for action in ("accept", "register", "dispatch"):
            await sv.transition(s, event, action, Actor("system", None, "t"))
    doc = (await d.client.get(d.url(f"requests/{number}.json"))).json()[0]
    assert doc["agency_responsible"] == "第一网格工作站"


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_unknown_things_and_bad_dates_answer_400_or_404_in_the_asked_format(
    district: Open311District, fmt: str
) -> None:
    d = district

    async def code(path: str, **params: str) -> int:
        r = await d.client.get(d.url(path, **params))
        body = r.json()[0]["code"] if fmt == "json" else int(xml(r).findtext("error/code", "0"))
        assert body == r.status_code
        return r.status_code

    assert await code(f"requests/SL-19990101-0001.{fmt}") == 404
    assert await code(f"services/NOPE.{fmt}") == 404
    assert await code(f"requests.{fmt}", service_code="NOPE") == 400
    assert await code(f"requests.{fmt}", start_date="yesterday") == 400
    assert await code(f"requests.{fmt}", status="pending") == 400
    assert await code(f"servicerequestupdates.{fmt}", end_date="2026-13-40") == 400


async def test_a_district_without_smart_service_or_unknown_is_not_found(app: Any, fresh_tenant: Any) -> None:
    async with make_client(app) as client:
        r = await client.get(f"/open311/v2/services.json?jurisdiction_id={fresh_tenant.slug}")
        assert r.status_code == 404 and r.json()[0]["code"] == 404
        r = await client.get("/open311/v2/services.xml?jurisdiction_id=no-such-district")
        assert r.status_code == 404 and ET.fromstring(r.content).findtext("error/code") == "404"
        r = await client.get("/open311/v2/services.json")  # a shared host needs the jurisdiction
        assert r.status_code == 400 and "jurisdiction_id" in r.json()[0]["description"]
        for fmt in ("json", "xml"):  # except for discovery, which says where the endpoint is
            r = await client.get(f"/open311/v2/discovery.{fmt}")
            assert r.status_code == 200
            if fmt == "json":
                assert r.json()["endpoints"][0]["url"].endswith("/open311/v2")
                assert "jurisdiction_id" in r.json()["contact"]
            else:
                assert ET.fromstring(r.content).findtext("endpoints/endpoint/url", "").endswith("/open311/v2")


async def test_under_the_tenant_prefix_no_jurisdiction_id_is_needed(district: Open311District) -> None:
    d = district
    r = await d.client.get(f"/t/{d.slug}/open311/v2/services.json")
    assert r.status_code == 200 and {s["service_code"] for s in r.json()} == {"SR", "SR-01"}


# ---- FixMyStreet's servicerequestupdates ----------------------------------------------------------


async def test_servicerequestupdates_lists_transitions_made_by_staff(district: Open311District) -> None:
    d = district
    number = await d.report()
    async with d.db.transaction(d.tenant_id) as s:
        await sv.transition(s, (await sv.get_by_number(s, number)).id, "accept", Actor("system", None, "t"), "内部")
    async with d.db.session(d.tenant_id) as s:
        line = (await s.execute(select(EventTransition).where(EventTransition.action == "accept"))).scalar_one()

    root = xml(await d.client.get(d.url("servicerequestupdates.xml", start_date="2000-01-01T00:00:00Z")))
    assert root.tag == "service_request_updates"
    updates = root.findall("request_update")
    assert len(updates) == 1  # the report itself is the request, not an update
    update = updates[0]
    assert update.findtext("update_id") == str(line.id)
    assert update.findtext("service_request_id") == number
    assert update.findtext("status") == "INVESTIGATING"
    assert update.findtext("description") == "受理"  # the step taken; the staff's note stays inside
    assert update.findtext("updated_datetime", "").endswith("+08:00")

    doc = json.loads((await d.client.get(d.url("servicerequestupdates.json", end_date="2000-01-01"))).content)
    assert doc == []
