"""The mini-program's JSON API over bearer tokens: a resident registers as a volunteer, signs up,
gets a check-in code, earns hours and points, redeems (idempotently), books and rates a home
service and reviews the property company — errors as JSON messages; all in the OpenAPI document."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from core.grids.models import GridNode
from core.identity.models import ApiToken, User
from core.tenancy.models import Tenant
from core.web.context import hash_token
from plugins.co_governance import homeservice, property, rules, volunteers
from plugins.co_governance.models import StoreItem, Volunteer
from plugins.co_governance.numbers import LOCAL
from tests.conftest import make_client

API = "/t/shuangluan/api/v1/co-governance"


async def _client(app: Any, username: str) -> tuple[httpx.AsyncClient, Any, Any]:
    async with app.state.db.session(None) as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "shuangluan"))
    raw = "lz_" + secrets.token_urlsafe(24)
    async with app.state.db.transaction(tenant.id) as s:
        user = await s.scalar(select(User).where(User.username == username))
        s.add(ApiToken(user_id=user.id, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(app)
    client.headers["Authorization"] = f"Bearer {raw}"
    return client, tenant, user


async def test_a_resident_does_everything_through_the_api(app: Any) -> None:
    client, tenant, user = await _client(app, "resident")
    async with client:
        assert (await client.get(f"{API}/me")).status_code == 404
        bad = await client.post(f"{API}/volunteers", json={"name": "钱阿姨", "phone": "110"})
        assert bad.status_code == 400 and bad.json()["detail"] == "请填写有效的手机号码。"
        r = await client.post(f"{API}/volunteers", json={"name": "钱阿姨", "phone": "13866667777", "skills": ["维修"]})
        assert r.status_code == 201, r.text
        me = r.json()
        assert me["number"].startswith("SLZY") and me["star"] == 0 and me["points"] == "0.00"
        assert (
            await client.post(f"{API}/volunteers", json={"name": "钱阿姨", "phone": "13866667777"})
        ).status_code == 409

        # staff publish an activity near them and a store item; the resident signs up and gets a code
        async with app.state.db.transaction(tenant.id) as s:
            v = await s.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
            node = await s.scalar(select(GridNode).where(GridNode.path == v.node_path))
            start = datetime.now(LOCAL) + timedelta(days=2)
            act = await volunteers.publish_activity(
                s,
                title="API 测试活动",
                node=node,
                starts_at=start,
                ends_at=start + timedelta(hours=4),
                category="应急救援",
                organiser="双安社区",
                capacity=5,
            )
            item = StoreItem(name="API 测试毛巾", price=3, stock=2, node_id=node.id, node_path=node.path)
            s.add(item)
            await s.flush()
            act_id, item_id = act.id, item.id
        listed = (await client.get(f"{API}/activities")).json()["activities"]
        assert any(a["id"] == act_id for a in listed)
        signed = await client.post(f"{API}/activities/{act_id}/sign-up")
        assert signed.status_code == 200 and signed.json()["signed_up"] == 1
        again = await client.post(f"{API}/activities/{act_id}/sign-up")
        assert again.status_code == 409
        code = (await client.get(f"{API}/activities/{act_id}/code")).json()
        assert code["valid_seconds"] == 300 and code["token"].count(".") == 4
        assert (await client.get(f"{API}/activities/999/code")).status_code == 404

        # the organiser records 2 hours of 应急救援 (coefficient 2 by default): 4 points
        async with app.state.db.transaction(tenant.id) as s:
            v = await s.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
            await volunteers.record_service(
                s, act_id, v, 120, rules.PointsRule.of({"category_coefficients": "应急救援:2"})
            )
        me = (await client.get(f"{API}/me")).json()
        assert me["hours"] == "2.00" and me["points"] == "4.00" and me["next_star_hours"] == 100
        records = (await client.get(f"{API}/records")).json()["records"]
        assert records[0]["organiser"] == "双安社区" and records[0]["hours"] == "2.00"
        pdf = await client.get(f"{API}/certificate")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["x-verify-code"]

        items = (await client.get(f"{API}/store/items")).json()
        assert items["points"] == "4.00" and any(i["id"] == item_id for i in items["items"])
        first = await client.post(f"{API}/store/items/{item_id}/redeem", headers={"Idempotency-Key": "tap-1"})
        assert first.status_code == 201 and first.json()["points_left"] == "1.00"
        retry = await client.post(f"{API}/store/items/{item_id}/redeem", headers={"Idempotency-Key": "tap-1"})
        assert retry.json()["number"] == first.json()["number"]
        broke = await client.post(f"{API}/store/items/{item_id}/redeem", headers={"Idempotency-Key": "tap-2"})
        assert broke.status_code == 409
        mine = (await client.get(f"{API}/store/redemptions")).json()["redemptions"]
        assert [r["state"] for r in mine] == ["reserved"]


async def test_booking_and_rating_and_property_review_through_the_api(app: Any) -> None:
    client, tenant, _user = await _client(app, "resident")
    async with client:
        async with app.state.db.transaction(tenant.id) as s:
            community = await s.scalar(select(GridNode).where(GridNode.code == "sl-ybs-sa"))
            estate = await s.scalar(select(GridNode).where(GridNode.code == "sl-ybs-sa-g01-asly"))
            from tests.co_governance.test_services_training_property import _credit_code

            code = _credit_code()
            existing = await s.scalar(select(homeservice.Provider).where(homeservice.Provider.credit_code == code))
            provider = existing or await homeservice.add_provider(
                s, name="API 家政公司", kind="company", credit_code=code, node=community
            )
            offer = await homeservice.add_offer(s, provider, title="API 保洁", category="保洁", price="60")
            company = await property.add_company(
                s, name="API 物业", estate=estate, party_mode="own", party_org="API 物业党支部"
            )
            offer_id, company_id = offer.id, company.id
        offers = (await client.get(f"{API}/services/offers")).json()["offers"]
        assert any(o["id"] == offer_id and o["price"] == "60.00" for o in offers)
        past = await client.post(f"{API}/services/offers/{offer_id}/book", json={"wanted_on": "2020-01-01"})
        assert past.status_code == 400
        day = (date.today() + timedelta(days=3)).isoformat()
        booked = await client.post(
            f"{API}/services/offers/{offer_id}/book", json={"wanted_on": day, "note": "周末上午"}
        )
        assert booked.status_code == 201
        booking_id = booked.json()["id"]
        early = await client.post(f"{API}/services/bookings/{booking_id}/rate", json={"rating": 5})
        assert early.status_code == 409
        async with app.state.db.transaction(tenant.id) as s:
            b = await homeservice.get_booking(s, booking_id)
            await homeservice.move(s, b, "confirm", staff=True)
            await homeservice.move(s, b, "done", staff=True)
        rated = await client.post(f"{API}/services/bookings/{booking_id}/rate", json={"rating": 5, "comment": "很好"})
        assert rated.status_code == 200 and rated.json()["rating"] == 5
        assert (await client.post(f"{API}/services/bookings/{booking_id}/rate", json={"rating": 4})).status_code == 409
        companies = (await client.get(f"{API}/property/companies")).json()["companies"]
        assert any(c["id"] == company_id for c in companies)
        review = await client.post(f"{API}/property/companies/{company_id}/review", json={"score": 4})
        assert review.status_code == 201 and review.json()["quarter"] == property.current_quarter()
        twice = await client.post(f"{API}/property/companies/{company_id}/review", json={"score": 4})
        assert twice.status_code == 409
        assert (await client.post(f"{API}/property/companies/{company_id}/review", content=b"x")).status_code == 400


async def test_the_api_is_in_the_openapi_document_and_refuses_cookies(app: Any, as_resident: Any) -> None:
    r = await as_resident.get("/t/shuangluan/api/schema/openapi.json")
    paths = r.json()["paths"]
    for p in (
        "/api/v1/co-governance/volunteers",
        "/api/v1/co-governance/store/items/{item_id}/redeem",
        "/api/v1/co-governance/services/offers/{offer_id}/book",
        "/api/v1/co-governance/services/bookings/{booking_id}/rate",
        "/api/v1/co-governance/activities/{activity_id}/sign-up",
    ):
        assert any(k.endswith(p) for k in paths), p
    assert (await as_resident.get(f"{API}/me")).status_code == 401
