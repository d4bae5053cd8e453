"""What the grid's pages share: the node in scope (or 404), the request's vault and searcher,
404/403 by scope, fragments, form statuses and rolling back a failed save."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy import select

from core.crypto import Vault
from core.grids import search_policy, tree
from core.grids.access import REVEAL, allowed
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.web.context import RequestContext, ctx
from core.web.guards import check_in_scope
from core.web.render import is_htmx, render_string

GRID_VIEW = "core.grid.view"
GRID_EDIT = "core.grid.edit"


async def node_in_scope(request: Request, node_id: int, action: str = GRID_VIEW) -> GridNode:
    """The node, or 404 if it does not exist in this tenant or lies outside the user's scope."""
    c = ctx(request)
    assert c.db is not None
    node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise NotFoundException()
    check_in_scope(request, action, node.path)
    return node


def vault(request: Request) -> Vault:
    return request.app.state.vault


def searcher(request: Request) -> search_policy.Searcher:
    c = ctx(request)
    assert c.tenant is not None and c.user is not None
    return search_policy.Searcher(
        c.tenant.id, c.user.id, c.scope_prefixes(REVEAL), request.app.state.login_brake.counter
    )


def db(c: RequestContext) -> Any:
    assert c.db is not None
    return c.db


def visible_or_404(c: RequestContext, action: str, path: str | None) -> None:
    if not allowed(c, action, path):
        raise NotFoundException()


def may_change(c: RequestContext, action: str, path: str | None) -> None:
    """Visible but not the user's to change: 403 (they can see it, so nothing leaks)."""
    if not allowed(c, action, path):
        raise PermissionDeniedException(action)


def fragment(request: Request, template: str, context: dict[str, Any]) -> Response[str]:
    c = ctx(request)
    html = render_string(request, template, {"c": c, "locale": c.locale, **context})
    return Response(html, media_type="text/html", headers={"Cache-Control": "no-store"})


async def rolled_back(c: RequestContext, *objs: Any) -> None:
    """Roll back and reload what the page still shows (a rollback expires every loaded row)."""
    session = db(c)
    await session.rollback()
    for obj in (c.user, *objs):
        await session.refresh(obj)


def form_status(request: Request, failed: bool) -> int:
    """htmx does not swap a 4xx body: it gets 200 with the messages; a plain form post gets 400."""
    return 400 if failed and not is_htmx(request) else 200


def translated(errors: dict[str, str]) -> dict[str, str]:
    return {k: _(msg) for k, msg in errors.items()}


async def undo(request: Request) -> None:
    """Roll the request's session back, then reload the signed-in user the page header shows."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)


def node_url(request: Request, node: GridNode | int, suffix: str = "") -> str:
    node_id = node if isinstance(node, int) else node.id
    return ctx(request).url(f"/grid/{node_id}{suffix}")


async def base_context(request: Request, node: GridNode) -> dict[str, Any]:
    """What every tree editor page shows above its form: the node, its kind, the breadcrumbs."""
    c = ctx(request)
    assert c.db is not None
    kinds = await tree.kinds_by_code(c.db)
    return {
        "node": node,
        "kinds": kinds,
        "kind_of": lambda code: tree.kind_label(kinds, code, c.locale),
        "crumbs": [(a, c.can(GRID_VIEW, a.path)) for a in await tree.ancestors(c.db, node)],
        "crumb_self": True,
    }
