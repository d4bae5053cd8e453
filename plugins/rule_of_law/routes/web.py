"""What the pillar's handlers share: reading forms, the user's nodes, errors shown on the page."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.rbac.scope import in_scope
from core.web.context import RequestContext, ctx


def text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def values(form: dict[str, Any], key: str) -> list[str]:
    value = form.get(key)
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v]


def integer(raw: Any) -> int | None:
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**63 else None


def context(request: Request) -> RequestContext:
    c = ctx(request)
    assert c.db is not None
    return c


async def nodes_in_scope(c: RequestContext, action: str, kinds: tuple[str, ...] = ("grid",)) -> list[GridNode]:
    """The grid nodes of ``kinds`` this user may act in (for a select on a phone: short list)."""
    assert c.db is not None
    stmt = (
        select(GridNode)
        .where(GridNode.kind.in_(kinds), in_scope(GridNode.path, c.scope_prefixes(action)))
        .order_by(GridNode.path)
        .limit(500)
    )
    return list((await c.db.execute(stmt)).scalars())


async def node_in_scope(c: RequestContext, action: str, node_id: Any) -> GridNode | None:
    assert c.db is not None
    n = integer(node_id)
    if n is None:
        return None
    node = (await c.db.execute(select(GridNode).where(GridNode.id == n))).scalar_one_or_none()
    if node is None or not c.can(action, node.path):
        return None
    return node


def see_other(c: RequestContext, path: str) -> Redirect:
    return Redirect(c.url(path), status_code=303)


async def rollback(c: RequestContext) -> None:
    """Undo the request's writes and reload the signed-in user (a rollback expires every object)."""
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)
