"""The pillar's pages as its people use them: a volunteer registers and sees their page, a
community worker publishes an activity and checks a volunteer in and out by code, the store
hands over a redemption; validation, scope (404) and the menu."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from plugins.co_governance.models import StoreItem, Volunteer
from plugins.co_governance.numbers import LOCAL
from tests.conftest import form_post, main_text

T = "/t/shuangluan"


async def _volunteer(app: Any) -> Any:
    async with app.state.db.session(None) as s:
        from core.tenancy.models import Tenant

        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "shuangluan"))
    async with app.state.db.session(tenant.id) as s:
        from core.identity.models import User

        user = await s.scalar(select(User).where(User.username == "volunteer"))
        return tenant, user, await s.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


async def test_a_volunteer_registers_and_sees_number_hours_star_and_points(signed_in: Any, app: Any) -> None:
    client = await signed_in("shuangluan", "volunteer")
    r = await client.get(f"{T}/co-governance/me/")
    assert r.status_code == 200
    if "register-form" in r.text:
        bad = await form_post(client, f"{T}/co-governance/me/register", {"name": "", "phone": "123"})
        assert bad.status_code == 400
        assert "请填写志愿者姓名" in main_text(bad.text)
        ok = await form_post(
            client,
            f"{T}/co-governance/me/register",
            {"name": "赵志愿", "phone": "13930001111", "skills": ["维修", "摄影"], "availability": "周末"},
        )
        assert ok.status_code == 303
        r = await client.get(f"{T}/co-governance/me/")
    text = main_text(r.text)
    assert re.search(r"SLZY\d{4}\d{6}", text)
    assert "累计" in text or "hours" in text
    nav = await client.get(f"{T}/")
    assert "/co-governance/me/" in nav.text


async def test_organiser_publishes_checks_in_and_out_by_code_and_hours_become_points(signed_in: Any, app: Any) -> None:
    vol = await signed_in("shuangluan", "volunteer")
    if "register-form" in (await vol.get(f"{T}/co-governance/me/")).text:
        await form_post(vol, f"{T}/co-governance/me/register", {"name": "赵志愿", "phone": "13930001111"})
    worker = await signed_in("shuangluan", "community_worker")
    page = await worker.get(f"{T}/co-governance/activities/")
    assert page.status_code == 200
    node_id = re.search(r'name="node_id">\s*<option value="(\d+)"', page.text).group(1)
    now = datetime.now(LOCAL).replace(second=0, microsecond=0)
    bad = await form_post(
        worker,
        f"{T}/co-governance/activities/",
        {"title": "清扫", "node_id": node_id, "starts_at": "明天", "ends_at": ""},
    )
    assert bad.status_code == 400 and "请" in main_text(bad.text)
    r = await form_post(
        worker,
        f"{T}/co-governance/activities/",
        {
            "title": "双安社区楼道清扫",
            "node_id": node_id,
            "category": "环境保护",
            "organiser": "双安社区居委会",
            "starts_at": (now + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": "20",
        },
    )
    assert r.status_code == 303, r.text[:500]
    activity_id = int(r.headers["location"].rsplit("/", 1)[1])
    mine = await vol.get(f"{T}/co-governance/me/")
    assert "双安社区楼道清扫" in mine.text
    signed = await form_post(vol, f"{T}/co-governance/me/activities/{activity_id}/sign-up")
    assert signed.status_code == 200 and "show-code" in signed.text
    code = await vol.get(f"{T}/co-governance/me/activities/{activity_id}/code")
    token = re.search(r'data-testid="token">([^<]+)<', code.text).group(1)
    assert 'src="data:image/svg+xml' in code.text
    scanned = await form_post(worker, f"{T}/co-governance/activities/{activity_id}/scan", {"token": token})
    assert scanned.status_code == 200
    assert "已签到" in main_text(scanned.text)
    # check out at once: the clock gives 0 minutes before the start; the organiser records 2.5 h
    hours = await form_post(
        worker,
        f"{T}/co-governance/activities/{activity_id}/hours",
        {"user_id": str((await _volunteer(app))[1].id), "hours": "2.5", "reason": "纸质签到表"},
    )
    assert hours.status_code == 200, main_text(hours.text)[:300]
    me = main_text((await vol.get(f"{T}/co-governance/me/")).text)
    assert "双安社区楼道清扫" in me and "2.5" in me
    # another tenant's or a bad id is 404
    assert (await worker.get(f"{T}/co-governance/activities/999999")).status_code == 404


async def test_the_store_redeems_and_staff_hand_over(signed_in: Any, app: Any) -> None:
    vol = await signed_in("shuangluan", "volunteer")
    if "register-form" in (await vol.get(f"{T}/co-governance/me/")).text:
        await form_post(vol, f"{T}/co-governance/me/register", {"name": "赵志愿", "phone": "13930001111"})
    worker = await signed_in("shuangluan", "community_worker")
    page = await worker.get(f"{T}/co-governance/store/manage/")
    assert page.status_code == 200
    node_id = re.search(r'name="node_id">\s*<option value="(\d+)"', page.text).group(1)
    bad = await form_post(
        worker,
        f"{T}/co-governance/store/manage/items",
        {"name": "毛巾", "price": "0", "stock": "5", "node_id": node_id},
    )
    assert bad.status_code == 400 and "至少为 1 分" in bad.text
    tenant, _user, volunteer = await _volunteer(app)
    # give the volunteer points the way the pillar does: a recorded activity
    async with app.state.db.transaction(tenant.id) as s:
        from core.grids.models import GridNode
        from plugins.co_governance import rules, volunteers

        volunteer = await s.scalar(select(Volunteer).where(Volunteer.id == volunteer.id))
        node = await s.scalar(select(GridNode).where(GridNode.path == volunteer.node_path))
        start = datetime.now(LOCAL) + timedelta(days=1)
        act = await volunteers.publish_activity(
            s,
            title="助老送餐",
            node=node,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            category="助老助残",
            organiser="双安社区",
        )
        await volunteers.record_service(s, act.id, volunteer, 180, rules.PointsRule())
        item = StoreItem(name="洗衣液（测试）", price=2, stock=1, node_id=node.id, node_path=node.path)
        s.add(item)
        await s.flush()
        item_id = item.id
    shop = await vol.get(f"{T}/co-governance/store/")
    assert "洗衣液（测试）" in shop.text
    r = await form_post(vol, f"{T}/co-governance/store/items/{item_id}/redeem", {"request_key": "k1"})
    assert r.status_code == 200 and "LF-" in r.text
    again = await form_post(vol, f"{T}/co-governance/store/items/{item_id}/redeem", {"request_key": "k2"})
    assert again.status_code == 409 and "已兑完" in again.text
    manage = await worker.get(f"{T}/co-governance/store/manage/")
    rid = re.search(r"/redemptions/(\d+)/hand-over", manage.text).group(1)
    done = await form_post(worker, f"{T}/co-governance/store/manage/redemptions/{rid}/hand-over", {"note": "本人领取"})
    assert done.status_code == 200 and "已发放" in main_text(done.text)


async def test_a_resident_cannot_reach_staff_pages_and_staff_pages_need_scope(signed_in: Any) -> None:
    resident = await signed_in("shuangluan", "resident")
    assert (await resident.get(f"{T}/co-governance/volunteers/")).status_code == 403
    assert (await resident.get(f"{T}/co-governance/services/")).status_code == 200
    assert (await resident.get(f"{T}/co-governance/property/")).status_code == 200
    admin = await signed_in("shuangluan", "admin")
    for path in (
        "/co-governance/",
        "/co-governance/volunteers/",
        "/co-governance/teams/",
        "/co-governance/activities/",
        "/co-governance/store/manage/",
        "/co-governance/services/manage/",
        "/co-governance/training/",
        "/co-governance/property/manage/",
    ):
        assert (await admin.get(T + path)).status_code == 200, path
