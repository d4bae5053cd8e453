"""A fresh district with 党建领治 on: 区 → 元宝山街道 → 双安社区 (grid g01 with buildings b1, b2) and
御祥园社区 (grid yx-g01 with building yb1); people with roles (password ``PASSWORD``): a district
party admin, the two communities' secretaries, a community worker, a grid worker, residents who
will report in as members, and an employer's contact."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from core.db.base import new_id
from core.db.context import Actor
from core.grids.models import GridNode
from core.identity.models import ApiToken, User
from core.identity.passwords import hash_password
from core.rbac.models import RoleAssignment
from core.tenancy.service import set_plugin
from core.web.context import hash_token
from tests.conftest import csrf_of, make_client

PASSWORD = "party-pass-123"
PEOPLE = {
    "partyadmin": ("区党建办", "party_admin", "root"),
    "secretary": ("双安社区书记", "community_secretary", "sa"),
    "yxsecretary": ("御祥园社区书记", "community_secretary", "yx"),
    "worker": ("社区工作者", "community_worker", "sa"),
    "gridworker": ("网格员", "grid_worker", "g01"),
    "m1": ("张党员", "resident", "g01"),
    "m2": ("李党员", "resident", "g01"),
    "m3": ("王党员", "resident", "yx-g01"),
    "employer": ("供电公司联络员", "resident", "sa"),
    "head": ("楼栋长老赵", "building_head", "b1"),
}
TREE = [
    ("root", None, "district", "测试区"),
    ("ybs", "root", "subdistrict", "元宝山街道"),
    ("sa", "ybs", "community", "双安社区"),
    ("g01", "sa", "grid", "第一网格"),
    ("b1", "g01", "building", "1号楼"),
    ("b2", "g01", "building", "2号楼"),
    ("yx", "ybs", "community", "御祥园社区"),
    ("yx-g01", "yx", "grid", "御祥园第一网格"),
    ("yb1", "yx-g01", "building", "御祥园1号楼"),
]


@dataclass
class District:
    app: Any
    tenant: Any
    nodes: dict[str, GridNode] = field(default_factory=dict)
    users: dict[str, Actor] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return str(self.tenant.slug)

    def url(self, path: str) -> str:
        return f"/t/{self.slug}{path}"

    def tx(self, who: str | None = None) -> Any:
        return self.app.state.db.transaction(self.tenant.id, self.users[who] if who else None)

    def session(self) -> Any:
        return self.app.state.db.session(self.tenant.id)

    def uid(self, username: str) -> int:
        return int(self.users[username].id)  # type: ignore[arg-type]

    async def client(self, username: str) -> httpx.AsyncClient:
        c = make_client(self.app)
        self.clients.append(c)
        await c.get(self.url("/login"))
        r = await c.post(
            self.url("/login"),
            data={"username": username, "password": PASSWORD, "_csrf_token": csrf_of(c), "next": ""},
        )
        assert r.status_code == 303, r.text[:300]
        return c

    async def api(self, username: str) -> httpx.AsyncClient:
        raw = "lz_" + secrets.token_urlsafe(24)
        async with self.tx() as s:
            s.add(ApiToken(user_id=self.uid(username), name="mini-program", prefix=raw[:8], token_hash=hash_token(raw)))
        c = make_client(self.app)
        c.headers["Authorization"] = f"Bearer {raw}"
        self.clients.append(c)
        return c


async def post_form(
    client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    return await client.post(url, data={"_csrf_token": csrf_of(client), **(data or {})}, **kw)


@pytest.fixture
async def district(app: Any, fresh_tenant: Any) -> AsyncIterator[District]:
    d = await build(app, fresh_tenant)
    yield d
    for c in d.clients:
        await c.aclose()


async def build(app: Any, tenant: Any, locale: str = "en") -> District:
    await set_plugin(app.state.db, app.state.plugins, tenant, "party_leadership", True)
    app.state.tenant_cache.clear()
    d = District(app, tenant)
    async with d.tx() as s:
        for code, parent, kind, name in TREE:
            up = d.nodes.get(parent) if parent else None
            node = GridNode(id=new_id(), code=code, kind=kind, name=name, parent_id=up.id if up else None)
            node.depth = up.depth + 1 if up else 0
            node.path = (up.path if up else "/") + f"{node.id}/"
            s.add(node)
            d.nodes[code] = node
        await s.flush()
        hashed = hash_password(PASSWORD)
        for username, (display, role, node_code) in PEOPLE.items():
            user = User(id=new_id(), username=username, display_name=display, password_hash=hashed, locale=locale)
            s.add(user)
            await s.flush()
            node = d.nodes[node_code]
            s.add(RoleAssignment(user_id=user.id, role_code=role, node_id=node.id, node_path=node.path))
            d.users[username] = Actor("user", user.id, username)
    return d
