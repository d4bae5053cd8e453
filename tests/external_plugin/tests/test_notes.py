"""Community notes as their users meet them, on the public harness only: workers add and list
notes (its own zh_Hans catalogue), a bad form gets 400 with the reason (the content block alone
for htmx), residents are refused, and a district with the plugin off has no such pages."""

from __future__ import annotations

from typing import Any

from liuzhi_example_pillar.models import ExampleNote
from sqlalchemy import func, select

from liuzhi.testing import District, form_post, main_text, nav_links


async def notes_in(tenant_session: Any, district: District) -> int:
    async with tenant_session(district) as s:
        return int(await s.scalar(select(func.count()).select_from(ExampleNote)) or 0)


async def test_a_worker_adds_a_note_and_the_list_shows_it(
    district_on: District, client_as: Any, tenant_session: Any
) -> None:
    worker = await client_as(district_on, "community_worker")
    before = await notes_in(tenant_session, district_on)
    page = await worker.get(district_on.url("/example/"))
    assert page.status_code == 200 and "社区笔记" in main_text(page.text)
    assert district_on.url("/example/") in nav_links(page.text)
    added = await form_post(worker, district_on.url("/example/notes"), {"title": "楼道照明维修", "body": "2号楼已报修"})
    assert added.status_code == 303
    listed = main_text((await worker.get(district_on.url("/example/"))).text)
    assert "楼道照明维修" in listed and "2号楼已报修" in listed
    assert await notes_in(tenant_session, district_on) == before + 1


async def test_a_form_without_a_title_answers_400_with_the_reason_and_saves_nothing(
    district_on: District, client_as: Any, tenant_session: Any
) -> None:
    worker = await client_as(district_on, "community_worker")
    before = await notes_in(tenant_session, district_on)
    htmx = {"HX-Request": "true"}
    untitled = {"title": " ", "body": "没有标题"}
    answer = await form_post(worker, district_on.url("/example/notes"), untitled, headers=htmx)
    assert answer.status_code == 400
    assert "<html" not in answer.text and "请填写笔记标题。" in answer.text and "没有标题" in answer.text
    assert await notes_in(tenant_session, district_on) == before


async def test_residents_are_refused_and_districts_without_it_do_not_have_it(
    district_on: District, district_off: District, client_as: Any
) -> None:
    assert (await (await client_as(district_on, "resident")).get(district_on.url("/example/"))).status_code == 403
    admin = await client_as(district_off, "district_admin")
    assert (await admin.get(district_off.url("/example/"))).status_code == 404
    assert (await form_post(admin, district_off.url("/example/notes"), {"title": "闯入"})).status_code == 404


async def test_its_demo_notes_are_there_once(district_on: District, tenant_session: Any) -> None:
    async with tenant_session(district_on) as s:
        titles = sorted((await s.execute(select(ExampleNote.title))).scalars())
    assert titles == ["周三议事会", "楼道堆物清理"]
