"""What every page of the pillar needs: the form type, the user's home node, the tenant's points
rule, turning a service refusal into a message, parsing local date-times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.services.errors import ServiceError
from core.web.context import ctx
from plugins.co_governance import numbers, rules, settings

NAME = "co_governance"
LOCAL = numbers.LOCAL


def tenant_settings(request: Request) -> dict[str, Any]:
    return settings.of(ctx(request).plugin_settings.get(NAME))


def points_rule(request: Request) -> rules.PointsRule:
    return rules.PointsRule.of(tenant_settings(request))


def message(err: ServiceError) -> str:
    return err.translate(_)


def field_errors(err: ServiceError) -> dict[str, str]:
    return {getattr(err, "field", None) or "_": message(err)}


def text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()


def local_datetime(raw: str) -> datetime | None:
    """``2026-12-08T09:00`` from a datetime-local input, in the district's time."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


MAX_ID = 2**63 - 1


def as_id(raw: Any) -> int | None:
    """A row id from a form field, or None (not a number, or beyond what a BIGINT holds)."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


async def node_or_404(request: Request, node_id: Any, action: str) -> GridNode:
    c = ctx(request)
    assert c.db is not None
    nid = as_id(node_id)
    if nid is None:
        raise NotFoundException()
    node = await c.db.scalar(select(GridNode).where(GridNode.id == nid))
    if node is None or not c.can(action, node.path):
        raise NotFoundException()
    return node


async def nodes_in_scope(request: Request, action: str, kinds: tuple[str, ...]) -> list[GridNode]:
    from core.rbac.scope import in_scope

    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(GridNode)
        .where(in_scope(GridNode.path, c.scope_prefixes(action)), GridNode.kind.in_(kinds))
        .order_by(GridNode.path)
        .limit(500)
    )
    return list((await c.db.execute(stmt)).scalars())


async def home_node(request: Request, action: str) -> GridNode | None:
    """The community (or the nearest node above the user's place) a self-registering volunteer
    belongs to: from the user's role assignment for ``action``."""
    c = ctx(request)
    assert c.db is not None
    prefixes = sorted(c.scope_prefixes(action), key=len, reverse=True)
    if not prefixes:
        return None
    path = prefixes[0]
    ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i > 0]
    rows = (await c.db.execute(select(GridNode).where(GridNode.path.in_(ancestors)))).scalars().all()
    by_path = {n.path: n for n in rows}
    chain = [by_path[p] for p in ancestors if p in by_path]
    for node in reversed(chain):
        if node.kind in ("community", "village"):
            return node
    return chain[-1] if chain else None


def chart(labels: list[str], datasets: list[tuple[str, list[Any]]], suffix: str = "") -> Any:
    """A bar chart for templates/chart.html (core.web.charts)."""
    from core.web.charts import chart_json

    spec = {
        "type": "bar",
        "labels": labels,
        "datasets": [{"label": k, "data": v} for k, v in datasets],
        "suffix": suffix,
    }
    return chart_json(spec)


def ancestors_of(path: str) -> list[str]:
    return [path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i > 0]


async def rollback(request: Request, *objects: Any) -> None:
    """Undo the request's writes and reload what the page still shows (a rollback expires every
    loaded object, and a template must not load lazily)."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    for obj in (c.user, *objects):
        if obj is not None:
            await c.db.refresh(obj)
