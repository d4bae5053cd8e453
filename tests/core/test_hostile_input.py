"""Hostile input gets a clear 400, never a 500: every route of the app, fuzzed.

Each route is called with hostile values in its path parameters, its query (the parameters it
declares and the usual names: page, node, q, dates …), a form body and, under /api/, a JSON body.
Values the shared input layer (core/web/inputs.py) must refuse — NUL and other control
characters, integers beyond 64 bits — must answer 400; the rest (malformed dates, full-width
digits, the largest 64-bit integer, very long text) must reach the handler and still never 500.
The district is a throwaway one, so whatever the fuzz writes there harms nothing.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from core.db.base import new_id
from core.identity.models import ApiToken, User
from core.identity.passwords import hash_password
from core.rbac.models import RoleAssignment
from core.tenancy.service import set_plugin
from core.web.context import hash_token
from tests.conftest import csrf_of, make_client
from tests.plugins.smart_service.fixtures.district import PASSWORD, build

REFUSED_INTS = [str(2**63), str(10**30), str(-(2**63) - 1)]
EDGE_INTS = [str(2**63 - 1), "0", "-1"]
REFUSED_TEXT = ["\x00", "a\x01b", "x\x7f", "\x1b[31m"]
EDGE_TEXT = [
    "2024-02-30",
    "99999-12-31",
    "0000-00-00",
    "１２３",
    "9" * 30,
    "x" * 3000,
    "'\"<>%_\\",
    "../../etc/passwd",
    "NaN",
    "1e309",
    "-1",
    "",
]
QUERY_NAMES = ("page", "node", "q", "id", "status", "start", "end", "date_from", "date_to", "start_date", "end_date")
FORM_NAMES = (
    "name",
    "username",
    "display_name",
    "title",
    "description",
    "q",
    "node",
    "node_id",
    "household",
    "id_number",
    "phone",
    "birth_date",
    "moved_in",
    "moved_out",
    "day",
    "preferred_day",
    "category",
    "lat",
    "lon",
    "page",
    "role",
    "password",
    "floor_area",
    "kind",
    "code",
    "parent",
)
SKIP = {"/logout", "/platform/logout"}  # the fuzzing client must stay signed in
STREAMS = re.compile(r"/stream$")
PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ()) or ()):
                if method in ("OPTIONS", "HEAD") or route.path in SKIP:
                    continue
                out.append((route.path, method, handler))
    return out


def _declared_query(handler: Any) -> list[str]:
    skip = {"request", "data", "state", "scope", "headers", "socket"}
    names = []
    for name, field in handler.parsed_fn_signature.parameters.items():
        kind = type(field.kwarg_definition).__name__ if field.kwarg_definition is not None else ""
        if name in skip or kind in ("BodyKwarg", "DependencyKwarg"):
            continue
        names.append(name)
    return names


def _path(template: str, value: str, int_value: str) -> tuple[str, bool]:
    """The route's path with every parameter set; True when it has an int parameter."""
    has_int = False

    def sub(m: re.Match[str]) -> str:
        nonlocal has_int
        if m.group(2) == "int":
            has_int = True
            return int_value
        return quote(value, safe="")

    return PARAM.sub(sub, template), has_int


@pytest.fixture
async def fuzz_clients(app: Any, fresh_tenant: Any, as_operator: Any) -> AsyncIterator[dict[str, Any]]:
    district = await build(app, fresh_tenant)
    for plugin in app.state.plugins.manifests:
        await set_plugin(app.state.db, app.state.plugins, fresh_tenant, plugin, True)
    app.state.tenant_cache.clear()
    async with district.tx() as s:
        user = User(id=new_id(), username="fuzz_admin", display_name="Fuzz", password_hash=hash_password(PASSWORD))
        s.add(user)
        await s.flush()
        root = district.nodes["root"]
        s.add(RoleAssignment(user_id=user.id, role_code="district_admin", node_id=root.id, node_path=root.path))
    admin = await district.client("fuzz_admin")
    anonymous = make_client(app)
    await anonymous.get(district.url("/login"))
    yield {"tenant": admin, "platform": as_operator, "public": anonymous, "district": district}
    await anonymous.aclose()
    await district.close()


async def _send(client: httpx.AsyncClient, method: str, url: str, handler: Any, value: str) -> httpx.Response:
    headers = {"X-CSRFToken": csrf_of(client)}
    if method == "GET":
        return await client.get(url, headers=headers, timeout=30)
    if handler.opt.get("api"):
        body = {name: value for name in FORM_NAMES}
        return await client.request(method, url, json=body, headers=headers, timeout=30)
    form = {name: value for name in FORM_NAMES}
    form["_csrf_token"] = csrf_of(client)
    return await client.request(method, url, data=form, headers=headers, timeout=30)


async def test_every_route_answers_hostile_input_without_a_500(app: Any, fuzz_clients: dict[str, Any]) -> None:
    district = fuzz_clients["district"]
    failures: list[str] = []
    checked = 0
    for template, method, handler in _routes(app):
        area = handler.opt.get("area", "tenant")
        client = fuzz_clients[area]
        prefix = district.url("") if area == "tenant" else ""
        query_names = sorted({*_declared_query(handler), *QUERY_NAMES})
        if area == "public" and template.startswith("/open311"):
            query_names.append("jurisdiction_id")
        cases: list[tuple[str, str, str, bool]] = []  # (value for path, for query/body, int, refused)
        for bad in REFUSED_INTS:
            cases.append(("x", "", bad, True))
        for bad in REFUSED_TEXT:
            cases.append((bad, bad, "1", True))
        for edge in EDGE_INTS:
            cases.append(("x", edge, edge, False))
        for edge in EDGE_TEXT:
            cases.append((edge or "x", edge, "1", False))
        for path_value, value, int_value, refused in cases:
            path, has_int = _path(template, path_value, int_value)
            if refused and value == "" and not has_int:
                continue  # a refused int case needs an int parameter to carry it
            if STREAMS.search(template) and not refused:
                continue  # an accepted request to a live stream never ends
            params = {n: value for n in query_names}
            if area == "public" and template.startswith("/open311") and not refused:
                params["jurisdiction_id"] = district.slug
            url = prefix + path + ("?" + urlencode(params) if value or refused else "")
            try:  # a request that never ends (a live stream that took hostile input) fails too
                response = await asyncio.wait_for(_send(client, method, url, handler, value), 60)
            except TimeoutError:
                failures.append(f"{method} {url[:160]!r} → no answer in 60 s")
                continue
            checked += 1
            if response.status_code >= 500:
                failures.append(f"{method} {url[:160]!r} → {response.status_code}")
            elif refused and response.status_code not in (400, 404, 405):
                failures.append(f"{method} {url[:160]!r} → {response.status_code}, expected 400")
    assert checked > 1000
    assert failures == [], "\n".join(failures[:60])


async def test_a_nul_in_a_query_gets_a_clear_400_page(as_admin: Any) -> None:
    r = await as_admin.get("/t/shuangluan/residents/?q=%00")
    assert r.status_code == 400
    assert "text/html" in r.headers["content-type"]
    assert "控制字符" in r.text or "control character" in r.text


async def test_an_integer_beyond_64_bits_in_a_path_gets_400(as_admin: Any) -> None:
    r = await as_admin.get(f"/t/shuangluan/residents/{2**64}")
    assert r.status_code == 400
    r = await as_admin.get(f"/t/shuangluan/residents/?page={2**64}")
    assert r.status_code == 400


async def test_the_api_answers_hostile_json_in_its_own_error_format(fuzz_clients: dict[str, Any]) -> None:
    district = fuzz_clients["district"]
    raw = "lz_" + secrets.token_urlsafe(24)
    async with district.tx() as s:
        user_id = district.users["resident"].id
        s.add(ApiToken(user_id=user_id, name="mp", prefix=raw[:8], token_hash=hash_token(raw)))
    async with make_client(district.app) as c:
        r = await c.post(
            district.url("/api/v1/smart-service/reports"),
            json={"category": "SR", "description": "楼道灯坏了\x00"},
            headers={"Authorization": f"Bearer {raw}"},
        )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["status_code"] == 400 and "description" in r.json()["detail"]


async def test_open311_answers_hostile_input_in_its_own_error_format(client: Any) -> None:
    r = await client.get("/open311/v2/requests.json?jurisdiction_id=shuangluan&start_date=2024-13-45")
    assert r.status_code == 400
    body = r.json()
    assert body[0]["code"] == 400 and "start_date" in body[0]["description"]
    r = await client.get("/open311/v2/requests.xml?jurisdiction_id=shuangluan%00")
    assert r.status_code == 400
    assert r.text.startswith("<?xml") and "<errors>" in r.text


async def test_open311_paging_cannot_overflow_the_database(client: Any) -> None:
    r = await client.get(f"/open311/v2/requests.json?jurisdiction_id=shuangluan&page={2**62}")
    assert r.status_code == 400 and r.json()[0]["code"] == 400
