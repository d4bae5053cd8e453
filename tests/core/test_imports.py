"""Importing the territory tree and residents from CSV and Excel: preview, progress, per-row errors,
idempotent re-imports, the importer's area, and a 50,000-row file."""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.db.base import new_id
from core.grids import validation as v
from core.grids.basedata import Household, Residence, Resident
from core.grids.models import GridNode, NodeKind
from core.identity.models import User
from core.identity.passwords import hash_password
from core.imports.models import ImportRun
from core.rbac.models import Role, RoleAssignment, RolePermission
from tests.conftest import DEMO_PASSWORD, csrf_of, form_post, login, main_text, make_client

RESIDENT_HEADER = ["姓名", "身份证号", "手机", "户", "关系", "民族", "户籍"]
TREE_HEADER = ["编码", "上级编码", "类型", "名称", "英文名"]
KINDS = [
    ("district", "区", "District"),
    ("community", "社区", "Community"),
    ("grid", "网格", "Grid"),
    ("estate", "小区", "Estate"),
    ("building", "楼栋", "Building"),
    ("household", "户", "Household"),
]


def id_number(i: int) -> str:
    """A valid, distinct 身份证号 for every i (birth dates from 1950 on, 1,000 per day)."""
    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    return v.make_id_number(f"130803{born:%Y%m%d}{i % 1000:03d}")


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@functools.cache
def password_hash() -> str:
    return hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose


class District(dict[str, Any]):
    """The district's data, and its users' clients signed in on first use (in English)."""

    def __init__(self, app: Any, **data: Any) -> None:
        super().__init__(**data)
        self.app = app
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def client(self, username: str) -> httpx.AsyncClient:
        if username not in self.clients:
            c = self.clients[username] = make_client(self.app)
            assert (await login(c, self["slug"], username)).status_code == 303
            # Assertions read the English source texts (the district's own language may be translated).
            await form_post(c, f"/t/{self['slug']}/account/locale", {"locale": "en", "next": "/"})
        return self.clients[username]


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    """A district 测试区 (d) → community (d-c) → grids d-c-g1, d-c-g2 → a building each → households;
    users: admin (district admin at the root), worker (grid worker at g1), g1importer (may import
    and edit residents in g1 only)."""
    tid = fresh_tenant.id
    nodes: dict[str, GridNode] = {}
    async with app.state.db.transaction(tid) as s:
        for level, (code, zh, en) in enumerate(KINDS):
            s.add(NodeKind(code=code, name_zh=zh, name_en=en, level=level))

        def add(code: str, parent: str | None, kind: str, name: str) -> None:
            p = nodes.get(parent) if parent else None
            node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=p.id if p else None)
            node.path, node.depth = (p.path if p else "/") + f"{node.id}/", (p.depth + 1) if p else 0
            s.add(node)
            nodes[code] = node

        add("d", None, "district", "测试区")
        add("d-c", "d", "community", "测试社区")
        for g in ("g1", "g2"):
            add(f"d-c-{g}", "d-c", "grid", f"第{g[1]}网格")
            add(f"d-c-{g}-b1", f"d-c-{g}", "building", "1号楼")
            for room in ("101", "102", "201", "202"):
                add(f"d-c-{g}-b1-{room}", f"d-c-{g}-b1", "household", room)
        await s.flush()
        for node in nodes.values():
            if node.kind == "household":
                s.add(Household(node_id=node.id, node_path=node.path))
        s.add(Role(code="grid_importer", name_zh="网格导入员", name_en="Grid importer"))
        for action in ("core.grid.import", "core.resident.edit", "core.grid.view"):
            s.add(RolePermission(role_code="grid_importer", action=action))
        for username, role, node in (
            ("admin", "district_admin", "d"),
            ("worker", "grid_worker", "d-c-g1"),
            ("g1importer", "grid_importer", "d-c-g1"),
        ):
            user = User(id=new_id(), username=username, display_name=username, password_hash=password_hash())
            s.add(user)
            await s.flush()
            s.add(RoleAssignment(user_id=user.id, role_code=role, node_id=nodes[node].id, node_path=nodes[node].path))
    d = District(app, tenant=fresh_tenant, slug=fresh_tenant.slug, nodes=nodes)
    yield d
    for c in d.clients.values():
        await c.aclose()


async def upload(client: httpx.AsyncClient, slug: str, kind: str, filename: str, data: bytes) -> httpx.Response:
    await client.get(f"/t/{slug}/import/")
    return await client.post(
        f"/t/{slug}/import/",
        data={"kind": kind, "_csrf_token": csrf_of(client)},
        files={"file": (filename, data, "application/octet-stream")},
    )


async def start(client: httpx.AsyncClient, slug: str, kind: str, filename: str, data: bytes) -> tuple[int, str]:
    """Upload, look at the preview, confirm; returns (run id, preview page)."""
    r = await upload(client, slug, kind, filename, data)
    assert r.status_code == 303, main_text(r.text)[:500]
    run_id = int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])
    page = await client.get(r.headers["location"])
    assert page.status_code == 200
    r = await client.post(f"/t/{slug}/import/{run_id}/confirm", data={"_csrf_token": csrf_of(client)})
    assert r.status_code == 303
    return run_id, page.text


async def import_file(app: Any, client: httpx.AsyncClient, slug: str, kind: str, filename: str, data: bytes) -> Any:
    run_id, _preview = await start(client, slug, kind, filename, data)
    await app.state.jobs.run_pending()
    return await run_of(app, client, slug, run_id)


async def run_of(app: Any, client: httpx.AsyncClient, slug: str, run_id: int) -> ImportRun:
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(app.state.db, slug)
    async with app.state.db.session(tenant.id) as s:
        run = await s.get(ImportRun, (tenant.id, run_id))
    assert run is not None
    return run


async def count(app: Any, tenant_id: int, model: Any, *where: Any) -> int:
    async with app.state.db.session(tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def audit_count(app: Any, tenant_id: int) -> int:
    types = ("residents", "residences", "grid_nodes", "households")
    return await count(app, tenant_id, AuditEntry, AuditEntry.object_type.in_(types))


def resident_rows() -> list[list[str]]:
    """Five good rows, then: a wrong check digit, an unknown household, a repeated ID number, no ID
    number, a household of g2 (allowed for the admin), a phone that is not a mobile number."""
    h = "d-c-g1-b1-"
    return [
        RESIDENT_HEADER,
        ["张伟", id_number(1), "13800000001", h + "101", "户主", "汉族", "本地户籍"],
        ["王芳", id_number(2), "", h + "101", "配偶", "汉族", "本地户籍"],
        ["李娜", id_number(3), "13800000003", h + "102", "户主", "满族", "流动人口"],
        ["刘洋", id_number(4), "", h + "201", "户主", "", ""],
        ["陈静", id_number(5), "", h + "202", "户主", "蒙古族", ""],
        ["赵磊", id_number(6)[:17] + ("0" if id_number(6)[17] != "0" else "1"), "", h + "101", "", "", ""],
        ["孙丽", id_number(7), "", "d-c-g1-b1-999", "", "", ""],
        ["张伟二", id_number(1), "", h + "102", "", "", ""],
        ["周强", "", "", h + "101", "", "", ""],
        ["吴敏", id_number(8), "", "d-c-g2-b1-101", "户主", "", ""],
        ["郑浩", id_number(9), "12345", h + "101", "", "", ""],
    ]


async def test_a_user_without_the_import_right_is_refused(district: Any) -> None:
    slug = district["slug"]
    worker, admin = await district.client("worker"), await district.client("admin")
    assert (await worker.get(f"/t/{slug}/import/")).status_code == 403
    r = await upload(worker, slug, "residents", "r.csv", csv_bytes(resident_rows()))
    assert r.status_code == 403
    assert (await admin.get(f"/t/{slug}/import/")).status_code == 200


async def test_residents_from_a_utf8_csv_good_rows_saved_bad_rows_listed_with_reasons(app: Any, district: Any) -> None:
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    run_id, preview = await start(admin, slug, "residents", "居民.csv", csv_bytes(resident_rows()))
    outcomes = re.findall(r'data-testid="preview-row" data-outcome="(\w+)"', preview)
    assert outcomes == ["created"] * 5 + ["error"] * 4 + ["created", "error"]
    assert "check digit" in preview and "earlier in the file (row 2)" in preview
    assert await count(app, tid, Resident) == 0, "the preview saves nothing"

    progress = await admin.get(f"/t/{slug}/import/{run_id}/progress", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in progress.text and "0 of 11 rows" in main_text(progress.text)

    await app.state.jobs.run_pending()
    run = await run_of(app, admin, slug, run_id)
    assert (run.status, run.total, run.processed) == ("done", 11, 11)
    assert (run.created, run.updated, run.unchanged, run.failed) == (6, 0, 0, 5)
    assert await count(app, tid, Resident) == 6
    assert await count(app, tid, Residence) == 6
    reasons = {e["row"]: e["reason"] for e in run.errors}
    assert sorted(reasons) == [7, 8, 9, 10, 12]
    assert "check digit" in reasons[7]
    assert "d-c-g1-b1-999" in reasons[8]
    assert "earlier in the file (row 2)" in reasons[9]
    assert "ID number is required" in reasons[10]
    assert "mobile number" in reasons[12]

    done = await admin.get(f"/t/{slug}/import/{run_id}/progress", headers={"HX-Request": "true"})
    text = main_text(done.text)
    assert "hx-trigger" not in done.text, "a finished import stops polling"
    assert "11 of 11 rows" in text and "d-c-g1-b1-999" in text

    async with app.state.db.session(tid) as s:
        zhang = (await s.execute(select(Resident).where(Resident.name == "张伟"))).scalar_one()
    assert zhang.node_path == district["nodes"]["d-c-g1-b1-101"].path
    assert zhang.id_number_masked == v.mask_id_number(id_number(1)) and zhang.phone_masked == "138****0001"


async def test_the_error_report_lists_the_bad_rows_with_id_numbers_masked(app: Any, district: Any) -> None:
    slug, admin = district["slug"], await district.client("admin")
    run = await import_file(app, admin, slug, "residents", "r.csv", csv_bytes(resident_rows()))
    r = await admin.get(f"/t/{slug}/import/{run.id}/errors")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0][2:] == ["姓名", "身份证号", "手机", "户", "关系", "民族", "户籍", "备注", "迁入日期"]
    assert [row[0] for row in rows[1:]] == [7, 8, 9, 10, 12]
    by_row = {row[0]: row for row in rows[1:]}
    assert by_row[9][2] == "张伟二" and by_row[9][3] == v.mask_id_number(id_number(1))
    assert id_number(1) not in r.content.decode("latin-1")
    assert by_row[12][4] == "*****", "a wrong phone number is masked too"


async def test_a_move_in_date_goes_into_the_residence_history(app: Any, district: Any) -> None:
    """迁入日期 is optional (today when blank); a date in the future or not a date is refused."""
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    h = "d-c-g1-b1-"
    rows = [
        [*RESIDENT_HEADER, "迁入日期"],
        ["张伟", id_number(1), "", h + "101", "户主", "", "", "2019-03-01"],
        ["王芳", id_number(2), "", h + "101", "配偶", "", "", ""],
        ["李娜", id_number(3), "", h + "102", "户主", "", "", "2999-01-01"],
        ["刘洋", id_number(4), "", h + "201", "户主", "", "", "三月"],
    ]
    run = await import_file(app, admin, slug, "residents", "r.csv", csv_bytes(rows))
    assert (run.created, run.failed) == (2, 2)
    assert [e["row"] for e in run.errors] == [4, 5] and all(
        "迁入日期" in e["reason"] or "Moved in" in e["reason"] for e in run.errors
    )
    async with app.state.db.session(tid) as s:
        stays = dict(
            (
                await s.execute(
                    select(Resident.name, Residence.moved_in).join(Residence, Residence.resident_id == Resident.id)
                )
            ).all()
        )
    assert stays == {"张伟": date(2019, 3, 1), "王芳": date.today()}


async def test_reimporting_the_same_file_changes_nothing(app: Any, district: Any) -> None:
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    data = csv_bytes(resident_rows())
    first = await import_file(app, admin, slug, "residents", "r.csv", data)
    residents, stays, audited = (
        await count(app, tid, Resident),
        await count(app, tid, Residence),
        await audit_count(app, tid),
    )
    again = await import_file(app, admin, slug, "residents", "r.csv", data)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, first.created, first.failed)
    assert await count(app, tid, Resident) == residents
    assert await count(app, tid, Residence) == stays
    assert await audit_count(app, tid) == audited, "a re-import writes no row, so it logs none"


async def test_a_changed_row_updates_the_person_and_a_new_household_moves_them(app: Any, district: Any) -> None:
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    h = "d-c-g1-b1-"
    await import_file(
        app,
        admin,
        slug,
        "residents",
        "a.csv",
        csv_bytes([RESIDENT_HEADER, ["张伟", id_number(1), "", h + "101", "户主", "汉族", ""]]),
    )
    run = await import_file(
        app,
        admin,
        slug,
        "residents",
        "b.csv",
        csv_bytes([RESIDENT_HEADER, ["张伟", id_number(1), "13900000009", h + "202", "租户", "汉族", ""]]),
    )
    assert (run.created, run.updated) == (0, 1)
    async with app.state.db.session(tid) as s:
        person = (await s.execute(select(Resident))).scalar_one()
        stays = (await s.execute(select(Residence).order_by(Residence.moved_out.is_(None)))).scalars().all()
    assert person.node_path == district["nodes"][h + "202"].path and person.phone_masked == "139****0009"
    assert [s.moved_out is None for s in stays] == [False, True] and stays[1].relation == "租户"


async def test_gb18030_csv_and_xlsx_files_import_alike(app: Any, district: Any) -> None:
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    rows = [RESIDENT_HEADER, ["欧阳娜娜", id_number(11), "", "d-c-g1-b1-101", "户主", "汉族", "本地户籍"]]
    gb = await import_file(app, admin, slug, "residents", "gbk.csv", csv_bytes(rows, "gb18030"))
    assert (gb.status, gb.created, gb.failed) == ("done", 1, 0)
    rows_x = [
        ["Name", "ID number", "Phone", "Household", "Relation"],
        ["上官婉儿", id_number(12), 13800000012, "d-c-g1-b1-102", "户主"],
    ]
    xl = await import_file(app, admin, slug, "residents", "people.xlsx", xlsx_bytes(rows_x))
    assert (xl.status, xl.created, xl.failed) == ("done", 1, 0), xl.errors
    async with app.state.db.session(tid) as s:
        names = set((await s.execute(select(Resident.name, Resident.phone_masked))).all())
    assert names == {("欧阳娜娜", None), ("上官婉儿", "138****0012")}


@pytest.mark.parametrize(
    "data",
    [os.urandom(4000) + b"\x80\xff", "姓名,身份证号,户\n张三,1,2\n".encode("utf-16")],
    ids=["random bytes", "utf-16"],
)
async def test_a_file_in_another_encoding_is_refused_with_a_clear_message(app: Any, district: Any, data: bytes) -> None:
    slug, tid = district["slug"], district["tenant"].id
    r = await upload(await district.client("admin"), slug, "residents", "r.csv", data)
    assert r.status_code == 400
    assert "not UTF-8 or GB18030" in main_text(r.text)
    assert await count(app, tid, ImportRun) == 0 and await count(app, tid, Resident) == 0


async def test_missing_columns_are_named_and_nothing_is_imported(app: Any, district: Any) -> None:
    slug, tid = district["slug"], district["tenant"].id
    data = csv_bytes([["姓名", "手机"], ["张三", "13800000000"]])
    r = await upload(await district.client("admin"), slug, "residents", "r.csv", data)
    assert r.status_code == 400
    text = main_text(r.text)
    assert "Required columns are missing: 身份证号、户" in text
    assert await count(app, tid, ImportRun) == 0 and await count(app, tid, Resident) == 0


async def test_a_file_of_another_type_or_too_large_is_refused(app: Any, district: Any) -> None:
    slug, admin = district["slug"], await district.client("admin")
    r = await upload(admin, slug, "residents", "r.xls", b"\xd0\xcf\x11\xe0")
    assert r.status_code == 400 and ".csv and .xlsx" in main_text(r.text)
    r = await upload(admin, slug, "residents", "r.xlsx", b"not a zip at all")
    assert r.status_code == 400 and "not a readable .xlsx" in main_text(r.text)
    r = await upload(admin, slug, "residents", "big.csv", b"a" * (20 * 1024 * 1024 + 1))
    assert r.status_code == 413 and "too large" in main_text(r.text)


async def test_residents_go_only_to_households_in_the_importers_area(app: Any, district: Any) -> None:
    slug, tid = district["slug"], district["tenant"].id
    rows = [
        RESIDENT_HEADER,
        ["张伟", id_number(21), "", "d-c-g1-b1-101", "", "", ""],
        ["王芳", id_number(22), "", "d-c-g2-b1-101", "", "", ""],
        ["李娜", id_number(23), "", "d-c-g1-b1", "", "", ""],  # a building, not a household
    ]
    importer, admin = await district.client("g1importer"), await district.client("admin")
    run = await import_file(app, importer, slug, "residents", "r.csv", csv_bytes(rows))
    assert (run.created, run.failed) == (1, 2)
    reasons = {e["row"]: e["reason"] for e in run.errors}
    assert "No household with the code d-c-g2-b1-101 in your area" in reasons[3]
    assert "d-c-g1-b1" in reasons[4]
    assert await count(app, tid, Resident) == 1
    # Another user's import is not theirs to see.
    assert (await admin.get(f"/t/{slug}/import/{run.id}")).status_code == 404


def tree_rows() -> list[list[str]]:
    """Children above their parents, a rename, a move, an unknown kind, a repeated code, an orphan,
    a kind above its parent's."""
    return [
        TREE_HEADER,
        ["d-c-g1-e1-u1", "d-c-g1-e1", "单元", "1单元", "Unit 1"],  # unknown kind (no "unit" here)
        ["d-c-g1-e1-b9-101", "d-c-g1-e1-b9", "household", "101", ""],  # child before its parent
        ["d-c-g1-e1-b9", "d-c-g1-e1", "楼栋", "9号楼", "Building 9"],
        ["d-c-g1-e1", "d-c-g1", "estate", "安顺乐居", "Anshun"],
        ["d-c-g1", "d-c", "grid", "第一网格", "Grid 1"],  # rename of an existing node
        ["d-c-g2-b1", "d-c-g1", "building", "1号楼", ""],  # a different parent: a move
        ["d-c-g1-e1", "d-c-g1", "estate", "重复", ""],  # repeated code
        ["d-x-1", "d-x", "building", "孤儿", ""],  # parent nowhere
        ["d-c-g2-b1-101", "d-c-g2-b1", "household", "101", ""],  # unchanged
        ["d-c-g1-e1-b9-101-x", "d-c-g1-e1-b9-101", "building", "错层", ""],  # a building under a household
    ]


async def test_a_tree_file_in_any_order_creates_renames_and_refuses_moves(app: Any, district: Any) -> None:
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    run_id, preview = await start(admin, slug, "tree", "tree.csv", csv_bytes(tree_rows(), "gb18030"))
    outcomes = re.findall(r'data-testid="preview-row" data-outcome="(\w+)"', preview)
    assert outcomes == ["error", "created", "created", "created", "updated"] + ["error"] * 3 + ["unchanged", "error"]
    await app.state.jobs.run_pending()
    run = await run_of(app, admin, slug, run_id)
    assert (run.created, run.updated, run.unchanged, run.failed) == (3, 1, 1, 5)
    reasons = {e["row"]: e["reason"] for e in run.errors}
    assert "Unknown node kind “单元”" in reasons[2]
    assert "move" in reasons[7]
    assert "earlier in the file (row 5)" in reasons[8]
    assert "d-x" in reasons[9]
    assert "cannot sit under d-c-g1-e1-b9-101" in reasons[11]
    async with app.state.db.session(tid) as s:
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
        households = {h.node_id for h in (await s.execute(select(Household))).scalars()}
    estate, b9, room = nodes["d-c-g1-e1"], nodes["d-c-g1-e1-b9"], nodes["d-c-g1-e1-b9-101"]
    assert estate.path == nodes["d-c-g1"].path + f"{estate.id}/" and estate.depth == 3 and estate.kind == "estate"
    assert room.path == b9.path + f"{room.id}/" and room.depth == 5 and room.kind == "household"
    assert room.id in households, "a household node gets its household record"
    assert nodes["d-c-g1"].name == "第一网格" and nodes["d-c-g1"].name_en == "Grid 1"
    assert nodes["d-c-g2-b1"].parent_id == nodes["d-c-g2"].id, "not moved"

    again = await import_file(app, admin, slug, "tree", "tree.csv", csv_bytes(tree_rows(), "gb18030"))
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 5, 5)


async def test_new_tree_nodes_go_only_under_nodes_in_the_importers_area(app: Any, district: Any) -> None:
    slug = district["slug"]
    rows = [
        TREE_HEADER,
        ["d-c-g1-b2", "d-c-g1", "building", "2号楼", ""],
        ["d-c-g2-b2", "d-c-g2", "building", "2号楼", ""],
        ["new-root", "", "district", "新区", ""],
        ["d-c-g2", "d-c", "grid", "改名", ""],
    ]
    run = await import_file(app, await district.client("g1importer"), slug, "tree", "t.xlsx", xlsx_bytes(rows))
    assert (run.created, run.failed) == (1, 3)
    reasons = {e["row"]: e["reason"] for e in run.errors}
    assert "in your area" in reasons[3] and "district-wide" in reasons[4] and "outside your area" in reasons[5]


async def test_fifty_thousand_residents_import_completely(app: Any, district: Any) -> None:
    slug, tid, admin = district["slug"], district["tenant"].id, await district.client("admin")
    households = [f"d-c-{g}-b1-{room}" for g in ("g1", "g2") for room in ("101", "102", "201", "202")]
    n = 50_000
    rows = [RESIDENT_HEADER] + [
        [f"居民{i}", id_number(i), f"138{i:08d}", households[i % len(households)], "", "汉族", "本地户籍"]
        for i in range(n)
    ]
    run_id, _preview = await start(admin, slug, "residents", "big.csv", csv_bytes(rows))
    progress = await admin.get(f"/t/{slug}/import/{run_id}/progress")
    assert f"0 of {n} rows" in main_text(progress.text)
    started = time.perf_counter()
    await app.state.jobs.run_pending()
    elapsed = time.perf_counter() - started
    print(f"\n50,000 residents imported in {elapsed:.1f} s ({app.state.db.dialect})")
    run = await run_of(app, admin, slug, run_id)
    assert (run.status, run.processed, run.created, run.failed) == ("done", n, n, 0)
    assert await count(app, tid, Resident) == n
    assert await count(app, tid, Resident, Resident.node_path.startswith(district["nodes"]["d-c-g2"].path)) == n // 2
    done = await admin.get(f"/t/{slug}/import/{run_id}/progress")
    assert f"{n} of {n} rows" in main_text(done.text)


async def test_an_id_number_excel_turned_into_a_number_gets_a_reason_that_says_so(app: Any, district: Any) -> None:
    slug, admin = district["slug"], await district.client("admin")
    rows = [["姓名", "身份证号", "户"], ["钱七", float(id_number(31)), "d-c-g1-b1-101"]]
    run = await import_file(app, admin, slug, "residents", "excel.xlsx", xlsx_bytes(rows))
    assert run.failed == 1 and "format the column as text" in run.errors[0]["reason"]
