"""The residents' JSON API (bearer tokens): list my votes, vote once (a second time is 409), bad
bodies are 400 with a message, another's vote 404, raise a matter, check in at a meeting, and
the routes are in the OpenAPI document."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import select

from core.identity.models import ApiToken, User
from core.tenancy.service import get_tenant
from core.web.context import hash_token
from plugins.self_governance.models import Assembly
from tests.conftest import make_client

API = "/t/shuangluan/api/v1/self-governance"


async def _client(app: Any, username: str) -> httpx.AsyncClient:
    tenant = await get_tenant(app.state.db, "shuangluan")
    raw = "lz_" + secrets.token_urlsafe(24)
    async with app.state.db.transaction(tenant.id) as s:
        user = (await s.execute(select(User).where(User.username == username))).scalar_one()
        s.add(ApiToken(user_id=user.id, name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    c = make_client(app)
    c.headers["Authorization"] = f"Bearer {raw}"
    return c


async def _running_id(app: Any) -> int:
    tenant = await get_tenant(app.state.db, "shuangluan")
    async with app.state.db.session(tenant.id) as s:
        return int(await s.scalar(select(Assembly.id).where(Assembly.title.like("%二次供水%"))))


async def test_an_owner_lists_and_casts_a_vote_once(app: Any) -> None:
    aid = await _running_id(app)
    async with await _client(app, "yezhu03") as c:
        listed = (await c.get(f"{API}/votes")).json()["votes"]
        assert aid in [v["id"] for v in listed]
        detail = (await c.get(f"{API}/votes/{aid}")).json()
        assert detail["phase"] == "open" and len(detail["items"]) == 2
        first = detail["items"][0]
        assert first["article_278_item"] == 5 and first["needs_three_quarters"] is False
        before = first["participation"]["owners"]
        bad = await c.post(f"{API}/votes/{aid}", json={"choices": {str(first["id"]): "maybe"}})
        assert bad.status_code == 400 and "同意" in bad.json()["detail"]
        assert (await c.post(f"{API}/votes/{aid}", content=b"{")).status_code == 400
        ok = await c.post(f"{API}/votes/{aid}", json={"choices": {str(i["id"]): "yes" for i in detail["items"]}})
        assert ok.status_code == 200, ok.text
        after = ok.json()["items"][0]
        assert after["voted"] is True and after["participation"]["owners"] == before + 1
        again = await c.post(f"{API}/votes/{aid}", json={"choices": {str(first["id"]): "no"}})
        assert again.status_code == 409


async def test_a_vote_of_another_estate_or_none_is_404(app: Any) -> None:
    async with await _client(app, "resident") as c:  # the demo resident owns nothing
        assert (await c.get(f"{API}/votes")).json()["votes"] == []
        r = await c.post(f"{API}/votes/{await _running_id(app)}", json={"choices": {"1": "yes"}})
        assert r.status_code == 404


async def test_an_owner_raises_a_matter_for_their_estate(app: Any) -> None:
    async with await _client(app, "yezhu04") as c:
        places = (await c.get(f"{API}/matters")).json()["places"]
        assert [p["name"] for p in places][:1] == ["安顺乐居"]
        r = await c.post(
            f"{API}/matters", json={"title": "单元门禁损坏", "description": "2号楼1单元", "node_id": places[0]["id"]}
        )
        assert r.status_code == 201 and r.json()["step"] == "lead"
        elsewhere = await c.post(f"{API}/matters", json={"title": "x", "node_id": 1})
        assert elsewhere.status_code == 400


async def test_the_api_is_in_the_openapi_document(app: Any) -> None:
    async with make_client(app) as c:
        doc = (await c.get("/t/shuangluan/api/schema/openapi.json")).json()
    paths = [p for p in doc["paths"] if "self-governance" in p]
    assert any(p.endswith("/votes/{assembly_id}") for p in paths)
    assert any(p.endswith("/meetings/{meeting_id}/check-in") for p in paths)
