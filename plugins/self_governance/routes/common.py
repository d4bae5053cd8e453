"""What the route modules share: the form type, loading a scoped object (404 outside the user's
part of the tree), the nodes a user may pick, and turning a service refusal into a message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.exceptions import NotFoundException
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import translator
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from plugins.self_governance import settings as sg_settings

_ = translator("self_governance").gettext

LOCAL = ZoneInfo("Asia/Shanghai")  # form times are local (China Standard Time)
BASE = "/self-governance"


def rules(request: Request) -> sg_settings.Settings:
    return sg_settings.of(ctx(request).plugin_settings.get(sg_settings.NAME))


def message(err: ServiceError) -> str:
    return err.translate(_)


def text(data: dict[str, Any], key: str, limit: int = 20000) -> str:
    return str(data.get(key, "") or "").strip()[:limit]


def integer(data: dict[str, Any], key: str) -> int | None:
    raw = text(data, key, 20)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def local_time(raw: str) -> datetime | None:
    """A ``datetime-local`` form value (China time) as an aware UTC datetime, or None."""
    try:
        return datetime.fromisoformat(raw.strip()).replace(tzinfo=LOCAL).astimezone(UTC)
    except ValueError:
        return None


def local_date(raw: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


async def nodes_for(request: Request, action: str, kinds: tuple[str, ...]) -> list[GridNode]:
    """Nodes of ``kinds`` inside the user's scope for ``action`` (estates, communities)."""
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(action)
    if not prefixes:
        return []
    stmt = (
        select(GridNode)
        .where(GridNode.kind.in_(kinds), in_scope(GridNode.path, prefixes))
        .order_by(GridNode.path)
        .limit(500)
    )
    return list((await c.db.execute(stmt)).scalars())


async def node(request: Request, node_id: int | None) -> GridNode | None:
    c = ctx(request)
    assert c.db is not None
    if node_id is None:
        return None
    return (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()


async def node_in_scope(request: Request, action: str, node_id: int | None, kinds: tuple[str, ...]) -> GridNode | None:
    found = await node(request, node_id)
    if found is None or found.kind not in kinds or not ctx(request).can(action, found.path):
        return None
    return found


def require_scope(request: Request, action: str, path: str) -> None:
    """Out of the user's scope: 404, as if it did not exist."""
    if not ctx(request).can(action, path):
        raise NotFoundException()


async def rollback(request: Request) -> None:
    """Undo the request's writes and reload the signed-in user (a rollback expires every object)."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)
