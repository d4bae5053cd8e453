"""The navigation offers each user the core pages their roles allow, and nothing else."""

from __future__ import annotations

from typing import Any

from tests.conftest import nav_links


async def test_the_district_admin_sees_every_core_section(as_admin: Any) -> None:
    links = nav_links((await as_admin.get("/t/shuangluan/")).text)
    for path in ("/grid/", "/residents/", "/organisations/", "/import/", "/admin/"):
        assert f"/t/shuangluan{path}" in links, path


async def test_a_grid_worker_sees_residents_but_not_import_or_settings(as_grid_worker: Any) -> None:
    links = nav_links((await as_grid_worker.get("/t/shuangluan/")).text)
    assert "/t/shuangluan/residents/" in links and "/t/shuangluan/grid/" in links
    assert "/t/shuangluan/import/" not in links and "/t/shuangluan/admin/" not in links


async def test_a_resident_sees_no_staff_sections(as_resident: Any) -> None:
    links = nav_links((await as_resident.get("/t/shuangluan/")).text)
    assert not any(p in link for link in links for p in ("/residents/", "/grid/", "/import/", "/admin/"))
