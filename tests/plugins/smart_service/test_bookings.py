"""预约代办: a booking goes requested → taken → done | cancelled, is overdue after the set working
days, refuses wrong forms and wrong steps with clear messages, and staff see only their area's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from core.db.base import new_id
from core.db.context import Actor
from core.grids.models import GridNode
from core.identity.models import User
from plugins.smart_service import bookings as bk
from plugins.smart_service import sla
from plugins.smart_service.models import Booking
from tests.conftest import csrf_of, form_post, main_text

SH = ZoneInfo("Asia/Shanghai")
WEDNESDAY_9 = datetime(2026, 11, 25, 9, 0, tzinfo=SH)
THURSDAY = date(2026, 11, 26)
SATURDAY = date(2026, 11, 28)


@pytest.fixture
async def place(app: Any, fresh_tenant: Any) -> dict[str, Any]:
    db = app.state.db
    async with db.transaction(fresh_tenant.id) as s:
        node = GridNode(id=new_id(), code="g", kind="grid", name="第一网格", parent_id=None, depth=0)
        node.path = f"/{node.id}/"
        s.add(node)
        users = {}
        for name in ("resident", "worker", "other"):
            u = User(id=new_id(), username=name, display_name=name, password_hash="-")
            s.add(u)
            users[name] = Actor("user", u.id, name)
    return {"db": db, "tenant": fresh_tenant.id, "node": node, "users": users}


async def _book(s: Any, place: dict[str, Any], **kw: Any) -> Booking:
    args: dict[str, Any] = {
        "matter": "elder_card",
        "preferred_day": THURSDAY,
        "node": place["node"],
        "actor": place["users"]["resident"],
        "applicant_user_id": place["users"]["resident"].id,
        "applicant_name": "张三",
        "now": WEDNESDAY_9,
    }
    args.update(kw)
    return await bk.request_booking(s, **args)


async def test_a_booking_is_taken_done_on_time_and_becomes_overdue_when_late(place: dict[str, Any]) -> None:
    worker = place["users"]["worker"]
    async with place["db"].transaction(place["tenant"]) as s:
        booking = await _book(s, place)
        assert booking.number == "BK-20261125-0001" and booking.state == bk.REQUESTED
        await bk.take(s, booking, worker, days=2, now=WEDNESDAY_9)
        # Two working days (2 × 7.5 working hours) from Wednesday 09:00: 7 h left on Wednesday,
        # 7.5 h on Thursday, the last half hour on Friday morning.
        assert booking.due_at == datetime(2026, 11, 27, 9, 0, tzinfo=SH)
        assert not bk.is_overdue(booking, datetime(2026, 11, 27, 8, 59, tzinfo=SH))
        assert bk.is_overdue(booking, datetime(2026, 11, 27, 9, 1, tzinfo=SH))
        overdue = await s.scalar(select(Booking.id).where(bk.overdue_clause(datetime(2026, 11, 30, 9, 0, tzinfo=SH))))
        assert overdue == booking.id
        await bk.complete(s, booking, worker, "老年证已办好，已送到家", now=datetime(2026, 11, 30, 10, 0, tzinfo=SH))
        assert booking.state == bk.DONE and bk.is_overdue(booking)

        on_time = await _book(s, place)
        await bk.take(s, on_time, worker, days=2, now=WEDNESDAY_9)
        await bk.complete(s, on_time, worker, "已办结", now=datetime(2026, 11, 26, 15, 0, tzinfo=SH))
        assert not bk.is_overdue(on_time)
        assert on_time.number == "BK-20261125-0002"


async def test_wrong_steps_and_wrong_forms_are_refused_with_a_reason(place: dict[str, Any]) -> None:
    worker, other = place["users"]["worker"], place["users"]["other"]
    calendar = sla.DEFAULT_CALENDAR
    errors, _day = bk.check_request(
        matter="nothing", preferred_day=SATURDAY.isoformat(), applicant_name=" ", calendar=calendar, today=THURSDAY
    )
    assert set(errors) == {"matter", "applicant_name", "preferred_day"}
    assert str(errors["preferred_day"]) == "2026-11-28 is not a working day: choose another day"
    errors, _day = bk.check_request(
        matter="dibao", preferred_day="2026-11-20", applicant_name="李四", calendar=calendar, today=THURSDAY
    )
    assert str(errors["preferred_day"]) == "The preferred day has passed"

    async with place["db"].transaction(place["tenant"]) as s:
        booking = await _book(s, place)
        with pytest.raises(
            bk.BookingError, match='"Record the result" is not possible while the booking is "Requested"'
        ):
            await bk.complete(s, booking, worker, "done", now=WEDNESDAY_9)
        with pytest.raises(bk.BookingError, match="You may not"):
            await bk.take(s, booking, worker, can=lambda action, path: False, now=WEDNESDAY_9)
        await bk.take(s, booking, worker, now=WEDNESDAY_9)
        with pytest.raises(bk.BookingError, match="Only the worker who took this booking"):
            await bk.complete(s, booking, other, "done", now=WEDNESDAY_9)
        with pytest.raises(bk.BookingError, match="Say what was done"):
            await bk.complete(s, booking, worker, "  ", now=WEDNESDAY_9)
        with pytest.raises(bk.BookingError, match="Give a reason"):
            await bk.cancel(s, booking, place["users"]["resident"], "", now=WEDNESDAY_9)
        await bk.cancel(s, booking, place["users"]["resident"], "不需要了", now=WEDNESDAY_9)
        assert booking.state == bk.CANCELLED and not bk.is_overdue(booking, WEDNESDAY_9 + timedelta(days=30))


def _next_working_day() -> str:
    day = datetime.now(SH).date() + timedelta(days=1)
    while not sla.DEFAULT_CALENDAR.is_working_day(day):
        day += timedelta(days=1)
    return day.isoformat()


async def _shuangluan(app: Any) -> tuple[int, dict[str, GridNode]]:
    async with app.state.db.session(None) as s:
        from core.tenancy.models import Tenant

        tenant = (await s.execute(select(Tenant).where(Tenant.slug == "shuangluan"))).scalar_one()
    async with app.state.db.session(tenant.id) as s:
        nodes = {n.code: n for n in (await s.execute(select(GridNode))).scalars()}
    return tenant.id, nodes


async def test_a_resident_books_a_community_worker_takes_it_and_the_resident_sees_the_result(
    app: Any, signed_in: Any
) -> None:
    tenant_id, nodes = await _shuangluan(app)
    resident = await signed_in("shuangluan", "resident")
    worker = await signed_in("shuangluan", "community_worker")
    try:
        r = await resident.get("/t/shuangluan/smart-service/bookings/new")
        assert r.status_code == 200
        r = await form_post(
            resident,
            "/t/shuangluan/smart-service/bookings/",
            {"matter": "residence_proof", "preferred_day": "2020-01-01", "applicant_name": "居民", "node_id": ""},
        )
        assert r.status_code == 400
        assert 'id="e-preferred_day"' in r.text and 'id="e-node_id"' not in r.text
        r = await form_post(
            resident,
            "/t/shuangluan/smart-service/bookings/",
            {
                "matter": "residence_proof",
                "preferred_day": _next_working_day(),
                "applicant_name": "居民（演示）",
                "node_id": str(nodes["sl-ybs-sa-g01"].id),
                "documents": "身份证",
            },
        )
        assert r.status_code == 303, r.text[:500]
        url = r.headers["location"].split("?")[0]
        booking_id = int(url.rsplit("/", 1)[1])
        mine = await resident.get("/t/shuangluan/smart-service/bookings/")
        assert f"/smart-service/bookings/{booking_id}" in mine.text

        area = await worker.get("/t/shuangluan/smart-service/bookings/?status=requested")
        assert f"/smart-service/bookings/{booking_id}" in area.text
        r = await worker.post(f"{url}/take", data={"_csrf_token": csrf_of(worker)})
        assert r.status_code == 303
        r = await worker.post(f"{url}/complete", data={"_csrf_token": csrf_of(worker), "result": "居住证明已开具"})
        assert r.status_code == 303
        page = await resident.get(url)
        assert "居住证明已开具" in main_text(page.text)
        # The resident cannot take bookings.
        r = await resident.post(f"{url}/take", data={"_csrf_token": csrf_of(resident)})
        assert r.status_code == 403
    finally:
        async with app.state.db.transaction(tenant_id) as s:
            await s.execute(
                delete(Booking).where(Booking.applicant_name == "居民（演示）", Booking.documents == "身份证")
            )


async def test_community_staff_see_only_their_communitys_bookings(app: Any, signed_in: Any) -> None:
    tenant_id, nodes = await _shuangluan(app)
    async with app.state.db.transaction(tenant_id) as s:
        admin_id = await s.scalar(select(User.id).where(User.username == "admin"))
        admin = Actor("user", admin_id, "admin")
        ours = await bk.request_booking(
            s,
            matter="dibao",
            preferred_day=_next_working_day(),
            node=nodes["sl-ybs-sa-g02"],
            actor=admin,
            applicant_user_id=None,
            applicant_name="范围测试甲",
        )
        theirs = await bk.request_booking(
            s,
            matter="dibao",
            preferred_day=_next_working_day(),
            node=nodes["sl-ybs-yxy-g01"],
            actor=admin,
            applicant_user_id=None,
            applicant_name="范围测试乙",
        )
    try:
        community = await signed_in("shuangluan", "community")
        listed = await community.get("/t/shuangluan/smart-service/bookings/?tab=area&status=requested")
        assert "范围测试甲" in listed.text and "范围测试乙" not in listed.text
        assert (await community.get(f"/t/shuangluan/smart-service/bookings/{ours.id}")).status_code == 200
        assert (await community.get(f"/t/shuangluan/smart-service/bookings/{theirs.id}")).status_code == 404
        r = await community.post(
            f"/t/shuangluan/smart-service/bookings/{theirs.id}/take", data={"_csrf_token": csrf_of(community)}
        )
        assert r.status_code == 404
        admin_client = await signed_in("shuangluan", "admin")
        everything = await admin_client.get("/t/shuangluan/smart-service/bookings/?tab=area&status=requested")
        assert "范围测试甲" in everything.text and "范围测试乙" in everything.text
    finally:
        async with app.state.db.transaction(tenant_id) as s:
            await s.execute(delete(Booking).where(Booking.id.in_([ours.id, theirs.id])))
