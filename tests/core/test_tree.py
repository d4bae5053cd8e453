"""The territory tree for district admins: node kinds, adding, renaming, deleting and moving nodes,
node pages (children, staff, counts, breadcrumbs), boundaries and the map.

Tests that change the tree work in a fresh district of their own; the demo district is only read.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.base import new_id
from core.grids import geo
from core.grids.basedata import Household, Organisation, Residence, Resident
from core.grids.models import GridNode, NodeKind
from core.rbac.models import RoleAssignment
from core.tenancy.service import PLATFORM, ensure_user
from tests.conftest import DEMO_PASSWORD, form_post, login, main_text, make_client

KINDS = (
    ("district", "区", "District", 0),
    ("subdistrict", "街道", "Subdistrict", 1),
    ("community", "社区", "Community", 2),
    ("grid", "网格", "Grid", 3),
    ("estate", "小区", "Estate", 4),
    ("building", "楼栋", "Building", 5),
    ("household", "户", "Household", 7),
    ("spare", "备用", "Spare", 9),
)
SQUARE = [[117.70, 40.95], [117.71, 40.95], [117.71, 40.96], [117.70, 40.96], [117.70, 40.95]]


# ---- a small district of our own -----------------------------------------------------------------
#
#   root ─ s1 ─ s1-c1 ─ s1-c1-g1 ─ s1-c1-g1-e1 ─ s1-c1-g1-e1-b1 ─ s1-c1-g1-e1-b1-101
#        │            └ s1-c1-g2
#        └ s2 ─ s2-c2
#
# boss: district admin at root; worker: grid worker at g1; sec: community secretary at c1 (all English UI).


def _add(s: Any, nodes: dict[str, GridNode], code: str, kind: str, parent: str | None) -> GridNode:
    p = nodes.get(parent) if parent else None
    node = GridNode(
        id=new_id(), code=code, kind=kind, name=f"{code}名", name_en=code.upper(), parent_id=p.id if p else None
    )
    node.depth = p.depth + 1 if p else 0
    node.path = f"{p.path if p else '/'}{node.id}/"
    s.add(node)
    nodes[code] = node
    return node


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[SimpleNamespace]:
    nodes: dict[str, GridNode] = {}
    async with app.state.db.transaction(fresh_tenant.id, PLATFORM) as s:
        for code, zh, en, level in KINDS:
            s.add(NodeKind(code=code, name_zh=zh, name_en=en, level=level))
        for code, kind, parent in (
            ("root", "district", None),
            ("s1", "subdistrict", "root"),
            ("s2", "subdistrict", "root"),
            ("s1-c1", "community", "s1"),
            ("s2-c2", "community", "s2"),
            ("s1-c1-g1", "grid", "s1-c1"),
            ("s1-c1-g2", "grid", "s1-c1"),
            ("s1-c1-g1-e1", "estate", "s1-c1-g1"),
            ("s1-c1-g1-e1-b1", "building", "s1-c1-g1-e1"),
            ("s1-c1-g1-e1-b1-101", "household", "s1-c1-g1-e1-b1"),
        ):
            _add(s, nodes, code, kind, parent)
        await s.flush()
        for username, role, at in (("boss", "district_admin", "root"), ("worker", "grid_worker", "s1-c1-g1")):
            user, _ = await ensure_user(s, username, f"{username} 演示", DEMO_PASSWORD, role, nodes[at])
            user.locale = "en"
        sec, _ = await ensure_user(s, "sec", "sec 演示", DEMO_PASSWORD, "community_secretary", nodes["s1-c1"])
        sec.locale = "en"
        flat, g1, g2 = nodes["s1-c1-g1-e1-b1-101"], nodes["s1-c1-g1"], nodes["s1-c1-g2"]
        s.add(Household(node_id=flat.id, node_path=flat.path))
        people = [Resident(name=f"住户{i}", node_id=flat.id, node_path=flat.path) for i in range(3)]
        people.append(Resident(name="搬走的", status="moved_out", node_id=flat.id, node_path=flat.path))
        people.append(Resident(name="二网格", node_id=g2.id, node_path=g2.path))
        s.add_all(people)
        await s.flush()
        s.add(Residence(resident_id=people[0].id, node_id=flat.id, moved_in=date(2020, 1, 1)))
        s.add(Organisation(kind="property_company", name="物业公司", node_id=g1.id, node_path=g1.path))
        s.add(Organisation(kind="social_org", name="志愿者协会", node_id=g1.id, node_path=g1.path))
    clients: list[Any] = []

    async def client_for(username: str) -> Any:
        c = make_client(app)
        clients.append(c)
        r = await login(c, fresh_tenant.slug, username)
        assert r.status_code == 303, r.text[:300]
        return c

    ids = {code: n.id for code, n in nodes.items()}
    yield SimpleNamespace(
        tenant=fresh_tenant,
        base=f"/t/{fresh_tenant.slug}",
        ids=ids,
        boss=await client_for("boss"),
        client_for=client_for,
    )
    for c in clients:
        await c.aclose()


async def rows(app: Any, tenant: Any, stmt: Any) -> list[Any]:
    async with app.state.db.session(tenant.id) as s:
        return list((await s.execute(stmt)).all())


async def node_row(app: Any, d: SimpleNamespace, code: str) -> GridNode | None:
    async with app.state.db.session(d.tenant.id) as s:
        return (await s.execute(select(GridNode).where(GridNode.code == code))).scalar_one_or_none()


async def node_count(app: Any, d: SimpleNamespace) -> int:
    async with app.state.db.session(d.tenant.id) as s:
        return int(await s.scalar(select(func.count()).select_from(GridNode)) or 0)


def alert(html: str) -> str:
    m = re.search(r'<p class="lz-alert"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else ""


def field_error(html: str, name: str) -> str:
    m = re.search(rf'<small id="e-{name}" class="lz-error">([^<]*)</small>', html)
    return m.group(1) if m else ""


def edit_buttons(html: str) -> list[str]:
    return re.findall(r'data-testid="(edit-[a-z]+)"', html)


# ---- adding, renaming, deleting ---------------------------------------------------------------------


async def test_an_admin_adds_a_grid_to_a_community_and_finds_it_on_the_community_page(
    app: Any, district: SimpleNamespace
) -> None:
    d = district
    form = await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1']}/add")
    assert form.status_code == 200
    # Only kinds deeper than a community are offered.
    offered = re.findall(r'<option value="([a-z]+)"', form.text)
    assert "grid" in offered and "community" not in offered and "district" not in offered

    r = await form_post(
        d.boss,
        f"{d.base}/grid/{d.ids['s1-c1']}/add",
        {"kind": "grid", "code": "S1-C1-G3", "name": "第三网格", "name_en": "Grid 3"},
    )
    assert r.status_code == 303
    new = await node_row(app, d, "s1-c1-g3")
    assert new is not None and new.name == "第三网格" and new.depth == 3
    community = await node_row(app, d, "s1-c1")
    assert community is not None and new.path == f"{community.path}{new.id}/" and new.parent_id == community.id
    page = await d.boss.get(r.headers["location"])
    assert "The sub-area has been added." in main_text(page.text)
    listed = main_text((await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1']}")).text)
    assert "Grid 3" in listed and "Sub-areas (3)" in listed


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "s1-c1-g1"}, "code", "Another node has the code s1-c1-g1 already."),
        ({"code": "s1 c1 g3"}, "code", "Use a–z, 0–9 and -"),
        ({"code": "-g3"}, "code", "Use a–z, 0–9 and -"),
        ({"code": ""}, "code", "The code is required."),
        ({"kind": "community"}, "kind", "cannot sit here: choose a kind of level 3 or deeper"),
        ({"kind": "nonsense"}, "kind", "Choose a kind from the list."),
        ({"name": ""}, "name", "The name is required."),
        ({"name": "长" * 101}, "name", "At most 100 characters."),
    ],
)
async def test_adding_a_sub_area_with_a_mistake_saves_nothing_and_says_what_is_wrong(
    app: Any, district: SimpleNamespace, data: dict[str, str], field: str, message: str
) -> None:
    d = district
    before = await node_count(app, d)
    form = {"kind": "grid", "code": "s1-c1-g3", "name": "第三网格", "name_en": "", **data}
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1']}/add", form)
    assert r.status_code == 400
    assert message in field_error(r.text, field)
    assert "Nothing was saved" in alert(r.text)
    assert await node_count(app, d) == before


async def test_an_admin_renames_a_grid(app: Any, district: SimpleNamespace) -> None:
    d = district
    edit = await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g2']}/edit")
    assert edit.status_code == 200 and 'value="s1-c1-g2"' in edit.text
    r = await form_post(
        d.boss,
        f"{d.base}/grid/{d.ids['s1-c1-g2']}/edit",
        {"kind": "grid", "code": "s1-c1-g2", "name": "幸福网格", "name_en": "Happiness Grid"},
    )
    assert r.status_code == 303
    page = main_text((await d.boss.get(r.headers["location"])).text)
    assert "Happiness Grid" in page and "The changes have been saved." in page
    row = await node_row(app, d, "s1-c1-g2")
    assert row is not None and row.name == "幸福网格"

    taken = await form_post(
        d.boss,
        f"{d.base}/grid/{d.ids['s1-c1-g2']}/edit",
        {"kind": "grid", "code": "s1-c1-g1", "name": "幸福网格", "name_en": ""},
    )
    assert taken.status_code == 400 and "Another node has the code s1-c1-g1 already." in taken.text
    assert (await node_row(app, d, "s1-c1-g2")) is not None


async def test_a_node_cannot_change_to_a_kind_that_breaks_the_order_of_the_tree(district: SimpleNamespace) -> None:
    d = district
    # A grid with an estate under it cannot become a building (level 5, below its estate's 4).
    r = await form_post(
        d.boss,
        f"{d.base}/grid/{d.ids['s1-c1-g1']}/edit",
        {"kind": "building", "code": "s1-c1-g1", "name": "一网格", "name_en": ""},
    )
    assert r.status_code == 400 and "cannot sit here" in field_error(r.text, "kind")


async def test_deleting_an_area_that_still_holds_something_is_refused_with_what_blocks_it(
    app: Any, district: SimpleNamespace
) -> None:
    d = district
    before = await node_count(app, d)
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g1']}/delete")
    assert r.status_code == 409
    text = alert(r.text)
    assert text.startswith("S1-C1-G1 cannot be deleted")
    assert "It has 1 sub-areas" in text and "2 organisations belong here." in text
    assert "1 staff role assignments are made here." in text

    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g1-e1-b1-101']}/delete")
    assert r.status_code == 409
    text = alert(r.text)
    assert "5 residents live here." not in text and "4 residents live here." in text
    assert "1 residence records" in text and "It has household data" in text

    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['root']}/delete")
    assert r.status_code == 409 and "It is the top of the tree." in alert(r.text)
    assert await node_count(app, d) == before

    # The edit page says the same before anyone tries, and offers no delete button.
    edit = await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}/edit")
    assert "It cannot be deleted:" in main_text(edit.text) and 'data-testid="delete-node"' not in edit.text


async def test_an_admin_deletes_an_empty_leaf_and_returns_to_its_parent(app: Any, district: SimpleNamespace) -> None:
    d = district
    edit = await d.boss.get(f"{d.base}/grid/{d.ids['s2-c2']}/edit")
    assert 'data-testid="delete-node"' in edit.text
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s2-c2']}/delete")
    assert r.status_code == 303 and r.headers["location"].endswith(f"/grid/{d.ids['s2']}?done=deleted")
    assert await node_row(app, d, "s2-c2") is None
    page = main_text((await d.boss.get(r.headers["location"])).text)
    assert "The sub-area has been deleted." in page and "No sub-areas." in page
    assert (await d.boss.get(f"{d.base}/grid/{d.ids['s2-c2']}")).status_code == 404


# ---- moving a subtree -------------------------------------------------------------------------------


async def test_moving_a_subtree_rewrites_every_path_and_every_copied_node_path(
    app: Any, district: SimpleNamespace
) -> None:
    d = district
    worker = await d.client_for("worker")
    sec = await d.client_for("sec")
    assert (await sec.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}")).status_code == 200
    old_g1 = await node_row(app, d, "s1-c1-g1")
    s2 = await node_row(app, d, "s2")
    assert old_g1 is not None and s2 is not None
    old_prefix, new_prefix = old_g1.path, f"{s2.path}{old_g1.id}/"

    move_form = await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}/move")
    assert '<option value="s2">' in move_form.text and '<option value="s1-c1-g1-e1">' not in move_form.text
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g1']}/move", {"parent": "s2"})
    assert r.status_code == 303, alert(r.text)

    # Every node of the subtree: new path prefix, one level higher (a grid under a subdistrict now).
    moved = await rows(app, d.tenant, select(GridNode.code, GridNode.path, GridNode.depth, GridNode.parent_id))
    by_code = {code: (path, depth, parent) for code, path, depth, parent in moved}
    assert by_code["s1-c1-g1"] == (new_prefix, 2, s2.id)
    for code, depth in (("s1-c1-g1-e1", 3), ("s1-c1-g1-e1-b1", 4), ("s1-c1-g1-e1-b1-101", 5)):
        assert by_code[code][0].startswith(new_prefix) and by_code[code][1] == depth
        assert by_code[code][0].endswith(f"/{d.ids[code]}/")
    assert not any(path.startswith(old_prefix) for path, _, _ in by_code.values())
    assert by_code["s1-c1-g2"][0].startswith(by_code["s1-c1"][0])  # the sibling stays

    # Every row that copies a node path followed, and nothing else changed.
    for model in (RoleAssignment, Household, Resident, Organisation):
        paths = [p for (p,) in await rows(app, d.tenant, select(model.node_path))]
        assert not any(p and p.startswith(old_prefix) for p in paths), model.__tablename__
    flat = by_code["s1-c1-g1-e1-b1-101"][0]
    assert sorted(p for (p,) in await rows(app, d.tenant, select(Resident.node_path))) == sorted(
        [flat] * 4 + [by_code["s1-c1-g2"][0]]
    )
    assert [p for (p,) in await rows(app, d.tenant, select(Household.node_path))] == [flat]
    assert {p for (p,) in await rows(app, d.tenant, select(Organisation.node_path))} == {new_prefix}
    worker_paths = await rows(
        app,
        d.tenant,
        select(RoleAssignment.node_path).where(RoleAssignment.node_id == d.ids["s1-c1-g1"]),
    )
    assert worker_paths == [(new_prefix,)]

    # The grid worker still works in their grid and below; the secretary of the old community no longer sees it.
    assert (await worker.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}")).status_code == 200
    assert (await worker.get(f"{d.base}/grid/{d.ids['s1-c1-g1-e1-b1-101']}")).status_code == 200
    assert (await worker.get(f"{d.base}/grid/{d.ids['s1-c1-g2']}")).status_code == 404
    assert (await sec.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}")).status_code == 404
    page = await d.boss.get(r.headers["location"])
    assert "The area has been moved, with everything under it." in main_text(page.text)
    crumbs = re.search(r'<nav class="lz-crumbs".*?</nav>', page.text, re.S)
    assert crumbs and "S2" in crumbs.group(0) and "S1-C1" not in crumbs.group(0)


async def test_a_move_also_rewrites_plugin_rows_that_copy_the_node_path(app: Any, district: SimpleNamespace) -> None:
    """Core cannot import a plugin, so it finds their ``node_path`` columns in the mapped models."""
    from core.db.base import Base

    units = next((m.class_ for m in Base.registry.mappers if m.local_table.name == "ss_handling_units"), None)
    if units is None:
        pytest.skip("the smart_service plugin is not installed")
    d = district
    g1 = await node_row(app, d, "s1-c1-g1")
    assert g1 is not None
    async with app.state.db.transaction(d.tenant.id, PLATFORM) as s:
        s.add(units(code="g1-team", name="一网格专班", level=3, node_id=g1.id, node_path=g1.path))
    r = await form_post(d.boss, f"{d.base}/grid/{g1.id}/move", {"parent": "s2-c2"})
    assert r.status_code == 303, alert(r.text)
    moved = await node_row(app, d, "s1-c1-g1")
    assert moved is not None and moved.path != g1.path
    assert await rows(app, d.tenant, select(units.node_path)) == [(moved.path,)]


async def test_an_area_cannot_move_under_itself_or_anything_below_it(app: Any, district: SimpleNamespace) -> None:
    d = district
    before = await rows(app, d.tenant, select(GridNode.code, GridNode.path).order_by(GridNode.code))
    for target in ("s1-c1", "s1-c1-g1", "s1-c1-g1-e1-b1-101"):
        r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1']}/move", {"parent": target})
        assert r.status_code == 400
        assert "A node cannot move under itself or one of its own sub-areas." in alert(r.text)
    assert await rows(app, d.tenant, select(GridNode.code, GridNode.path).order_by(GridNode.code)) == before


@pytest.mark.parametrize(
    ("node", "target", "message"),
    [
        ("s2-c2", "s1-c1-g2", "cannot sit here"),  # a community under a grid
        ("s1-c1-g2", "nowhere", "There is no area with the code nowhere that you may edit."),
        ("s1-c1-g2", "", "Give the code of the new parent."),
        ("s1-c1-g2", "s1-c1", "It is there already."),
        ("root", "s1", "The top of the tree cannot be moved."),
    ],
)
async def test_a_move_that_makes_no_sense_is_refused_with_a_reason(
    app: Any, district: SimpleNamespace, node: str, target: str, message: str
) -> None:
    d = district
    before = await rows(app, d.tenant, select(GridNode.code, GridNode.path).order_by(GridNode.code))
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids[node]}/move", {"parent": target})
    assert r.status_code == 400 and message in alert(r.text)
    assert await rows(app, d.tenant, select(GridNode.code, GridNode.path).order_by(GridNode.code)) == before


async def test_a_subtree_too_deep_for_its_kinds_cannot_move_lower(app: Any, district: SimpleNamespace) -> None:
    d = district
    # Moving g1 under e-nothing: build a chain where the household would sit below level 7.
    for code, kind, parent in (("s2-c2-g9", "grid", "s2-c2"), ("s2-c2-g9-e9", "estate", "s2-c2-g9")):
        r = await form_post(
            d.boss,
            f"{d.base}/grid/{(await node_row(app, d, parent)).id}/add",
            {"kind": kind, "code": code, "name": code},
        )  # type: ignore[union-attr]
        assert r.status_code == 303, r.text[:500]
    # An estate (level 4) under another estate's parent is fine; a building under a building is not.
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g1-e1-b1']}/move", {"parent": "s2-c2-g9-e9"})
    assert r.status_code == 303
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g1-e1']}/move", {"parent": "s2-c2-g9-e9"})
    assert r.status_code == 400 and "cannot sit here" in alert(r.text)


# ---- who may edit ---------------------------------------------------------------------------------


async def _demo_ids(app: Any, *codes: str) -> dict[str, int]:
    async with app.state.db.session(None) as s:
        from core.tenancy.models import Tenant

        tenant = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    async with app.state.db.session(tenant.id) as s:
        found = (await s.execute(select(GridNode.code, GridNode.id).where(GridNode.code.in_(codes)))).all()
    return dict(found)  # type: ignore[arg-type]


async def test_a_grid_worker_cannot_edit_the_tree_and_sees_no_edit_buttons(app: Any, as_grid_worker: Any) -> None:
    ids = await _demo_ids(app, "sl-ybs-sa-g01")
    base = "/t/shuangluan"
    g01 = ids["sl-ybs-sa-g01"]
    page = await as_grid_worker.get(f"{base}/grid/{g01}")
    assert page.status_code == 200 and edit_buttons(page.text) == []
    assert 'data-testid="edit-kinds"' not in (await as_grid_worker.get(f"{base}/grid/")).text
    assert edit_buttons((await as_grid_worker.get(f"{base}/grid/{g01}/map")).text) == []
    for path in ("add", "edit", "move", "boundary"):
        assert (await as_grid_worker.get(f"{base}/grid/{g01}/{path}")).status_code == 403, path
    assert (await as_grid_worker.get(f"{base}/grid/kinds")).status_code == 403
    posts = {
        f"{base}/grid/{g01}/add": {"kind": "estate", "code": "x-1", "name": "x"},
        f"{base}/grid/{g01}/edit": {"kind": "grid", "code": "sl-ybs-sa-g01", "name": "改名"},
        f"{base}/grid/{g01}/delete": {},
        f"{base}/grid/{g01}/move": {"parent": "sl"},
        f"{base}/grid/{g01}/boundary/clear": {},
        f"{base}/grid/kinds": {"code": "x", "name_zh": "x", "level": "3"},
    }
    for url, data in posts.items():
        assert (await form_post(as_grid_worker, url, data)).status_code == 403, url


async def test_a_grid_worker_opening_a_sibling_grid_gets_not_found(app: Any, as_grid_worker: Any) -> None:
    ids = await _demo_ids(app, "sl-ybs-sa-g02", "sl-ybs-sa")
    base = "/t/shuangluan"
    for suffix in ("", "/map", "/children"):
        assert (await as_grid_worker.get(f"{base}/grid/{ids['sl-ybs-sa-g02']}{suffix}")).status_code == 404, suffix
    # The community above is not theirs either: its name shows in the breadcrumbs without a link.
    assert (await as_grid_worker.get(f"{base}/grid/{ids['sl-ybs-sa']}")).status_code == 404


async def test_an_admin_of_another_district_cannot_reach_this_one(app: Any, district: SimpleNamespace) -> None:
    ids = await _demo_ids(app, "sl-ybs-sa-g01")
    r = await district.boss.get(f"{district.base}/grid/{ids['sl-ybs-sa-g01']}")
    assert r.status_code == 404
    r = await form_post(district.boss, f"{district.base}/grid/{ids['sl-ybs-sa-g01']}/move", {"parent": "root"})
    assert r.status_code == 404


# ---- node page and tree -------------------------------------------------------------------------


def _count_of(html: str, key: str) -> int:
    m = re.search(rf'data-total="{key}">(\d+)<', html)
    assert m, key
    return int(m.group(1))


async def test_the_node_page_counts_match_the_database(app: Any, district: SimpleNamespace) -> None:
    d = district
    page = (await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1']}")).text
    community = await node_row(app, d, "s1-c1")
    assert community is not None
    for key, model in (("residents", Resident), ("households", Household), ("organisations", Organisation)):
        (n,) = (
            await rows(
                app, d.tenant, select(func.count()).select_from(model).where(model.node_path.startswith(community.path))
            )
        )[0]
        assert _count_of(page, key) == n, key
    assert _count_of(page, "residents") == 5 and "Living here 4" in main_text(page) and "Moved out 1" in main_text(page)
    kinds = dict(re.findall(r'data-kind="([a-z]+)">(\d+)<', page))
    assert kinds == {"grid": "2", "estate": "1", "building": "1", "household": "1"}
    # In the grid of one worker the counts are that grid's own.
    g1 = (await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}")).text
    assert _count_of(g1, "residents") == 4 and _count_of(g1, "organisations") == 2


async def test_the_node_page_lists_the_staff_who_cover_it(district: SimpleNamespace) -> None:
    d = district
    g1 = main_text((await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g1']}")).text)
    assert "worker 演示 Grid worker this area" in g1
    assert "sec 演示 Community secretary S1-C1" in g1 and "boss 演示 District admin ROOT" in g1
    g2 = main_text((await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g2']}")).text)
    assert "worker 演示" not in g2 and "sec 演示" in g2


async def test_breadcrumbs_link_only_to_areas_the_user_may_open(district: SimpleNamespace) -> None:
    d = district
    worker = await d.client_for("worker")
    page = (await worker.get(f"{d.base}/grid/{d.ids['s1-c1-g1-e1']}")).text
    crumbs = re.search(r'<nav class="lz-crumbs".*?</nav>', page, re.S)
    assert crumbs is not None
    text = crumbs.group(0)
    for code in ("root", "s1", "s1-c1"):
        assert code.upper() in text and f'/grid/{d.ids[code]}"' not in text
    assert f'/grid/{d.ids["s1-c1-g1"]}"' in text
    admin_page = (await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g1-e1']}")).text
    assert f'/grid/{d.ids["root"]}"' in admin_page


async def test_the_tree_opens_level_by_level(district: SimpleNamespace) -> None:
    d = district
    root_page = (await d.boss.get(f"{d.base}/grid/")).text
    assert f'hx-get="{d.base}/grid/{d.ids["root"]}/children"' in root_page and "2 sub-areas" in root_page
    fragment = await d.boss.get(f"{d.base}/grid/{d.ids['root']}/children", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "S1" in fragment.text and "S2" in fragment.text
    assert f'hx-get="{d.base}/grid/{d.ids["s1"]}/children"' in fragment.text and "1 sub-area<" in fragment.text
    leaf = (await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g1-e1-b1-101']}/children")).text
    assert "No sub-areas." in leaf
    worker = await d.client_for("worker")
    mine = (await worker.get(f"{d.base}/grid/")).text
    assert f"/grid/{d.ids['s1-c1-g1']}/children" in mine and f"/grid/{d.ids['root']}/children" not in mine


# ---- node kinds -----------------------------------------------------------------------------------


async def test_an_admin_adds_edits_and_deletes_a_kind_but_not_one_in_use(app: Any, district: SimpleNamespace) -> None:
    d = district
    r = await form_post(
        d.boss, f"{d.base}/grid/kinds", {"code": "unit", "name_zh": "单元", "name_en": "Unit", "level": "6"}
    )
    assert r.status_code == 303
    page = await d.boss.get(r.headers["location"])
    assert "The kind has been added." in main_text(page.text) and 'data-kind="unit"' in page.text

    dup = await form_post(d.boss, f"{d.base}/grid/kinds", {"code": "unit", "name_zh": "单元", "level": "6"})
    assert dup.status_code == 400 and "A kind with this code exists already." in field_error(dup.text, "code")
    bad = await form_post(d.boss, f"{d.base}/grid/kinds", {"code": "Unit 2", "name_zh": "", "level": "x"})
    assert bad.status_code == 400
    assert field_error(bad.text, "code") and field_error(bad.text, "name_zh") and field_error(bad.text, "level")

    kinds = dict(await rows(app, d.tenant, select(NodeKind.code, NodeKind.id)))
    r = await form_post(
        d.boss, f"{d.base}/grid/kinds/{kinds['unit']}/edit", {"name_zh": "单元", "name_en": "Stairwell", "level": "6"}
    )
    assert r.status_code == 303
    # A kind whose nodes sit at depth 3 cannot get level 2.
    r = await form_post(d.boss, f"{d.base}/grid/kinds/{kinds['grid']}/edit", {"name_zh": "网格", "level": "2"})
    assert r.status_code == 400 and "the level cannot be less than that" in field_error(r.text, "level")

    r = await form_post(d.boss, f"{d.base}/grid/kinds/{kinds['grid']}/delete")
    assert r.status_code == 400 and "2 nodes are of this kind, so it cannot be deleted." in alert(r.text)
    r = await form_post(d.boss, f"{d.base}/grid/kinds/{kinds['unit']}/delete")
    assert r.status_code == 303
    left = {code for (code,) in await rows(app, d.tenant, select(NodeKind.code))}
    assert "unit" not in left and "grid" in left


# ---- boundaries and the map -----------------------------------------------------------------------


async def test_a_pasted_boundary_is_saved_and_drawn_on_the_parents_map(app: Any, district: SimpleNamespace) -> None:
    d = district
    g1 = d.ids["s1-c1-g1"]
    geojson = json.dumps(
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    )
    r = await form_post(d.boss, f"{d.base}/grid/{g1}/boundary", {"geojson": geojson})
    assert r.status_code == 303, alert(r.text)
    row = await node_row(app, d, "s1-c1-g1")
    assert row is not None and row.boundary == {"type": "Polygon", "coordinates": [SQUARE]}

    community_map = (await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1']}/map")).text
    paths = re.findall(r'<path class="lz-map-child" data-node="(\d+)"', community_map)
    assert paths == [str(g1)]
    assert f'<a href="{d.base}/grid/{g1}">' in community_map and "<title>S1-C1-G1 · Grid</title>" in community_map
    undrawn = re.search(r'data-testid="undrawn">(.*?)</ul>', community_map, re.S)
    assert undrawn and "S1-C1-G2" in undrawn.group(1) and "S1-C1-G1" not in undrawn.group(1)


async def test_an_uploaded_geojson_file_is_saved(app: Any, district: SimpleNamespace) -> None:
    d = district
    body = json.dumps({"type": "MultiPolygon", "coordinates": [[SQUARE]]}).encode()
    r = await d.boss.post(
        f"{d.base}/grid/{d.ids['s2']}/boundary",
        data={"_csrf_token": d.boss.cookies.get("liuzhi_csrf") or "", "geojson": ""},
        files={"file": ("s2.geojson", body, "application/geo+json")},
    )
    assert r.status_code == 303, r.text[:500]
    row = await node_row(app, d, "s2")
    assert row is not None and row.boundary == {"type": "MultiPolygon", "coordinates": [[SQUARE]]}


@pytest.mark.parametrize(
    ("geojson", "message"),
    [
        ('{"type": "Polygon", "coordinates": [[[117.7, 40.9]', "This is not valid JSON"),
        (json.dumps({"type": "Point", "coordinates": [117.7, 40.9]}), "must be a Polygon or a MultiPolygon, not Point"),
        (json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]}), "is not closed"),
        (
            json.dumps({"type": "Polygon", "coordinates": [[[117.7, 40.9], [200, 40.9], [117.7, 41], [117.7, 40.9]]]}),
            "outside WGS84 ranges",
        ),
        (
            json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [[[117.7 + i * 1e-5, 40.9 + (i % 2) * 1e-5] for i in range(5001)] + [[117.7, 40.9]]],
                }
            ),
            "more than 5000 points",
        ),
    ],
)
async def test_a_bad_boundary_saves_nothing_and_says_why(
    app: Any, district: SimpleNamespace, geojson: str, message: str
) -> None:
    d = district
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g2']}/boundary", {"geojson": geojson})
    assert r.status_code == 400
    assert message in alert(r.text) and alert(r.text).startswith("Nothing was saved")
    assert 'aria-invalid="true"' in r.text  # the pasted text stays in the box, marked
    row = await node_row(app, d, "s1-c1-g2")
    assert row is not None and row.boundary is None


async def test_a_drawn_boundary_is_stored_in_lon_lat(app: Any, district: SimpleNamespace) -> None:
    d = district
    # The nearest area above with a boundary (here the subdistrict: the community has none) frames
    # the canvas, dashed; the clicks come back as the corners they were drawn at.
    await form_post(
        d.boss,
        f"{d.base}/grid/{d.ids['s1']}/boundary",
        {"geojson": json.dumps({"type": "Polygon", "coordinates": [SQUARE]})},
    )
    page = (await d.boss.get(f"{d.base}/grid/{d.ids['s1-c1-g2']}/boundary")).text
    outline = re.search(r'<path d="[^"]+"[^>]*data-testid="outline"><title>([^<]+)</title>', page)
    assert outline and outline.group(1) == "S1"
    fields = dict(
        re.findall(r'<input type="hidden" name="(lon0|lat0|kx|scale|pad|width|height)" value="([^"]+)"', page)
    )
    assert len(fields) == 7 and "data-lz-draw" in page and "stroke-dasharray" in page
    projection = geo.Projection.from_fields(fields)
    corners = [(117.702, 40.958), (117.702, 40.952), (117.708, 40.952), (117.708, 40.958)]
    points = " ".join("{:.2f},{:.2f}".format(*projection.to_svg(*c)) for c in corners)
    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g2']}/boundary/draw", {**fields, "points": points})
    assert r.status_code == 303, alert(r.text)
    row = await node_row(app, d, "s1-c1-g2")
    assert row is not None and row.boundary is not None
    ring = row.boundary["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    resolution = 0.01 / projection.scale / projection.kx  # the page sends points to 1/100 of an SVG unit
    for got, want in zip(ring, corners, strict=False):
        assert got == pytest.approx(list(want), abs=resolution)

    r = await form_post(d.boss, f"{d.base}/grid/{d.ids['s1-c1-g2']}/boundary/draw", {**fields, "points": "1,1 2,2"})
    assert r.status_code == 400 and "Click at least 3 points" in alert(r.text)


async def test_the_demo_district_map_shows_its_nine_subdistricts_and_towns(app: Any, as_admin: Any) -> None:
    ids = await _demo_ids(app, "sl", "sl-ybs-sa")
    page = await as_admin.get(f"/t/shuangluan/grid/{ids['sl']}/map")
    assert page.status_code == 200
    assert len(re.findall(r'class="lz-map-child"', page.text)) == 9
    assert 'class="lz-map-self"' in page.text and re.search(
        r'<svg class="lz-map" viewBox="0 0 [\d.]+ [\d.]+"', page.text
    )
    assert "元宝山街道" in page.text and "http://" not in page.text.split('<svg class="lz-map"')[1].split("</svg>")[
        0
    ].replace("http://www.w3.org", "")
    community = await as_admin.get(f"/t/shuangluan/grid/{ids['sl-ybs-sa']}/map")
    assert len(re.findall(r'class="lz-map-child"', community.text)) == 4
