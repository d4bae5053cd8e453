"""The map as its users meet it: a resident drops a pin (or sends GCJ-02 from a phone map) and the
report lands in the grid holding the point; boundaries and events come as GeoJSON scoped like the
inbox; a resident's map shows only what Open311 already publishes; the district's tile server is
a setting the page's CSP follows; a grid node's page carries the map for staff."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from core.grids import geo, locate
from core.identity.models import ApiToken
from core.tenancy.service import TenantError, set_plugin, validate_settings
from core.web.context import hash_token
from plugins.smart_service import publicity
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category, Event
from plugins.smart_service.open311_keys import ensure_api_key
from plugins.smart_service.routes.maps import tile_source
from tests.conftest import csrf_of, make_client
from tests.plugins.smart_service.fixtures.boundaries import BOXES, IN_G01, IN_G02, IN_SA_ONLY, OUTSIDE, box, draw
from tests.plugins.smart_service.fixtures.district import District, build
from tests.plugins.smart_service.fixtures.images import GPS, phone_jpeg

TIANDITU = "https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k"


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    await draw(d)
    yield d
    await d.close()


async def report(d: District, client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    data = {"_csrf_token": csrf_of(client), "category": "SR", "description": "路灯不亮", **fields}
    return await client.post(d.url("/smart-service/report"), data=data)


async def event_count(d: District) -> int:
    async with d.app.state.db.session(d.tenant.id) as s:
        return int(await s.scalar(select(func.count()).select_from(Event)) or 0)


async def newest(d: District) -> Event:
    async with d.app.state.db.session(d.tenant.id) as s:
        event = await s.scalar(select(Event).order_by(Event.created_at.desc(), Event.id.desc()).limit(1))
        assert event is not None
        return event


async def seed_event(
    d: District, where: tuple[float, float], node: str, who: str = "worker", category: str = "SR"
) -> Event:
    async with d.tx() as s:
        return await sv.report_event(
            s,
            title=f"{node} 井盖缺失",
            category_code=category,
            node_id=d.nodes[node].id,
            source="grid_patrol",
            actor=d.users[who],
            description="内部描述：不公开",
            lon=where[0],
            lat=where[1],
            reporter_name="网格员小王",
        )


async def api_client(d: District, username: str) -> httpx.AsyncClient:
    raw = "lz_" + secrets.token_urlsafe(24)
    async with d.tx() as s:
        s.add(ApiToken(user_id=d.users[username].id, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(d.app)
    client.headers["Authorization"] = f"Bearer {raw}"
    d.clients.append(client)
    return client


def names(collection: dict[str, Any]) -> set[str]:
    return {f["properties"]["name"] for f in collection["features"]}


# ---- the grid is found from the point ----------------------------------------------------------


async def test_a_resident_drops_a_pin_and_the_report_lands_in_the_grid_holding_it(district: District) -> None:
    d = district
    me = await d.client("resident")
    r = await report(d, me, lon=str(IN_G01[0]), lat=str(IN_G01[1]), node_id="")
    assert r.status_code == 303, r.text[:500]
    event = await newest(d)
    assert event.node_id == d.nodes["g01"].id
    assert (float(event.lon), float(event.lat)) == pytest.approx(IN_G01)


async def test_a_community_secretary_pin_between_the_grids_lands_in_the_community(district: District) -> None:
    d = district
    boss = await d.client("community")
    r = await report(d, boss, lon=str(IN_SA_ONLY[0]), lat=str(IN_SA_ONLY[1]))
    assert r.status_code == 303, r.text[:500]
    assert (await newest(d)).node_id == d.nodes["sa"].id
    r = await report(d, boss, lon=str(IN_G02[0]), lat=str(IN_G02[1]))
    assert (await newest(d)).node_id == d.nodes["g02"].id


async def test_without_a_typed_point_the_photos_location_finds_the_grid(district: District) -> None:
    d = district
    await draw(d, {"g02": box(GPS[0] - 0.005, GPS[1] - 0.005, GPS[0] + 0.005, GPS[1] + 0.005)})
    boss = await d.client("community")
    data = {"_csrf_token": csrf_of(boss), "category": "SR", "description": "路灯不亮"}
    files = [("photos", ("a.jpg", phone_jpeg(), "image/jpeg"))]
    r = await boss.post(d.url("/smart-service/report"), data=data, files=files)
    assert r.status_code == 303, r.text[:500]
    event = await newest(d)
    assert event.node_id == d.nodes["g02"].id
    assert (float(event.lon), float(event.lat)) == pytest.approx(GPS, abs=1e-5)


async def test_a_point_sent_in_gcj02_is_stored_in_wgs84_and_located_by_it(district: District) -> None:
    d = district
    me = await d.client("resident")
    g_lon, g_lat = geo.wgs84_to_gcj02(*IN_G01)
    # The GCJ-02 point itself lies ~500 m east-north-east: in g01's neighbour if taken at face value.
    r = await report(d, me, lon=f"{g_lon:.7f}", lat=f"{g_lat:.7f}", coord_system="gcj02")
    assert r.status_code == 303, r.text[:500]
    event = await newest(d)
    assert (float(event.lon), float(event.lat)) == pytest.approx(IN_G01, abs=2e-6)
    assert event.node_id == d.nodes["g01"].id


async def test_a_pin_outside_the_residents_own_area_is_refused_and_nothing_is_written(district: District) -> None:
    d = district
    me = await d.client("resident")
    before = await event_count(d)
    r = await report(d, me, lon=str(IN_G02[0]), lat=str(IN_G02[1]))
    assert r.status_code == 400
    assert "outside the areas you can report in" in r.text
    assert await event_count(d) == before


async def test_a_point_no_boundary_holds_and_a_chosen_grid_both_fall_back_as_before(district: District) -> None:
    d = district
    me = await d.client("resident")
    assert (await report(d, me, lon=str(OUTSIDE[0]), lat=str(OUTSIDE[1]))).status_code == 303
    assert (await newest(d)).node_id == d.nodes["g01"].id  # the resident's own grid
    boss = await d.client("community")
    r = await report(d, boss, lon=str(IN_G02[0]), lat=str(IN_G02[1]), node_id=str(d.nodes["sa"].id))
    assert r.status_code == 303
    assert (await newest(d)).node_id == d.nodes["sa"].id  # what was chosen wins over the point


async def test_an_unknown_coordinate_system_gets_a_clear_message(district: District) -> None:
    d = district
    me = await d.client("resident")
    r = await report(d, me, lon=str(IN_G01[0]), lat=str(IN_G01[1]), coord_system="bd09")
    assert r.status_code == 400 and "wgs84 or gcj02" in r.text
    api = await api_client(d, "resident")
    r = await api.post(
        d.url("/api/v1/smart-service/reports"), json={"category": "SR", "lon": 1, "lat": 1, "coord_system": "x"}
    )
    assert r.status_code == 400 and "wgs84 or gcj02" in r.json()["detail"]


async def test_the_mini_program_reports_in_gcj02_through_the_api(district: District) -> None:
    d = district
    api = await api_client(d, "resident")
    g_lon, g_lat = geo.wgs84_to_gcj02(*IN_G01)
    r = await api.post(
        d.url("/api/v1/smart-service/reports"),
        json={"category": "SR", "description": "井盖缺失", "lon": g_lon, "lat": g_lat, "coord_system": "gcj02"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["lon"], r.json()["lat"]) == pytest.approx(IN_G01, abs=2e-6)
    assert (await newest(d)).node_id == d.nodes["g01"].id


async def test_open311_takes_gcj02_too_and_finds_the_grid(district: District) -> None:
    d = district
    async with d.tx() as s:
        await ensure_api_key(s, "map-key", "map test")
    g_lon, g_lat = geo.wgs84_to_gcj02(*IN_G02)
    async with make_client(d.app) as client:
        data = {"jurisdiction_id": d.slug, "api_key": "map-key", "service_code": "SR", "description": "路面塌陷"}
        r = await client.post(
            "/open311/v2/requests.json",
            data={**data, "lat": f"{g_lat:.7f}", "long": f"{g_lon:.7f}", "coord_system": "gcj02"},
        )
        assert r.status_code == 200, r.text
        event = await d.event(r.json()[0]["service_request_id"])
        assert event.node_id == d.nodes["g02"].id
        assert (float(event.lon), float(event.lat)) == pytest.approx(IN_G02, abs=2e-6)
        r = await client.post(
            "/open311/v2/requests.json", data={**data, "lat": "40.95", "long": "117.8", "coord_system": "bd09"}
        )
        assert r.status_code == 400 and "coord_system" in r.text


async def test_locate_finds_the_deepest_node_and_respects_a_scope(district: District) -> None:
    d = district
    async with d.app.state.db.session(d.tenant.id) as s:
        assert (await locate.node_at(s, *IN_G02)).id == d.nodes["g02"].id  # type: ignore[union-attr]
        assert (await locate.node_at(s, *IN_G02, [d.nodes["g01"].path])) is None
        assert (await locate.node_at(s, *OUTSIDE)) is None
        assert (await locate.node_at_or_root(s, *OUTSIDE)).id == d.nodes["root"].id  # type: ignore[union-attr]


# ---- GeoJSON, scoped ---------------------------------------------------------------------------


async def test_boundaries_are_those_of_the_users_scope(district: District) -> None:
    d = district
    me = await d.client("resident")
    r = await me.get(d.url("/smart-service/map/areas"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert names(r.json()) == {"第一网格"}
    assert r.json()["features"][0]["geometry"] == BOXES["g01"]
    boss = await d.client("community")
    assert names((await boss.get(d.url("/smart-service/map/areas"))).json()) == {"双安社区", "第一网格", "第二网格"}
    under = await boss.get(d.url(f"/smart-service/map/areas?under={d.nodes['g02'].id}"))
    assert names(under.json()) == {"第二网格"}
    # Someone else's grid, or a node that does not exist, is not there for them.
    assert (await me.get(d.url(f"/smart-service/map/areas?under={d.nodes['g02'].id}"))).status_code == 404
    assert (await me.get(d.url("/smart-service/map/areas?under=999999999"))).status_code == 404


async def test_staff_see_the_events_of_their_scope_with_the_inbox_filters(district: District) -> None:
    d = district
    a = await seed_event(d, IN_G01, "g01")
    b = await seed_event(d, IN_G02, "g02", who="community")
    boss = await d.client("community")
    r = await boss.get(d.url("/smart-service/map/events"))
    assert r.status_code == 200
    by_number = {f["properties"]["number"]: f for f in r.json()["features"]}
    assert set(by_number) == {a.number, b.number}
    assert by_number[a.number]["geometry"] == {"type": "Point", "coordinates": list(IN_G01)}
    assert by_number[a.number]["properties"]["group"] == "new"
    assert by_number[a.number]["properties"]["url"].endswith(f"/smart-service/events/{a.id}")
    only_g02 = await boss.get(d.url(f"/smart-service/map/events?node={d.nodes['g02'].id}"))
    assert [f["properties"]["number"] for f in only_g02.json()["features"]] == [b.number]
    closed = await boss.get(d.url("/smart-service/map/events?state=closed"))
    assert closed.json()["features"] == []
    worker = await d.client("worker")
    mine = await worker.get(d.url("/smart-service/map/events"))
    assert [f["properties"]["number"] for f in mine.json()["features"]] == [a.number]
    assert (await worker.get(d.url(f"/smart-service/map/events?node={d.nodes['g02'].id}"))).status_code == 404


async def test_a_resident_may_not_read_the_staff_event_layer(district: District) -> None:
    d = district
    me = await d.client("resident")
    assert (await me.get(d.url("/smart-service/map/events"))).status_code == 403
    anonymous = make_client(d.app)
    d.clients.append(anonymous)
    r = await anonymous.get(d.url("/smart-service/map/events"))
    assert r.status_code in (302, 303, 401)


async def test_a_residents_map_shows_only_what_open311_publishes(district: District) -> None:
    d = district
    seen = await seed_event(d, IN_G01, "g01")
    hidden = await seed_event(d, IN_G02, "g02", who="community")
    me = await d.client("resident")
    assert (await report(d, me, lon=str(IN_G01[0]), lat=str(IN_G01[1]))).status_code == 303
    own = await newest(d)
    r = await me.get(d.url("/smart-service/map/reports"))
    assert r.status_code == 200
    features = {f["properties"]["number"]: f for f in r.json()["features"]}
    assert set(features) == {seen.number, own.number}  # not the other grid's
    for f in features.values():
        assert set(f["properties"]) == {"number", "service_name", "status", "requested_datetime", "mine"}
    assert features[own.number]["properties"]["mine"] is True
    assert features[seen.number]["properties"] | {"requested_datetime": ""} == {
        "number": seen.number,
        "service_name": "Exposed rubbish",
        "status": "open",
        "requested_datetime": "",
        "mine": False,
    }
    body = r.text
    for secret in ("内部描述", "网格员小王", "井盖缺失", hidden.number):
        assert secret not in body
    api = await api_client(d, "resident")
    r = await api.get(d.url("/api/v1/smart-service/map/reports"))
    assert r.status_code == 200 and {f["properties"]["number"] for f in r.json()["features"]} == set(features)


async def test_a_residents_map_leaves_out_non_public_categories_and_snaps_the_others(district: District) -> None:
    d = district
    theirs = await seed_event(d, IN_G01, "g01")
    me = await d.client("resident")
    assert (await report(d, me, lon=str(IN_G01[0]), lat=str(IN_G01[1]))).status_code == 303
    own = await newest(d)

    async def shown() -> dict[str, Any]:
        r = await me.get(d.url("/smart-service/map/reports"))
        assert r.status_code == 200
        return {f["properties"]["number"]: f["geometry"]["coordinates"] for f in r.json()["features"]}

    async with d.tx() as s:  # the district marks the category non-public (say, 邻里纠纷)
        (await s.execute(select(Category).where(Category.code == "SR"))).scalar_one().public = False
    assert set(await shown()) == {own.number}  # others' reports of it are gone; one's own stays

    async with d.tx() as s:  # public again, its points snapped to a 500 m grid
        category = (await s.execute(select(Category).where(Category.code == "SR"))).scalar_one()
        category.public, category.public_location_m = True, 500
    points = await shown()
    lat, lon = publicity.coarsen(IN_G01[1], IN_G01[0], 500)
    assert points[theirs.number] == [lon, lat] and points[theirs.number] != [IN_G01[0], IN_G01[1]]
    assert points[own.number] == pytest.approx([IN_G01[0], IN_G01[1]])  # one's own report as filed


async def test_a_residents_map_follows_the_districts_publicity_rules(district: District) -> None:
    d = district
    async with d.tx() as s:
        s.add(Category(code="NB", kind="event", name_zh="邻里纠纷", name_en="Neighbour dispute"))  # not public
        await s.execute(update(Category).where(Category.code == "SR").values(public_location_m=500))
    dispute = await seed_event(d, IN_G01, "g01", category="NB")
    rubbish = await seed_event(d, (117.80123, 40.95234), "g01")
    me = await d.client("resident")
    assert (await report(d, me, lon="117.80321", lat="40.95111")).status_code == 303
    own = await newest(d)
    features = {
        f["properties"]["number"]: f for f in (await me.get(d.url("/smart-service/map/reports"))).json()["features"]
    }
    assert dispute.number not in features  # a non-public category is not on anyone else's map
    lon, lat = features[rubbish.number]["geometry"]["coordinates"]
    assert (lon, lat) != (117.80123, 40.95234)
    assert geo.haversine_m(lon, lat, 117.80123, 40.95234) < 500  # snapped to the category's 500 m grid
    assert features[own.number]["geometry"]["coordinates"] == [117.80321, 40.95111]  # one's own, exactly


# ---- pages -------------------------------------------------------------------------------------


async def test_the_pages_carry_their_maps_and_work_without_javascript(district: District) -> None:
    d = district
    me = await d.client("resident")
    page = await me.get(d.url("/smart-service/report"))
    assert page.status_code == 200
    assert (
        re.search(r"/(static|assets/[0-9a-f]{12})/vendor/leaflet/leaflet\.js", page.text) and "data-pick" in page.text
    )
    assert "data-ss-map-wrap hidden" in page.text  # shown by the script only
    assert 'name="lon"' in page.text and 'name="coord_system"' in page.text
    boss = await d.client("community")
    for path in ("/smart-service/board", "/smart-service/events"):
        html = (await boss.get(d.url(path))).text
        assert 'data-events="/t/' in html and "/smart-service/map/events" in html
    partial = await boss.get(d.url("/smart-service/events"), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and 'data-tiles=""' in partial.text  # htmx gets the block, map included
    event = await seed_event(d, IN_G01, "g01")
    html = (await boss.get(d.url(f"/smart-service/events/{event.id}"))).text
    assert f'data-point="{IN_G01[0]:.6f},{IN_G01[1]:.6f}"' in html
    grid = (await boss.get(d.url(f"/grid/{d.nodes['sa'].id}"))).text
    assert f"/smart-service/map/events?node={d.nodes['sa'].id}" in grid


async def test_the_districts_tile_server_is_a_setting_the_pages_csp_allows(district: District, app: Any) -> None:
    d = district
    me = await d.client("resident")
    page = await me.get(d.url("/smart-service/report"))
    assert 'data-tiles=""' in page.text
    assert "tianditu" not in page.headers["content-security-policy"]
    await set_plugin(app.state.db, app.state.plugins, d.tenant, "smart_service", True, {"map_tile_url": TIANDITU})
    app.state.tenant_cache.clear()
    page = await me.get(d.url("/smart-service/report"))
    assert "t{s}.tianditu.gov.cn" in page.text
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn" in page.headers["content-security-policy"]
    # Pages without a map keep the narrow policy.
    other = await me.get(d.url("/smart-service/mine"))
    assert "tianditu" not in other.headers["content-security-policy"]


def test_a_tile_url_gives_the_host_its_images_come_from() -> None:
    assert tile_source(TIANDITU) == "https://*.tianditu.gov.cn"
    assert tile_source("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png") == "http://10.1.2.3:8080"
    assert tile_source("https://a.{s}.example.cn/{z}/{x}/{y}.png") is None
    assert tile_source("") is None


async def test_a_bad_tile_url_is_refused_by_the_settings(district: District, app: Any) -> None:
    with pytest.raises(TenantError, match="map_tile_url"):
        validate_settings(app.state.plugins, "smart_service", {"map_tile_url": "javascript:alert(1)//{z}{x}{y}"})
    ok = validate_settings(app.state.plugins, "smart_service", {"map_tile_url": TIANDITU})
    assert ok["map_tile_url"] == TIANDITU
