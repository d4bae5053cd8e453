"""Base data pages as staff use them: residents, households and organisations, each user within
their own part of the tree (district → community A (grids A1, A2) and community B (grid B1))."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.config import REPO_ROOT
from core.db.base import new_id
from core.grids import people
from core.grids import validation as v
from core.grids.basedata import Household, Organisation, Owner, Residence, Resident
from core.grids.models import GridNode
from core.imports.bundle import Loaded, load_bundle
from core.rbac.models import RolePermission
from core.tenancy.service import ensure_user, get_tenant
from tests.conftest import csrf_of, form_post, login, main_text, make_client

PASSWORD = "people-pages-pw"
ID_A1 = v.make_id_number("13080319800101001")  # 男, 1980
ID_A2 = v.make_id_number("13080319750505002")
ID_B1 = v.make_id_number("13080319900909003")
PHONE_A1 = "13812341234"


@dataclass
class Area:
    slug: str
    tenant_id: int
    nodes: dict[str, GridNode] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"/t/{self.slug}{path}"


async def _node(s: Any, parent: GridNode | None, code: str, kind: str, name: str) -> GridNode:
    node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=parent.id if parent else None)
    node.depth = parent.depth + 1 if parent else 0
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    s.add(node)
    await s.flush()
    return node


@pytest.fixture
async def area(app: Any, fresh_tenant: Any) -> Area:
    """A small district with one resident per grid and a user per level (English pages)."""
    vault = app.state.vault
    out = Area(fresh_tenant.slug, fresh_tenant.id)
    async with app.state.db.transaction(fresh_tenant.id) as s:
        n = out.nodes
        n["d"] = await _node(s, None, "d", "district", "测试区")
        n["a"] = await _node(s, n["d"], "a", "community", "甲社区")
        n["b"] = await _node(s, n["d"], "b", "community", "乙社区")
        n["a1"] = await _node(s, n["a"], "a1", "grid", "甲一网格")
        n["a2"] = await _node(s, n["a"], "a2", "grid", "甲二网格")
        n["b1"] = await _node(s, n["b"], "b1", "grid", "乙一网格")
        for grid in ("a1", "a2", "b1"):
            n[f"{grid}-101"] = await _node(s, n[grid], f"{grid}-101", "household", f"{grid.upper()}-101室")
        n["a1-102"] = await _node(s, n["a1"], "a1-102", "household", "A1-102室")
        for key, name, id_number, phone in (
            ("a1", "甲一居民", ID_A1, PHONE_A1),
            ("a2", "甲二居民", ID_A2, "13900002222"),
            ("b1", "乙一居民", ID_B1, "13700003333"),
        ):
            data = people.clean_resident({"name": name, "id_number": id_number, "phone": phone})
            out.residents[key], _ = await people.upsert_resident(s, vault, data, n[f"{key}-101"], "户主")
        for username, role, node in (
            ("worker_a1", "grid_worker", "a1"),
            ("secretary_a", "community_secretary", "a"),
            ("admin", "district_admin", "d"),
        ):
            user, _new = await ensure_user(s, username, username, PASSWORD, role, n[node])
            user.locale = "en"
        # Grid workers here may export too, so the export's own scope filter is what is tested.
        s.add(RolePermission(role_code="grid_worker", action="core.resident.export"))
    return out


@pytest.fixture
async def as_user(app: Any, area: Area) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    async def make(username: str) -> httpx.AsyncClient:
        c = make_client(app)
        clients.append(c)
        r = await login(c, area.slug, username, PASSWORD)
        assert r.status_code == 303, r.text[:300]
        return c

    yield make
    for c in clients:
        await c.aclose()


async def _count(app: Any, area: Area, model: Any) -> int:
    async with app.state.db.session(area.tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def _sheet(response: httpx.Response) -> list[tuple[Any, ...]]:
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


async def _reveal(client: httpx.AsyncClient, url: str) -> httpx.Response:
    return await client.post(url, headers={"x-csrftoken": csrf_of(client), "hx-request": "true"})


# ---- scope ------------------------------------------------------------------------------------


async def test_a_grid_worker_lists_only_their_own_grids_residents(area: Area, as_user: Any) -> None:
    worker = await as_user("worker_a1")
    page = main_text((await worker.get(area.url("/residents/"))).text)
    assert "甲一居民" in page
    assert "甲二居民" not in page and "乙一居民" not in page


async def test_a_grid_worker_cannot_reach_a_sibling_grids_resident_in_any_way(
    app: Any, area: Area, as_user: Any
) -> None:
    worker = await as_user("worker_a1")
    other = area.residents["a2"]
    base = area.url(f"/residents/{other.id}")
    assert (await worker.get(base)).status_code == 404
    assert (await worker.get(base + "/edit")).status_code == 404
    edit = await form_post(worker, base + "/edit", {"name": "改名"})
    assert edit.status_code == 404
    moved = await form_post(worker, base + "/move-in", {"household": str(area.nodes["a1-101"].id)})
    assert moved.status_code == 404
    assert (await form_post(worker, base + "/move-out", {})).status_code == 404
    reveal = await _reveal(worker, base + "/reveal?field=id_number")
    assert reveal.status_code == 403 and ID_A2 not in reveal.text  # the worker may not reveal at all
    assert (await worker.get(area.url(f"/residents/{new_id()}"))).status_code == 404  # a guessed id
    assert (await worker.get(area.url(f"/households/{area.nodes['a2-101'].id}"))).status_code == 404
    # Searching by the sibling's full ID number finds nothing either.
    found = main_text((await worker.get(area.url("/residents/"), params={"q": ID_A2})).text)
    assert "甲二居民" not in found
    async with app.state.db.session(area.tenant_id) as s:
        row = await s.get(Resident, (area.tenant_id, other.id))
    assert row is not None and row.name == "甲二居民" and row.node_id == area.nodes["a2-101"].id


async def test_a_grid_workers_export_holds_only_their_grid_and_only_masks(area: Area, as_user: Any) -> None:
    worker = await as_user("worker_a1")
    rows = _sheet(await worker.get(area.url("/residents/export")))
    assert [r[0] for r in rows[1:]] == ["甲一居民"]
    flat = " ".join(str(c) for r in rows for c in r)
    assert v.mask_id_number(ID_A1) in flat and "138****1234" in flat
    assert ID_A1 not in flat and PHONE_A1 not in flat


async def test_a_community_secretary_sees_both_grids_and_nothing_of_the_next_community(
    app: Any, area: Area, as_user: Any
) -> None:
    secretary = await as_user("secretary_a")
    page = main_text((await secretary.get(area.url("/residents/"))).text)
    assert "甲一居民" in page and "甲二居民" in page and "乙一居民" not in page
    assert (await secretary.get(area.url(f"/residents/{area.residents['a2'].id}"))).status_code == 200
    assert (await secretary.get(area.url(f"/residents/{area.residents['b1'].id}"))).status_code == 404
    by_node = main_text((await secretary.get(area.url("/residents/"), params={"node": area.nodes["b1"].id})).text)
    assert "乙一居民" not in by_node and "Choose an area from the list." in by_node
    rows = _sheet(await secretary.get(area.url("/residents/export")))
    assert sorted(r[0] for r in rows[1:]) == ["甲一居民", "甲二居民"]
    # The secretary holds the reveal action: the export has the full numbers, and says so in the log.
    assert ID_A1 in [r[3] for r in rows] and PHONE_A1 in [r[4] for r in rows]
    async with app.state.db.session(area.tenant_id) as s:
        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "resident.export"))).scalar_one()
    assert entry.changes["rows"] == 2 and entry.actor_name == "secretary_a"


async def test_another_tenants_resident_is_not_found(area: Area, as_admin: httpx.AsyncClient) -> None:
    r = await as_admin.get(f"/t/shuangluan/residents/{area.residents['a1'].id}")
    assert r.status_code == 404
    assert "甲一居民" not in r.text


# ---- masking and reveal -----------------------------------------------------------------------


async def test_a_grid_worker_sees_masks_and_never_the_full_numbers(area: Area, as_user: Any) -> None:
    worker = await as_user("worker_a1")
    resident = area.residents["a1"]
    listing = (await worker.get(area.url("/residents/"))).text
    detail = (await worker.get(area.url(f"/residents/{resident.id}"))).text
    for html in (listing, detail):
        assert "130***********" + ID_A1[-4:] in html and "138****1234" in html
        assert ID_A1 not in html and PHONE_A1 not in html
    assert 'data-testid="reveal-id"' not in detail
    r = await _reveal(worker, area.url(f"/residents/{resident.id}/reveal?field=id_number"))
    assert r.status_code == 403 and ID_A1 not in r.text


async def test_a_secretary_reveals_the_full_id_number_and_the_reveal_is_logged(
    app: Any, area: Area, as_user: Any
) -> None:
    secretary = await as_user("secretary_a")
    resident = area.residents["a1"]
    detail = (await secretary.get(area.url(f"/residents/{resident.id}"))).text
    assert 'data-testid="reveal-id"' in detail and ID_A1 not in detail
    r = await _reveal(secretary, area.url(f"/residents/{resident.id}/reveal?field=id_number"))
    assert r.status_code == 200 and ID_A1 in r.text
    phone = await _reveal(secretary, area.url(f"/residents/{resident.id}/reveal?field=phone"))
    assert PHONE_A1 in phone.text
    async with app.state.db.session(area.tenant_id) as s:
        logged = (await s.execute(select(AuditEntry).where(AuditEntry.action == "resident.reveal"))).scalars().all()
    assert sorted(e.changes["field"] for e in logged) == ["id_number", "phone"]
    assert {e.object_id for e in logged} == {str(resident.id)} and {e.actor_name for e in logged} == {"secretary_a"}


# ---- search -----------------------------------------------------------------------------------


async def test_searching_by_full_id_number_finds_the_resident(area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    page = main_text((await secretary.get(area.url("/residents/"), params={"q": ID_A2.lower()})).text)
    assert "甲二居民" in page and "甲一居民" not in page
    by_phone = main_text((await secretary.get(area.url("/residents/"), params={"q": "138 1234 1234"})).text)
    assert "甲一居民" in by_phone and "甲二居民" not in by_phone
    by_name = main_text((await secretary.get(area.url("/residents/"), params={"q": "甲二"})).text)
    assert "甲二居民" in by_name and "甲一居民" not in by_name


async def test_an_id_number_with_a_wrong_check_digit_is_explained(area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    wrong = ID_A2[:17] + ("0" if ID_A2[17] != "0" else "1")
    r = await secretary.get(area.url("/residents/"), params={"q": wrong})
    assert r.status_code == 400
    page = main_text(r.text)
    assert "check digit is wrong" in page and "甲二居民" not in page
    partial = main_text((await secretary.get(area.url("/residents/"), params={"q": "1308031975"})).text)
    assert "full ID number" in partial and "甲二居民" not in partial


# ---- forms ------------------------------------------------------------------------------------


async def test_invalid_resident_input_shows_messages_and_saves_nothing(app: Any, area: Area, as_user: Any) -> None:
    worker = await as_user("worker_a1")
    before = await _count(app, area, Resident)
    wrong = ID_A1[:17] + ("0" if ID_A1[17] != "0" else "1")
    r = await form_post(
        worker,
        area.url("/residents/new"),
        {"name": "", "id_number": wrong, "phone": "12345", "household": str(area.nodes["a2-101"].id)},
    )
    assert r.status_code == 400
    page = main_text(r.text)
    assert "Nothing was saved" in page
    assert "A name is required." in page
    assert "check digit is wrong" in page
    assert "A mobile number has 11 digits" in page
    assert "Choose a household in your area." in page  # A2 is not the worker's
    assert await _count(app, area, Resident) == before


async def test_a_grid_worker_registers_a_resident_in_their_household(app: Any, area: Area, as_user: Any) -> None:
    worker = await as_user("worker_a1")
    new_number = v.make_id_number("13080320010203004")
    r = await form_post(
        worker,
        area.url("/residents/new"),
        {"name": "新居民", "id_number": new_number, "phone": "", "household": str(area.nodes["a1-102"].id)},
    )
    assert r.status_code == 303
    detail = await worker.get(r.headers["location"])
    page = main_text(detail.text)
    assert "新居民" in page and "A1-102室" in page and v.mask_id_number(new_number) in page
    async with app.state.db.session(area.tenant_id) as s:
        stays = (await s.execute(select(Residence))).scalars().all()
    assert len([x for x in stays if x.node_id == area.nodes["a1-102"].id]) == 1


async def test_a_duplicate_id_number_links_to_the_resident_only_for_who_may_reveal_it(
    app: Any, area: Area, as_user: Any
) -> None:
    secretary = await as_user("secretary_a")
    worker = await as_user("worker_a1")
    before = await _count(app, area, Resident)
    form = {"name": "重复", "id_number": ID_A1, "household": str(area.nodes["a1-102"].id)}
    here = await form_post(secretary, area.url("/residents/new"), form)
    assert here.status_code == 400
    assert f'/residents/{area.residents["a1"].id}"' in here.text and "already registered" in here.text
    # A grid worker sees the mask only: naming who holds a typed-in number would reveal it.
    masked = await form_post(worker, area.url("/residents/new"), form)
    assert masked.status_code == 400 and "already registered" in masked.text
    assert f'/residents/{area.residents["a1"].id}"' not in masked.text
    elsewhere = await form_post(
        worker,
        area.url("/residents/new"),
        {"name": "重复", "id_number": ID_B1, "household": str(area.nodes["a1-102"].id)},
    )
    assert elsewhere.status_code == 400
    assert "already registered elsewhere in the district" in elsewhere.text
    assert "乙一" not in elsewhere.text and str(area.residents["b1"].id) not in elsewhere.text
    assert await _count(app, area, Resident) == before


async def test_moving_a_resident_keeps_the_history_and_moves_them_out_of_the_old_grid(area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    worker = await as_user("worker_a1")
    resident = area.residents["a1"]
    r = await form_post(
        secretary,
        area.url(f"/residents/{resident.id}/move-in"),
        {"household": str(area.nodes["a2-101"].id), "relation": "租户", "moved_in": "2099-01-01"},
    )
    assert r.status_code == 303
    detail = (await secretary.get(area.url(f"/residents/{resident.id}"))).text
    assert detail.count('data-testid="residence-row"') == 2 and "A2-101室" in detail
    assert (await worker.get(area.url(f"/residents/{resident.id}"))).status_code == 404
    early = await form_post(
        secretary, area.url(f"/residents/{resident.id}/move-out"), {"moved_out": "2000-01-01", "reason": "moved_out"}
    )
    assert early.status_code == 400 and "before the current residence began" in main_text(early.text)


# ---- households and owners --------------------------------------------------------------------


async def test_one_owner_of_two_households_is_one_owner_listed_with_both(app: Any, area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    resident = area.residents["a1"]
    for key in ("a1-101", "a1-102"):
        r = await form_post(
            secretary,
            area.url(f"/households/{area.nodes[key].id}/owners"),
            {"owner_kind": "person", "resident_id": str(resident.id)},
        )
        assert r.status_code == 200, main_text(r.text)
    again = await form_post(
        secretary,
        area.url(f"/households/{area.nodes['a1-101'].id}/owners"),
        {"owner_kind": "person", "resident_id": str(resident.id)},
    )
    assert again.status_code == 400 and "already owns" in main_text(again.text)
    page = (await secretary.get(area.url(f"/households/{area.nodes['a1-101'].id}"))).text
    assert page.count('data-testid="owner"') == 1
    owner_item = page.split('data-testid="owner"', 1)[1].split("</li>", 1)[0]
    assert "甲一居民" in owner_item and "A1-101室" in owner_item and "A1-102室" in owner_item
    assert await _count(app, area, Owner) == 1
    async with app.state.db.session(area.tenant_id) as s:
        totals = await people.owner_totals(s, area.nodes["a"].path)
    assert totals.owners == 1 and totals.households == 2


async def test_a_developer_and_an_out_of_scope_resident_as_owners(area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    url = area.url(f"/households/{area.nodes['a2-101'].id}/owners")
    outsider = await form_post(secretary, url, {"owner_kind": "person", "resident_id": str(area.residents["b1"].id)})
    assert outsider.status_code == 400 and "Choose a resident from the list." in main_text(outsider.text)
    dev = await form_post(secretary, url, {"owner_kind": "developer", "developer": "某某房地产开发有限公司"})
    assert dev.status_code == 200 and "某某房地产开发有限公司" in main_text(dev.text)
    ownership = dev.text.split("/owners/", 1)[1].split("/remove", 1)[0]
    removed = await form_post(secretary, url + f"/{ownership}/remove", {})
    assert removed.status_code == 200 and "No owner recorded." in main_text(removed.text)


async def test_floor_area_must_be_a_sensible_number(app: Any, area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    url = area.url(f"/households/{area.nodes['a1-101'].id}")
    for bad in ("0", "-3", "10000.01", "abc", "89.555"):
        r = await form_post(secretary, url, {"floor_area": bad, "usage": "residential"})
        assert r.status_code == 400, bad
    assert await _count(app, area, Household) == 0
    # htmx swaps only 2xx bodies: the form's own request gets the messages with a 200.
    swapped = await form_post(
        secretary, url, {"floor_area": "0", "usage": "residential"}, headers={"hx-request": "true"}
    )
    assert swapped.status_code == 200 and "<html" not in swapped.text and "more than 0" in swapped.text
    ok = await form_post(secretary, url, {"floor_area": "89.5", "usage": "residential"})
    assert ok.status_code == 200 and "89.50" in ok.text
    worker = await as_user("worker_a1")  # may look, may not change
    assert "89.50" in (await worker.get(url)).text
    assert (await form_post(worker, url, {"floor_area": "1", "usage": "residential"})).status_code == 403


# ---- organisations ----------------------------------------------------------------------------


async def test_organisations_are_scoped_validated_and_their_phones_masked(app: Any, area: Area, as_user: Any) -> None:
    secretary = await as_user("secretary_a")
    form = {
        "kind": "property_company",
        "name": "甲二物业",
        "credit_code": "91130803MA07LY8K10",  # wrong check character
        "contact_name": "孙经理",
        "contact_phone": "13655556666",
        "address": "甲二路1号",
        "node": str(area.nodes["a2"].id),
    }
    bad = await form_post(secretary, area.url("/organisations/new"), form)
    assert bad.status_code == 400 and "check character is wrong" in main_text(bad.text)
    assert await _count(app, area, Organisation) == 0
    outside = await form_post(
        secretary, area.url("/organisations/new"), {**form, "credit_code": "", "node": str(area.nodes["b1"].id)}
    )
    assert outside.status_code == 400 and "Choose an area from the list." in main_text(outside.text)
    good = await form_post(secretary, area.url("/organisations/new"), {**form, "credit_code": "91130803MA07LY8K18"})
    assert good.status_code == 303
    org_url = good.headers["location"]
    worker = await as_user("worker_a1")  # A1 only: the organisation of A2 is not theirs
    assert "甲二物业" not in main_text((await worker.get(area.url("/organisations/"))).text)
    assert (await worker.get(org_url)).status_code == 404
    listing = (await secretary.get(area.url("/organisations/"))).text
    assert "甲二物业" in listing and "136****6666" in listing and "13655556666" not in listing
    assert [r[1] for r in _sheet(await worker.get(area.url("/organisations/export")))[1:]] == []


async def test_a_credit_code_is_registered_once_and_an_organisation_may_own_a_household(
    app: Any, area: Area, as_user: Any
) -> None:
    admin, secretary = await as_user("admin"), await as_user("secretary_a")
    code = "91130803MA07LY8K18"
    form = {"kind": "resident_unit", "contact_name": "", "contact_phone": "", "address": "", "credit_code": code}
    b = await form_post(
        admin, area.url("/organisations/new"), {**form, "name": "乙驻区单位", "node": str(area.nodes["b1"].id)}
    )
    assert b.status_code == 303
    b_url = b.headers["location"]
    here = {**form, "name": "甲驻区单位", "node": str(area.nodes["a2"].id)}
    # Where the holder lies outside the user's area the message does not name it.
    hidden = await form_post(secretary, area.url("/organisations/new"), here)
    assert hidden.status_code == 400 and "already registered elsewhere in the district" in main_text(hidden.text)
    named = await form_post(admin, area.url("/organisations/new"), here)
    assert named.status_code == 400 and "乙驻区单位 is already registered with this code." in main_text(named.text)
    kept = await form_post(admin, b_url, {**form, "name": "乙驻区单位", "node": str(area.nodes["b1"].id)})
    assert kept.status_code == 200 and "The organisation has been saved." in main_text(kept.text)
    phone = await form_post(
        secretary, area.url("/organisations/new"), {**here, "credit_code": "", "contact_phone": "12"}
    )
    assert phone.status_code == 400 and "A mobile number has 11 digits" in main_text(phone.text)
    a = await form_post(secretary, area.url("/organisations/new"), {**here, "credit_code": ""})
    assert a.status_code == 303
    assert await _count(app, area, Organisation) == 2
    owners = area.url(f"/households/{area.nodes['a2-101'].id}/owners")
    outsider = await form_post(
        secretary, owners, {"owner_kind": "organisation", "organisation_id": b_url.rsplit("/", 1)[1]}
    )
    assert outsider.status_code == 400 and "Choose an organisation from the list." in main_text(outsider.text)
    own = await form_post(
        secretary, owners, {"owner_kind": "organisation", "organisation_id": a.headers["location"].rsplit("/", 1)[1]}
    )
    assert own.status_code == 200 and "甲驻区单位" in main_text(own.text)
    assert await _count(app, area, Owner) == 1


# ---- demo data --------------------------------------------------------------------------------


async def test_the_demo_community_has_residents_and_a_second_seed_adds_nothing(app: Any, signed_in: Any) -> None:
    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.transaction(tenant.id) as s:
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        before = await s.scalar(select(func.count()).select_from(Resident))
        again = await load_bundle(s, app.state.vault, REPO_ROOT / "tenants" / "shuangluan" / "demo")
        assert again == Loaded()
        assert not s.new and not s.dirty
        totals = await people.owner_totals(s, nodes["sl-ybs-sa-g01-asly"].path)
    assert before >= 40 and totals.owners >= 1 and totals.area > 0
    community = await signed_in("shuangluan", "community")
    page = main_text((await community.get("/t/shuangluan/residents/", params={"q": "王建国"})).text)
    assert "王建国" in page and "130***********" in page
    worker = await signed_in("shuangluan", "grid_worker")  # grid 1 (安顺乐居), not grid 2 (双安家园)
    own = main_text((await worker.get("/t/shuangluan/residents/")).text)
    assert "王建国" in own and "马晓东" not in own
    others = main_text((await worker.get("/t/shuangluan/residents/", params={"node": nodes["sl-ybs-sa-g02"].id})).text)
    assert "马晓东" not in others


async def test_the_demo_secretary_opens_every_base_data_page(app: Any, signed_in: Any) -> None:
    """Read-only walk through the demo in the default language (the demo tenant is shared)."""
    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        wang = (await s.execute(select(Resident).where(Resident.name == "王建国"))).scalars().first()
        org = (await s.execute(select(Organisation).order_by(Organisation.name))).scalars().first()
    assert wang is not None and org is not None
    community = await signed_in("shuangluan", "community")
    base = "/t/shuangluan"
    home = nodes["sl-ybs-sa-g01-asly-b1-u1-101"].id
    for path in (
        "/residents/",
        f"/residents/{wang.id}",
        f"/residents/{wang.id}/edit",
        "/residents/new",
        f"/households/{home}",
        "/organisations/",
        "/organisations/new",
        f"/organisations/{org.id}",
    ):
        r = await community.get(base + path)
        assert r.status_code == 200, (path, main_text(r.text)[:300])
    partial = await community.get(base + "/residents/", headers={"hx-request": "true"})
    assert "<html" not in partial.text and "王建国" in partial.text
    options = await community.get(base + "/residents/households", params={"q": "安顺乐居"})
    assert options.text.count("<option") >= 8
    candidates = await community.get(base + f"/households/{home}/owner-candidates", params={"q": "王建"})
    assert "王建国" in candidates.text and "130***********" in candidates.text
    # The demo's landlord owns his home and the flat he lets: one owner, both units listed.
    page = (await community.get(base + f"/households/{home}")).text
    owner_item = page.split('data-testid="owner"', 1)[1].split("</li>", 1)[0]
    assert "王建国" in owner_item and "1单元 › 101" in owner_item and "2单元 › 102" in owner_item
