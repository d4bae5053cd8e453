"""JSON API core offers machine clients (a WeChat mini-program's back end): bearer tokens only.

Cookies are ignored under /api/ (so CSRF does not apply); plugins add their own /api/ routes with
``opt={"api": True, "exclude_from_csrf": True}``. OpenAPI is served at /api/schema.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, get

from core.web.context import ctx
from core.web.guards import signed_in


class RoleOut(msgspec.Struct):
    role: str
    node_id: int


class MeOut(msgspec.Struct):
    username: str
    display_name: str
    tenant: str
    locale: str
    roles: list[RoleOut]
    plugins: list[str]


@get("/me", guards=[signed_in], summary="The token's user, roles and the district's enabled plugins")
async def me(request: Request) -> MeOut:
    c = ctx(request)
    assert c.user is not None and c.tenant is not None
    return MeOut(
        username=c.user.username,
        display_name=c.user.display_name,
        tenant=c.tenant.slug,
        locale=c.locale,
        roles=[RoleOut(a.role, a.node_id) for a in c.subject.assignments],
        plugins=sorted(c.enabled),
    )


def api_router(*handlers: Any) -> Router:
    return Router("/api/v1", route_handlers=list(handlers), opt={"api": True, "exclude_from_csrf": True})


handlers = [api_router(me)]
