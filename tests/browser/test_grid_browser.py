"""The grid issue end to end in a real browser: an operator opens a new district, its admin adds the
node kinds, imports a tree and its residents from .xlsx files (preview, progress, summary), gives a
new account the grid-worker role at one grid, and that worker, on a phone, sees only that grid.

The live server runs no job runner (``create_app`` without ``run_jobs``); the test's own app plays
the worker process, on the same database and file store, as a separate worker would in production.
Screenshots go to tests/artifacts/grid-<step>-<database>.png.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from playwright.async_api import expect

from core.grids.validation import make_id_number
from tests.browser.conftest import LiveServer, shot_path, sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
OPERATOR_PASSWORD = "liuzhi-demo"
ADMIN = ("chief", "chief-pass-2024")
WORKER = ("wang.gw", "王网格", "grid-pass-2024")
KINDS = [("community", "社区", "Community", 2), ("grid", "网格", "Grid", 3), ("household", "户", "Household", 4)]
GRID_1, GRID_2 = "第一网格", "第二网格"
# name, first 17 digits of the ID number, household, relation — three in grid 1, two in grid 2.
PEOPLE = [
    ("张伟", "11010519800101001", "g1-101", "户主"),
    ("李娜", "11010519820202002", "g1-101", "配偶"),
    ("王芳", "11010519900303003", "g1-102", "户主"),
    ("刘洋", "11010519750404004", "g2-201", "户主"),
    ("陈静", "11010519880505005", "g2-202", "户主"),
]
IN_GRID_1 = [p[0] for p in PEOPLE if p[2].startswith("g1-")]
IN_GRID_2 = [p[0] for p in PEOPLE if p[2].startswith("g2-")]


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)  # every value a string: ID numbers stay text, as a careful clerk types them
    book.save(path)
    return path


def tree_rows(slug: str) -> list[list[str]]:
    community = f"{slug}-sq"
    rows = [[community, slug, "社区", "和平社区", "Heping"]]
    for grid, name in (("g1", GRID_1), ("g2", GRID_2)):
        rows.append([f"{slug}-{grid}", community, "网格", name, ""])
    for code in sorted({p[2] for p in PEOPLE}):
        rows.append([f"{slug}-{code}", f"{slug}-{code[:2]}", "户", f"{code[3:]}室", ""])
    return rows


def resident_rows(slug: str) -> list[list[str]]:
    return [[name, make_id_number(first17), f"{slug}-{house}", relation] for name, first17, house, relation in PEOPLE]


@pytest.fixture
async def district(app: Any) -> AsyncIterator[str]:
    """The slug of the district the operator creates in the test; deleted afterwards, whatever happens."""
    from core.db.engine import Database
    from core.tenancy.service import TenantError, delete_tenant, get_tenant

    slug = "grid-" + secrets.token_hex(3)
    yield slug
    owner = Database(app.state.settings.owner_url)
    try:
        try:
            tenant = await get_tenant(app.state.db, slug)
        except TenantError:
            return
        await delete_tenant(app.state.db, owner, tenant)
    finally:
        await owner.dispose()
        app.state.tenant_cache.clear()


async def import_file(
    page: Any, live: LiveServer, app: Any, slug: str, kind: str, file: Path, shot: str | None
) -> None:
    """Upload → preview (every row "will be added") → start → the page's progress polling reaches done."""
    await page.goto(live.url(f"/t/{slug}/import/"))
    form = page.get_by_test_id("import-form")
    await form.locator(f"input[name=kind][value={kind}]").check()
    await form.locator("input[type=file]").set_input_files(str(file))
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(re.compile(rf"/t/{slug}/import/\d+$"))
    rows = page.get_by_test_id("preview-row")
    await expect(rows.first).to_be_visible()
    outcomes = [await r.get_attribute("data-outcome") for r in await rows.all()]
    assert outcomes and set(outcomes) == {"created"}, outcomes
    if shot:
        await page.screenshot(path=shot_path(shot), full_page=True)

    await page.get_by_test_id("import-confirm").click()
    progress = page.get_by_test_id("import-progress")
    await expect(progress).to_have_attribute("data-status", "running")
    # The worker process picks the job up; the open page learns of it by polling, without a reload.
    await app.state.jobs.run_pending()
    await expect(progress).to_have_attribute("data-status", "done", timeout=15_000)
    await expect(page.get_by_test_id("count-created")).to_have_text(str(len(outcomes)))
    await expect(page.get_by_test_id("count-failed")).to_have_text("0")


async def test_an_admin_imports_a_tree_and_residents_and_a_grid_worker_sees_only_their_grid(
    live_server: LiveServer, new_context: Any, app: Any, district: str, tmp_path: Path
) -> None:
    slug = district
    # 1. The platform operator opens the district with its first admin.
    op = await (await new_context()).new_page()
    await op.goto(live_server.url("/platform/login"))
    await op.locator("input[name=username]").fill("operator")
    await op.locator("input[name=password]").fill(OPERATOR_PASSWORD)
    await op.locator("main form button[type=submit]").click()
    await op.wait_for_url(live_server.url("/platform/"))
    create = op.locator("#create form")
    await create.locator("input[name=slug]").fill(slug)
    await create.locator("input[name=name_zh]").fill("网格测试区")
    await create.locator("input[name=admin_username]").fill(ADMIN[0])
    await create.locator("input[name=admin_password]").fill(ADMIN[1])
    await create.locator("button[type=submit]").click()
    await expect(op.locator("main [role=status]")).to_contain_text(slug)  # "District … created"

    # 2. The admin adds the node kinds below the district (a new district knows only "区").
    admin = await (await new_context()).new_page()
    await sign_in(admin, live_server, slug, *ADMIN)
    for code, name_zh, name_en, level in KINDS:
        await admin.goto(live_server.url(f"/t/{slug}/grid/kinds"))
        form = admin.locator(f"form[action='/t/{slug}/grid/kinds']")
        await form.locator("input[name=code]").fill(code)
        await form.locator("input[name=level]").fill(str(level))
        await form.locator("input[name=name_zh]").fill(name_zh)
        await form.locator("input[name=name_en]").fill(name_en)
        await form.locator("button[type=submit]").click()
        await admin.wait_for_url(re.compile(r"/grid/kinds\?done=added$"))
    await expect(admin.get_by_test_id("kinds")).to_contain_text("household")

    # 3. The tree, then the residents, from .xlsx files.
    tree_file = write_xlsx(tmp_path / "网格.xlsx", ["编码", "上级编码", "类型", "名称", "英文名"], tree_rows(slug))
    await import_file(admin, live_server, app, slug, "tree", tree_file, "grid-preview")
    people_file = write_xlsx(tmp_path / "人口.xlsx", ["姓名", "身份证号", "户", "关系"], resident_rows(slug))
    await import_file(admin, live_server, app, slug, "residents", people_file, None)
    await admin.screenshot(path=shot_path("grid-imported"), full_page=True)

    await admin.goto(live_server.url(f"/t/{slug}/residents/"))
    await expect(admin.get_by_test_id("resident-row")).to_have_count(len(PEOPLE))
    grid_2_urls = [
        await admin.get_by_test_id("resident-row").get_by_role("link", name=name, exact=True).get_attribute("href")
        for name in IN_GRID_2
    ]
    assert all(grid_2_urls)

    # 4. An account for the grid worker, with the role at grid 1 found by the node search.
    await admin.goto(live_server.url(f"/t/{slug}/admin/users"))
    new_user = admin.locator("#new-user form")
    await new_user.locator("input[name=username]").fill(WORKER[0])
    await new_user.locator("input[name=display_name]").fill(WORKER[1])
    await new_user.locator("input[name=password]").fill(WORKER[2])
    await new_user.locator("button[type=submit]").click()
    await admin.wait_for_url(re.compile(r"/admin/users/\d+\?saved=created$"))
    await admin.locator("#assignments input[type=search][name=q]").fill(GRID_1)
    option = admin.get_by_test_id("node-option").filter(has_text=GRID_1)
    await expect(option).to_have_count(1)  # the htmx search replaced the picker
    await expect(admin.get_by_test_id("node-option").filter(has_text=GRID_2)).to_have_count(0)
    await option.locator("input[type=radio]").check()
    await admin.locator("#assignments select[name=role]").select_option("grid_worker")
    await admin.locator("#assignments form[method=post] button[type=submit]").click()
    await admin.wait_for_url(re.compile(r"/admin/users/\d+\?saved=assigned$"))
    assignment = admin.get_by_test_id("assignment")
    await expect(assignment).to_have_count(1)
    await expect(assignment).to_have_attribute("data-role", "grid_worker")
    await expect(assignment).to_contain_text(GRID_1)
    await admin.screenshot(path=shot_path("grid-user"), full_page=True)

    # 5. The grid worker, on a phone, sees grid 1's residents only, with masked ID numbers.
    worker = await (await new_context(**PHONE)).new_page()
    await sign_in(worker, live_server, slug, WORKER[0], WORKER[2])
    await worker.goto(live_server.url(f"/t/{slug}/residents/"))
    rows = worker.get_by_test_id("resident-row")
    await expect(rows).to_have_count(len(IN_GRID_1))
    names = sorted(t.strip() for t in await rows.locator("td:first-child a").all_inner_texts())
    assert names == sorted(IN_GRID_1)
    text = await worker.locator("main").inner_text()
    for name in IN_GRID_2:
        assert name not in text
    for _name, first17, _house, _rel in PEOPLE:
        full = make_id_number(first17)
        assert full not in text
    shown = [t.strip() for t in await rows.locator("td code").all_inner_texts()]
    assert len(shown) == len(IN_GRID_1)
    assert all(re.fullmatch(r"\d{3}\*{11}\d{3}[\dX]", s) for s in shown), shown
    await worker.screenshot(path=shot_path("grid-worker-list"), full_page=True)

    for url in grid_2_urls:
        response = await worker.goto(live_server.url(url))
        assert response is not None and response.status == 404, url
        for name in IN_GRID_2:
            assert name not in await worker.locator("body").inner_text()
