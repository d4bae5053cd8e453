"""The mini-program API: bearer tokens only, listed in the OpenAPI document, errors as JSON."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from core.identity.models import ApiToken
from core.web.context import hash_token
from tests.civic_virtue.conftest import Town
from tests.conftest import make_client


async def bearer(town: Town, key: str) -> httpx.AsyncClient:
    raw = "lz_" + secrets.token_urlsafe(24)
    async with town.tx() as s:
        s.add(ApiToken(user_id=town.users[key], name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
    client = make_client(town.app)
    client.headers["Authorization"] = f"Bearer {raw}"
    town.clients.append(client)
    return client


async def test_every_resident_action_is_in_the_openapi_document(app: Any) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    for path in (
        "/api/v1/civic-virtue/campaigns/{campaign_id}/nominations",
        "/api/v1/civic-virtue/nominations/{nomination_id}/consent",
        "/api/v1/civic-virtue/campaigns/{campaign_id}/votes",
        "/api/v1/civic-virtue/activities/{event_id}/signup",
        "/api/v1/civic-virtue/gallery",
    ):
        assert path in paths, path


async def test_a_browser_session_cannot_use_the_api_and_an_unknown_campaign_is_404(town: Town) -> None:
    anonymous = make_client(town.app)
    town.clients.append(anonymous)
    assert (await anonymous.get(town.url("/api/v1/civic-virtue/campaigns"))).status_code == 401
    ann = await bearer(town, "ann")
    r = await ann.get(town.url("/api/v1/civic-virtue/campaigns/123456"))
    assert r.status_code == 404 and r.json()["detail"]
    r = await ann.post(town.url("/api/v1/civic-virtue/campaigns/123456/votes"), json={})
    assert r.status_code == 404
