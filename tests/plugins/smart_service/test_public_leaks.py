"""Public data leaks nothing: events carrying internal notes (督办, 挂账 reasons, 退单, 返工, inspection
remarks), personal data, and events of non-public categories (邻里纠纷, 群租, public order) are put
through every public output — Open311 GET in JSON and XML (discovery, services, requests, one
request, servicerequestupdates) and the reporter's own page and API — and none of those secrets
may appear; the note written for residents does, and locations are coarsened per category."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select, update

from core.db.base import new_id
from core.db.context import Actor
from core.identity.models import ApiToken, User
from core.rbac.models import RoleAssignment
from core.web.context import hash_token
from plugins.smart_service import publicity
from plugins.smart_service import services as sv
from plugins.smart_service.models import Category, Event
from tests.conftest import DEMO_PASSWORD, login, make_client
from tests.plugins.smart_service import test_open311
from tests.plugins.smart_service.test_open311 import Open311District

open311_district = test_open311.district  # the Open311 tests' district, as a fixture of this module

SECRETS = {
    "supervise": "督办SECRET-督办限期",
    "request_park": "挂账SECRET-资金未到位",
    "return": "退单SECRET-不归我管",
    "rework": "返工SECRET-没扫干净",
    "feedback": "反馈SECRET-内部说明",
    "accept": "受理SECRET-内部核实",
}
PERSONAL = ("张三丰", "13812345678", "110101199003071234", "0314-2081234")
HIDDEN_TITLE = "邻里纠纷HIDDEN-楼上漏水"
HIDDEN_DESCRIPTION = "群租HIDDEN-十二人一套"
PUBLIC_NOTE = "已安排环卫车今日清运PUBLIC"
SYSTEM = Actor("system", None, "t")


async def _reporter(d: Open311District) -> tuple[int, str]:
    username = "resident-" + new_id().__str__()[-6:]
    from core.identity.passwords import hash_password

    async with d.db.transaction(d.tenant_id) as s:
        user = User(id=new_id(), username=username, display_name="张三丰", password_hash=hash_password(DEMO_PASSWORD))
        s.add(user)
        await s.flush()
        node = d.nodes["g01"]
        s.add(RoleAssignment(user_id=user.id, role_code="resident", node_id=node.id, node_path=node.path))
    return user.id, username


async def _photo(s: Any) -> int:
    from core.services.files.models import StoredFile

    row = StoredFile(
        id=new_id(),
        owner_type="test",
        owner_id="",
        filename="a.jpg",
        content_type="image/jpeg",
        size=1,
        sha256="0" * 64,
        storage_key="k",
    )
    s.add(row)
    await s.flush()
    return row.id


async def seed(d: Open311District) -> dict[str, Any]:
    user_id, username = await _reporter(d)
    reporter = Actor("user", user_id, "张三丰")
    async with d.db.transaction(d.tenant_id) as s:
        s.add(Category(code="ZA", kind="event", name_zh="社会治安", name_en="Public order"))
        await s.flush()
        s.add(Category(code="ZA-01", parent_code="ZA", name_zh="噪声扰民", name_en="Noise"))
        s.add(Category(code="LJ", kind="event", name_zh="邻里纠纷", name_en="Neighbour dispute"))
        s.add(Category(code="QZ", kind="event", name_zh="群租房", name_en="Overcrowded rental"))
        await s.flush()
        await s.execute(update(Category).where(Category.code == "SR-01").values(public_location_m=500))
        public = await sv.report_event(
            s,
            title="小区门口垃圾堆积",
            category_code="SR-01",
            node_id=d.nodes["g01"].id,
            source="resident",
            actor=reporter,
            description=f"联系我 {PERSONAL[1]}，身份证 {PERSONAL[2]}，座机 {PERSONAL[3]}",
            lon=117.801234,
            lat=40.951234,
            address="安顺乐居3号楼2单元501室",
            reporter_name=PERSONAL[0],
        )
        hidden = []
        for code in ("LJ", "QZ", "ZA-01"):
            hidden.append(
                await sv.report_event(
                    s,
                    title=HIDDEN_TITLE,
                    category_code=code,
                    node_id=d.nodes["g01"].id,
                    source="resident",
                    actor=reporter,
                    description=HIDDEN_DESCRIPTION,
                    lon=117.8,
                    lat=40.95,
                )
            )
        photo = await _photo(s)
        e = public.id
        await sv.transition(s, e, "accept", SYSTEM, SECRETS["accept"])
        await sv.transition(s, e, "register", SYSTEM)
        await sv.transition(s, e, "dispatch", SYSTEM)
        await sv.transition(s, e, "return", SYSTEM, SECRETS["return"])
        await sv.transition(s, e, "dispatch", SYSTEM)
        await sv.transition(s, e, "supervise", SYSTEM, SECRETS["supervise"])
        await sv.transition(s, e, "request_park", SYSTEM, SECRETS["request_park"])
        await sv.transition(s, e, "reject_park", SYSTEM, SECRETS["request_park"])
        await sv.transition(s, e, "sign", SYSTEM)
        await sv.transition(s, e, "handle", SYSTEM)
        await sv.transition(s, e, "feedback", SYSTEM, SECRETS["feedback"], photos=[photo])
        await sv.transition(s, e, "inspect", SYSTEM)
        await sv.transition(s, e, "rework", SYSTEM, SECRETS["rework"])
        await sv.publish_note(s, e, SYSTEM, PUBLIC_NOTE)
        for h in hidden:
            await sv.transition(s, h.id, "accept", SYSTEM)
            await sv.publish_note(s, h.id, SYSTEM, "HIDDEN-公开说明")
    return {"public": public, "hidden": hidden, "username": username}


def assert_clean(where: str, body: str) -> None:
    for secret in SECRETS.values():
        assert secret not in body, f"{where}: internal note {secret!r} leaked"
    for personal in PERSONAL:
        assert personal not in body, f"{where}: personal data {personal!r} leaked"
    assert "HIDDEN" not in body, f"{where}: an event of a non-public category leaked"
    assert "安顺乐居3号楼2单元501室" not in body, f"{where}: the exact address of a coarsened category leaked"


async def test_no_public_output_shows_internal_notes_personal_data_or_non_public_events(
    open311_district: Open311District, app: Any
) -> None:
    d = open311_district
    made = await seed(d)
    public: Event = made["public"]
    hidden_numbers = [h.number for h in made["hidden"]]
    outputs: dict[str, httpx.Response] = {}
    for fmt in ("json", "xml"):
        for path, params in [
            (f"discovery.{fmt}", {}),
            (f"services.{fmt}", {}),
            (f"requests.{fmt}", {}),
            (f"requests.{fmt}", {"status": "open"}),
            (f"requests.{fmt}", {"service_code": "LJ,QZ,ZA-01,SR-01"}),
            (f"requests.{fmt}", {"service_request_id": ",".join([public.number, *hidden_numbers])}),
            (f"requests/{public.number}.{fmt}", {}),
            (f"servicerequestupdates.{fmt}", {"start_date": "2000-01-01T00:00:00Z"}),
        ]:
            r = await d.client.get(d.url(path, **params))
            assert r.status_code == 200, (path, r.text)
            outputs[f"{path}?{params}"] = r
        for number in hidden_numbers:  # a non-public event is not there at all
            r = await d.client.get(d.url(f"requests/{number}.{fmt}"))
            assert r.status_code == 404
    r = await d.client.get("/open311/v2/discovery.json")
    outputs["shared discovery"] = r

    # The reporter's own page and API (their report of a public category, with our note for them).
    async with make_client(app) as resident:
        assert (await login(resident, d.slug, made["username"])).status_code == 303
        page = await resident.get(f"/t/{d.slug}/smart-service/mine/{public.id}")
        assert page.status_code == 200
        outputs["my report page"] = page
        outputs["my reports"] = await resident.get(f"/t/{d.slug}/smart-service/mine")

    # Another resident's map of open reports (routes/maps.py): public categories, coarse points.
    _other_id, other = await _reporter(d)
    async with make_client(app) as neighbour:
        assert (await login(neighbour, d.slug, other)).status_code == 303
        outputs["map of reports"] = await neighbour.get(f"/t/{d.slug}/smart-service/map/reports")
        assert outputs["map of reports"].status_code == 200
        features = outputs["map of reports"].json()["features"]
        assert [f["properties"]["number"] for f in features] == [public.number]
        assert features[0]["geometry"]["coordinates"] != [117.801234, 40.951234]

    for where, r in outputs.items():
        body = r.content.decode()
        if where in ("my report page", "my reports"):
            # A reporter sees their own words and name on their own pages; never our internal notes.
            for secret in SECRETS.values():
                assert secret not in body, f"{where}: internal note {secret!r} leaked"
            continue
        assert_clean(where, body)

    doc = json.loads(outputs[f"requests/{public.number}.json?{{}}"].content)[0]
    assert doc["status_notes"] == PUBLIC_NOTE
    assert doc["description"].startswith("联系我 138****5678")
    assert "110***********1234" in doc["description"]
    # 500 m cells: not the reported point, but within a cell of it; the address is the grid's name.
    assert (doc["lat"], doc["long"]) != (40.951234, 117.801234)
    assert abs(doc["lat"] - 40.951234) < 0.005 and abs(doc["long"] - 117.801234) < 0.007
    assert doc["address"] == "第一网格"
    assert PUBLIC_NOTE in outputs["my report page"].text
    updates = json.loads(outputs["servicerequestupdates.json?{'start_date': '2000-01-01T00:00:00Z'}"].content)
    assert PUBLIC_NOTE in [u["description"] for u in updates]
    assert {u["service_request_id"] for u in updates} == {public.number}


async def test_the_reporters_api_shows_the_public_note_and_no_internal_note(
    open311_district: Open311District, app: Any
) -> None:
    d = open311_district
    made = await seed(d)
    public: Event = made["public"]
    raw = "lz_" + secrets.token_urlsafe(24)
    async with d.db.transaction(d.tenant_id) as s:
        user_id = public.reporter_user_id
        s.add(ApiToken(user_id=user_id, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    async with make_client(app) as api:
        r = await api.get(
            f"/t/{d.slug}/api/v1/smart-service/reports/{quote(public.number)}",
            headers={"Authorization": f"Bearer {raw}"},
        )
    assert r.status_code == 200
    for secret in SECRETS.values():
        assert secret not in r.text
    assert PUBLIC_NOTE in r.text


def test_location_coarsening_snaps_to_cell_centres() -> None:
    lat, lon = publicity.coarsen(40.951234, 117.801234, 0)
    assert (lat, lon) == (40.951234, 117.801234)
    a = publicity.coarsen(40.951234, 117.801234, 1000)
    b = publicity.coarsen(40.951300, 117.801300, 1000)
    assert a == b  # two points in one cell publish the same place
    assert publicity.coarsen(None, None, 500) == (None, None)


def test_scrub_masks_phone_and_id_numbers_and_leaves_other_numbers() -> None:
    text = publicity.scrub("电话13812345678，身份证11010119900307123X，3号楼501室，座机0314-2081234")
    assert "13812345678" not in text and "138****5678" in text
    assert "11010119900307123X" not in text and "110***********123X" in text
    assert "3号楼501室" in text and "2081234" not in text


async def test_categories_of_disputes_rentals_and_public_order_are_not_public_by_default(
    open311_district: Open311District,
) -> None:
    d = open311_district
    await seed(d)
    async with d.db.session(d.tenant_id) as s:
        public = {c.code: c.public for c in (await s.execute(select(Category))).scalars()}
        codes = await publicity.public_codes(s)
    assert public["LJ"] is False and public["QZ"] is False and public["ZA"] is False
    assert public["ZA-01"] is True and "ZA-01" not in codes  # its class is not public
    assert {"SR", "SR-01"} <= codes
