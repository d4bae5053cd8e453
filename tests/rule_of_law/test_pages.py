"""The pillar's pages and API as the demo district's staff and residents use them."""

from __future__ import annotations

import io
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import pypdf

from tests.conftest import form_post, main_text

T = "/t/shuangluan"


async def _grid_id(client: Any) -> str:
    r = await client.get(f"{T}/rule-of-law/screening/new")
    assert r.status_code == 200
    return re.search(r'<option value="(\d+)"', r.text).group(1)  # type: ignore[union-attr]


async def log_dispute(client: Any, handoff: str = "mediation") -> str:
    grid = await _grid_id(client)
    r = await form_post(
        client,
        f"{T}/rule-of-law/screening/new",
        {
            "node": grid,
            "place": "安顺乐居1号楼",
            "note": "入户排查",
            "found": "yes",
            "kind": "neighbour",
            "risk": "medium",
            "parties": "周文斌、吴桂芳",
            "summary": "楼上空调外机滴水，楼下多次交涉未果",
            "handoff": handoff,
        },
    )
    assert r.status_code == 303, r.text[:500]
    return r.headers["location"]


async def test_a_grid_workers_dispute_reaches_the_mediator_who_takes_it_to_an_agreement(signed_in: Any) -> None:
    worker = await signed_in("shuangluan", "grid_worker")
    where = await log_dispute(worker)
    page = await worker.get(where)
    assert "已移交调解" in main_text(page.text)
    case_url = re.search(r'href="(/t/shuangluan/rule-of-law/cases/\d+)"', page.text).group(1)  # type: ignore[union-attr]

    mediator = await signed_in("shuangluan", "mediator")
    assert "周文斌" in main_text((await mediator.get(case_url)).text)  # a pending case shows what is taken on
    r = await form_post(mediator, f"{case_url}/accept", {"origin": "application", "version": "1"})
    assert r.status_code == 303
    r = await form_post(mediator, f"{case_url}/agree", {"version": "2", "p1_name": "周文斌", "terms": "x"})
    assert r.status_code == 400 and "不能进行这一步" in main_text(r.text)
    await form_post(
        mediator, f"{case_url}/session", {"version": "2", "attendees": "周文斌、吴桂芳", "note": "双方陈述"}
    )
    r = await form_post(
        mediator,
        f"{case_url}/agree",
        {
            "version": "3",
            "p1_name": "周文斌",
            "facts": "滴水",
            "matters": "m",
            "terms": "加装导水管",
            "performance": "一周内",
        },
    )
    assert r.status_code == 400 and "至少需要两方当事人" in main_text(r.text)
    r = await form_post(
        mediator,
        f"{case_url}/agree",
        {
            "version": "3",
            "p1_name": "周文斌",
            "p2_name": "吴桂芳",
            "facts": "空调外机冷凝水滴落至楼下窗台",
            "matters": "外机排水责任在周文斌",
            "terms": "周文斌加装导水管，不再滴水",
            "performance": "一周内完成",
        },
    )
    assert r.status_code == 303
    page = main_text((await mediator.get(case_url)).text)
    assert "达成协议" in page and "司法确认" in page
    pdf = await mediator.get(f"{case_url}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert "人民调解协议书" in text and "周文斌加装导水管" in text and "一周内完成" in text

    community = await signed_in("shuangluan", "community_worker")
    seen = await community.get(case_url)
    assert seen.status_code == 200 and "保密" in main_text(seen.text) and "导水管" not in seen.text
    assert (await community.get(f"{case_url}/agreement.pdf")).status_code == 404
    other = await signed_in("luanping", "admin")
    assert (await other.get(case_url.replace("shuangluan", "luanping"))).status_code == 404


async def test_bad_screening_input_is_shown_on_the_form_and_nothing_is_written(signed_in: Any) -> None:
    worker = await signed_in("shuangluan", "grid_worker")
    grid = await _grid_id(worker)
    before = main_text((await worker.get(f"{T}/rule-of-law/disputes/")).text)
    r = await form_post(
        worker,
        f"{T}/rule-of-law/screening/new",
        {"node": grid, "found": "yes", "kind": "neighbour", "risk": "low", "parties": "", "summary": "x"},
    )
    assert r.status_code == 400 and "请至少填写一方当事人" in main_text(r.text)
    r = await form_post(worker, f"{T}/rule-of-law/screening/new", {"node": "1", "found": "no", "note": "x"})
    assert r.status_code == 400 and "请选择您辖区内的网格" in main_text(r.text)
    assert main_text((await worker.get(f"{T}/rule-of-law/disputes/")).text) == before


async def test_registers_are_refused_to_staff_without_the_action_and_reads_show_in_the_admins_log(
    signed_in: Any,
) -> None:
    worker = await signed_in("shuangluan", "grid_worker")
    assert (await worker.get(f"{T}/rule-of-law/registers/corrections")).status_code == 403
    assert (await worker.get(f"{T}/rule-of-law/access-log")).status_code == 403
    admin = await signed_in("shuangluan", "admin")
    assert (await admin.get(f"{T}/rule-of-law/registers/corrections")).status_code == 200
    log = main_text((await admin.get(f"{T}/rule-of-law/access-log")).text)
    assert "admin" in log and "社区矫正对象" in log


async def test_incomplete_teams_are_listed(signed_in: Any) -> None:
    officer = await signed_in("shuangluan", "subdistrict_officer")
    r = await officer.get(f"{T}/rule-of-law/teams/?incomplete=true")
    assert r.status_code == 200 and "支不齐" in main_text(r.text)


async def _bearer(app: Any, username: str) -> Any:
    from sqlalchemy import select

    from core.identity.models import ApiToken, User
    from core.tenancy.models import Tenant
    from core.web.context import hash_token
    from tests.conftest import make_client

    async with app.state.db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    raw = "lz_" + secrets.token_urlsafe(24)
    async with app.state.db.transaction(tenant.id) as s:
        user = (await s.execute(select(User).where(User.username == username))).scalar_one()
        s.add(ApiToken(user_id=user.id, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(app)
    client.headers["Authorization"] = f"Bearer {raw}"
    return client


async def test_a_resident_books_counselling_and_applies_for_mediation_through_the_api(app: Any) -> None:
    client = await _bearer(app, "resident")
    async with client:
        rooms = (await client.get(f"{T}/api/v1/rule-of-law/counselling/rooms")).json()["rooms"]
        assert "行宫社区心理咨询室" in rooms
        at = (datetime.now() + timedelta(days=3)).replace(microsecond=0).isoformat()
        r = await client.post(f"{T}/api/v1/rule-of-law/counselling", json={"room": rooms[0], "starts_at": at})
        assert r.status_code == 400 and "同意" in r.json()["detail"]
        r = await client.post(
            f"{T}/api/v1/rule-of-law/counselling", json={"room": rooms[0], "starts_at": at, "consent": True}
        )
        assert r.status_code == 201 and r.json()["state"] == "booked"
        mine = (await client.get(f"{T}/api/v1/rule-of-law/counselling")).json()["appointments"]
        assert r.json()["id"] in [a["id"] for a in mine]
        r = await client.post(
            f"{T}/api/v1/rule-of-law/mediation", json={"kind": "family", "summary": "赡养费分担", "parties": []}
        )
        assert r.status_code == 400
        r = await client.post(
            f"{T}/api/v1/rule-of-law/mediation",
            json={"kind": "family", "summary": "兄弟三人赡养费分担", "parties": ["刘大", "刘二"]},
        )
        assert r.status_code == 201 and r.json()["state"] == "pending"
        assert (await client.post(f"{T}/api/v1/rule-of-law/counselling", content=b"{")).status_code == 400


async def test_the_api_is_in_the_openapi_document(client: Any) -> None:
    r = await client.get(f"{T}/api/schema/openapi.json")
    paths = r.json()["paths"]
    assert any(p.endswith("/rule-of-law/counselling") for p in paths)
    assert any(p.endswith("/rule-of-law/mediation") for p in paths)


async def test_every_list_page_opens_from_the_menu_for_the_district_admin(signed_in: Any) -> None:
    admin = await signed_in("shuangluan", "admin")
    home = await admin.get(f"{T}/")
    assert f"{T}/rule-of-law/" in home.text and "平安法治" in home.text
    for path in (
        "/rule-of-law/",
        "/rule-of-law/disputes/",
        "/rule-of-law/cases/",
        "/rule-of-law/cases/?state=agreed&overdue=true",
        "/rule-of-law/teams/",
        "/rule-of-law/registers/",
        "/rule-of-law/petitions/",
        "/rule-of-law/counselling/",
        "/rule-of-law/access-log",
        "/rule-of-law/screening/new",
    ):
        r = await admin.get(T + path)
        assert r.status_code == 200, path
    assert (await admin.get(f"{T}/rule-of-law/registers/nobody")).status_code == 404
    assert (await admin.get(f"{T}/rule-of-law/cases/999999999")).status_code == 404


async def test_a_nodes_page_and_the_dashboard_show_the_pillars_figures(app: Any, signed_in: Any) -> None:
    from sqlalchemy import select

    from core.grids.models import GridNode
    from core.tenancy.models import Tenant

    async with app.state.db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    async with app.state.db.session(tenant.id) as s:
        root = (await s.execute(select(GridNode).where(GridNode.code == "sl"))).scalar_one()
    admin = await signed_in("shuangluan", "admin")
    node = main_text((await admin.get(f"{T}/grid/{root.id}")).text)
    assert "调解成功率" in node and "团队不齐" in node
    home = main_text((await admin.get(f"{T}/")).text)
    assert "排查纠纷" in home and "超期案件" in home
    overview = await admin.get(f"{T}/rule-of-law/?node={root.id}")
    assert overview.status_code == 200 and "超期案件" in main_text(overview.text)
    worker = await signed_in("shuangluan", "grid_worker")
    assert (await worker.get(f"{T}/rule-of-law/?node={root.id}")).status_code == 404  # outside their grid


async def test_a_cases_mediator_brings_in_a_colleague_but_no_one_else_can(app: Any, signed_in: Any) -> None:
    from sqlalchemy import select

    from core.identity.models import User
    from core.tenancy.models import Tenant
    from core.tenancy.service import ensure_user

    async with app.state.db.session(None) as s:
        tenant = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    async with app.state.db.transaction(tenant.id) as s:
        from core.grids.models import GridNode

        ybs = (await s.execute(select(GridNode).where(GridNode.code == "sl-ybs"))).scalar_one()
        colleague, _ = await ensure_user(s, "mediator_two", "调解员小郑", "liuzhi-demo", "mediator", ybs)
        colleague_id = colleague.id
    worker = await signed_in("shuangluan", "grid_worker")
    page = await worker.get(await log_dispute(worker))
    case_url = re.search(r'href="(/t/shuangluan/rule-of-law/cases/\d+)"', page.text).group(1)  # type: ignore[union-attr]
    mediator = await signed_in("shuangluan", "mediator")
    await form_post(mediator, f"{case_url}/accept", {"origin": "own_initiative", "version": "1"})
    two = await signed_in("shuangluan", "mediator_two")
    assert "保密" in main_text((await two.get(case_url)).text)
    assert (await form_post(two, f"{case_url}/mediators", {"user": str(colleague_id)})).status_code == 404
    r = await form_post(mediator, f"{case_url}/mediators", {"user": "12345"})
    assert r.status_code == 400 and "请选择在本辖区工作的调解员" in main_text(r.text)
    assert (await form_post(mediator, f"{case_url}/mediators", {"user": str(colleague_id)})).status_code == 303
    assert "周文斌" in main_text((await two.get(case_url)).text)
    async with app.state.db.session(tenant.id) as s:
        assert (await s.execute(select(User.id).where(User.id == colleague_id))).first()
