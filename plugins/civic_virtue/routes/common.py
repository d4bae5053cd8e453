"""What the pillar's pages share: form parsing, local times, scope, and turning a service's
refusal into the page's message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import ServiceError
from core.web.context import ctx
from plugins.civic_virtue.stages import STAGE_LABELS, Stage

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
LOCAL = ZoneInfo("Asia/Shanghai")  # forms speak the district's clock; the database keeps UTC
AREA_KINDS = ("district", "subdistrict", "town", "community", "village")
PLACE_KINDS = ("community", "village", "grid", "estate", "building", "unit")


class FormError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def message(err: ServiceError) -> str:
    """A service's refusal in the user's language (a stage's name too)."""
    params = {k: (_(v) if k == "stage" else v) for k, v in err.params.items()}
    return _(err.message, **params) if params else _(err.message)


def stage_label(stage: Stage) -> str:
    return _(STAGE_LABELS[stage])


def text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def local_datetime(data: dict[str, Any], key: str, *, required: bool = True) -> datetime | None:
    raw = text(data, key)
    if not raw:
        if required:
            raise FormError(key, _("Give a date and time."))
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise FormError(key, _("Give a date and time such as 2026-05-01 09:00.")) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL)
    return parsed.astimezone(UTC)


def to_local_input(value: datetime | None) -> str:
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


def integer(data: dict[str, Any], key: str, default: int | None = None, *, low: int = 0, high: int = 10**6) -> int:
    raw = text(data, key)
    if not raw:
        if default is None:
            raise FormError(key, _("Give a number."))
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FormError(key, _("Give a whole number.")) from None
    if not low <= value <= high:
        raise FormError(key, _("Give a number from %(low)s to %(high)s.", low=low, high=high))
    return value


def number_id(raw: Any) -> int | None:
    try:
        value = int(str(raw or "").strip())
    except ValueError:
        return None
    return value if 0 < value < 2**63 else None


async def node_in_scope(request: Request, raw_id: Any, action: str, kinds: tuple[str, ...] | None = None) -> GridNode:
    """The node a form names, if the user may act there; a FormError otherwise."""
    c = ctx(request)
    assert c.db is not None
    node_id = number_id(raw_id)
    node = None
    if node_id is not None:
        node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None or not c.can(action, node.path) or (kinds and node.kind not in kinds):
        raise FormError("node_id", _("Choose a place in your area."))
    return node


async def nodes_for(request: Request, action: str, kinds: tuple[str, ...], limit: int = 400) -> list[GridNode]:
    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(GridNode)
        .where(in_scope(GridNode.path, c.scope_prefixes(action)), GridNode.kind.in_(kinds))
        .order_by(GridNode.path)
        .limit(limit)
    )
    return list((await c.db.execute(stmt)).scalars())


def ancestors_of(prefixes: list[str]) -> list[str]:
    """Every path above (and at) the user's scopes: a district's campaign concerns each community."""
    out: set[str] = set()
    for p in prefixes:
        parts = [x for x in p.split("/") if x]
        out |= {"/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)}
    return sorted(out)


def not_found() -> NotFoundException:
    return NotFoundException()


class Values(dict):  # type: ignore[type-arg]
    """A form's values for its template: a field never filled reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


class Errors(dict):  # type: ignore[type-arg]
    """A form's errors by field: a field without one reads as None (without being added)."""

    def __missing__(self, key: str) -> None:
        return None


async def rollback(request: Request) -> None:
    """Undo the request's writes and reload the signed-in user (a rollback expires every object:
    anything read before must be read again before a page shows it)."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)
