"""Staff and owners' pages on the demo district: who sees what (scope, 404 outside it), forms
that refuse bad input with a message and write nothing, the demo's 安顺乐居 story in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from plugins.self_governance.models import Assembly, Matter
from tests.conftest import form_post, main_text

T = "/t/shuangluan"


async def _assembly_id(app: Any, title: str) -> int:
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        return int(await s.scalar(select(Assembly.id).where(Assembly.title == title)))


async def test_the_overview_shows_matters_votes_and_committees_due(signed_in: Any) -> None:
    c = await signed_in("shuangluan", "community")
    r = await c.get(f"{T}/self-governance/")
    assert r.status_code == 200, r.text[:500]
    text = main_text(r.text)
    assert "关于使用维修资金更换二次供水设备的业主大会" in text
    assert "安顺乐居第二届业主委员会" in text  # term ends within six months
    for page in ("matters/", "assemblies/", "meetings/", "committees/", "covenants/"):
        assert (await c.get(f"{T}/self-governance/{page}")).status_code == 200, page


async def test_counted_votes_show_their_results_by_article_278(signed_in: Any, app: Any) -> None:
    c = await signed_in("shuangluan", "community")
    passed = await c.get(f"{T}/self-governance/assemblies/{await _assembly_id(app, '2026年第一次业主大会')}")
    assert passed.status_code == 200
    assert main_text(passed.text).count("通过") >= 2 and "校验码" in main_text(passed.text)
    failed = await c.get(f"{T}/self-governance/assemblies/{await _assembly_id(app, '关于筹集维修资金的业主大会')}")
    assert "未通过" in main_text(failed.text)
    invalid = await c.get(
        f"{T}/self-governance/assemblies/{await _assembly_id(app, '关于利用共有部分设置广告位的业主大会')}"
    )
    assert "无效" in main_text(invalid.text)


async def test_an_assembly_noticed_too_late_is_refused_with_the_reason(signed_in: Any, app: Any) -> None:
    c = await signed_in("shuangluan", "community")
    page = await c.get(f"{T}/self-governance/assemblies/")
    import re

    estate_id = re.search(r'<option value="(\d+)"[^>]*>安顺乐居</option>', page.text).group(1)  # type: ignore[union-attr]
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        before = await s.scalar(select(func.count(Assembly.id)))
    r = await form_post(
        c,
        f"{T}/self-governance/assemblies/",
        {
            "node_id": estate_id,
            "title": "临时动议",
            "item_title_1": "更换门禁系统",
            "item_category_1": "5",
            "opens_at": "2026-12-08T09:00",
            "closes_at": "2026-12-15T18:00",
        },
    )
    assert r.status_code == 400
    assert "须提前 15 日公告" in r.text
    async with app.state.db.session(tenant.id) as s:
        assert await s.scalar(select(func.count(Assembly.id))) == before


async def test_a_grid_worker_outside_self_governance_gets_404_for_objects(signed_in: Any, app: Any) -> None:
    c = await signed_in("shuangluan", "volunteer")
    aid = await _assembly_id(app, "2026年第一次业主大会")
    assert (await c.get(f"{T}/self-governance/assemblies/{aid}")).status_code == 403  # no view action at all
    staff = await signed_in("shuangluan", "community")
    assert (await staff.get(f"{T}/self-governance/assemblies/999999999")).status_code == 404


async def test_an_owner_votes_on_the_phone_page_once(signed_in: Any, app: Any) -> None:
    aid = await _assembly_id(app, "关于使用维修资金更换二次供水设备的业主大会")
    owner = await signed_in("shuangluan", "yezhu01")
    page = await owner.get(f"{T}/self-governance/my/")
    assert "关于使用维修资金更换二次供水设备的业主大会" in page.text
    vote = await owner.get(f"{T}/self-governance/my/assemblies/{aid}")
    assert vote.status_code == 200
    import re

    items = re.findall(r'name="item_(\d+)" value="yes"', vote.text)
    assert len(items) == 2
    r = await form_post(owner, f"{T}/self-governance/my/assemblies/{aid}", {f"item_{i}": "yes" for i in items})
    assert r.status_code == 303
    again = await form_post(owner, f"{T}/self-governance/my/assemblies/{aid}", {f"item_{i}": "no" for i in items})
    assert again.status_code == 409 and "不能更改" in again.text
    assert "您已完成投票" in (await owner.get(f"{T}/self-governance/my/assemblies/{aid}")).text


async def test_a_matter_raised_by_staff_moves_through_its_steps(signed_in: Any, app: Any) -> None:
    c = await signed_in("shuangluan", "community")
    page = await c.get(f"{T}/self-governance/matters/")
    import re

    estate_id = re.search(r'<option value="(\d+)"[^>]*>安顺乐居</option>', page.text).group(1)  # type: ignore[union-attr]
    bad = await form_post(
        c, f"{T}/self-governance/matters/", {"node_id": estate_id, "title": " ", "procedure": "three_party"}
    )
    assert bad.status_code == 400 and "议题标题不能为空" in bad.text
    r = await form_post(
        c,
        f"{T}/self-governance/matters/",
        {"node_id": estate_id, "title": "楼顶防水维修", "procedure": "three_party", "event_number": "SJ-2026-000321"},
    )
    assert r.status_code == 303
    url = r.headers["location"]
    assert (await form_post(c, f"{url}/act", {"move": "advance", "note": "同意"})).status_code == 303
    detail = await c.get(url)
    assert "当前环节：居委会组织" in main_text(detail.text)
    assert "由事件 SJ-2026-000321 转为议题" in main_text(
        detail.text
    )  # with 服务智治 on, a matter grows out of an event
    worker = await signed_in("shuangluan", "grid_worker")  # sees the matter, may not organise it
    refused = await form_post(worker, f"{url}/act", {"move": "advance", "note": "x"})
    assert refused.status_code == 403
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        m = (await s.execute(select(Matter).where(Matter.title == "楼顶防水维修"))).scalar_one()
    assert m.step == 1


async def test_the_notice_board_shows_published_results(signed_in: Any, app: Any) -> None:
    c = await signed_in("shuangluan", "yezhu02")
    from core.grids.models import GridNode
    from core.tenancy.service import get_tenant

    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        estate = (await s.execute(select(GridNode).where(GridNode.code == "sl-ybs-sa-g01-asly"))).scalar_one()
    r = await c.get(f"{T}/self-governance/board/{estate.id}")
    assert r.status_code == 200
    assert "业主大会表决结果公告" in r.text and "拆除小区私搭乱建（结果公开）" in r.text
