"""JSON API core offers machine clients (a WeChat mini-program's back end): bearer tokens only.

Cookies are ignored under /api/ (so CSRF does not apply); plugins add their own /api/ routes with
``opt={"api": True, "exclude_from_csrf": True}``. OpenAPI is served at /api/schema.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Router, get

from core.web.deps import Ctx
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
async def me(rc: Ctx) -> MeOut:
    assert rc.user is not None and rc.tenant is not None
    return MeOut(
        username=rc.user.username,
        display_name=rc.user.display_name,
        tenant=rc.tenant.slug,
        locale=rc.locale,
        roles=[RoleOut(a.role, a.node_id) for a in rc.subject.assignments],
        plugins=sorted(rc.enabled),
    )


def api_router(*handlers: Any) -> Router:
    return Router("/api/v1", route_handlers=list(handlers), opt={"api": True, "exclude_from_csrf": True})


handlers = [api_router(me)]
