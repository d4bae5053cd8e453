"""What the pillar's handlers share: reading a form's values, the tenant's settings, the
communities in a user's scope, and turning a service's refusal into the page's error."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import Annotated, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.rbac.scope import in_scope
from core.services.errors import InvalidInput, ServiceError
from core.web.context import ctx
from plugins.party_leadership.members import COMMUNITY_KINDS
from plugins.party_leadership.settings import NAME, Settings, settings_of

LOCAL = ZoneInfo("Asia/Shanghai")  # what people type into a date-time field
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]  # a form with files


class _HasPlace(Protocol):
    node_path: str


_Placed = TypeVar("_Placed", bound=_HasPlace)  # a row that lies somewhere in the tree


def settings(request: Request) -> Settings:
    return settings_of(ctx(request).plugin_settings.get(NAME))


def today() -> date:
    return datetime.now(LOCAL).date()


def text(form: dict[str, Any], key: str) -> str:
    value = form.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def many(form: dict[str, Any], key: str) -> list[str]:
    value = form.get(key, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]


def number(form: dict[str, Any], key: str, *, required: bool = False, lo: int = 0, hi: int = 2**63 - 1) -> int | None:
    raw = text(form, key)
    if not raw:
        if required:
            raise InvalidInput(_("This field is required."), field=key)
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(_("Enter a whole number."), field=key) from None
    if not lo <= value <= hi:
        raise InvalidInput(_("Enter a number from %(lo)s to %(hi)s.", lo=lo, hi=hi), field=key)
    return value


def hours_to_minutes(form: dict[str, Any], key: str) -> int:
    raw = text(form, key)
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(_("Enter the hours as a number, e.g. 1.5."), field=key) from None
    if not 0 < value <= 24:
        raise InvalidInput(_("Served time is between 1 minute and 24 hours."), field=key)
    return round(value * 60)


def day(form: dict[str, Any], key: str, *, required: bool = True) -> date | None:
    raw = text(form, key)
    if not raw:
        if required:
            raise InvalidInput(_("Enter a date."), field=key)
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Enter a date as YYYY-MM-DD."), field=key) from None


def moment(form: dict[str, Any], key: str, *, required: bool = True) -> datetime | None:
    raw = text(form, key)
    if not raw:
        if required:
            raise InvalidInput(_("Enter a date and time."), field=key)
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Enter a date and time as YYYY-MM-DD HH:MM."), field=key) from None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


def problem(exc: ServiceError) -> dict[str, str]:
    """A service's refusal as {field: message} for the form ("_" when no field is named)."""
    return {getattr(exc, "field", None) or "_": exc.translate(_)}


async def communities(request: Request, action: str) -> list[GridNode]:
    """Communities and villages in the user's scope for ``action`` (a form's choice)."""
    c = ctx(request)
    assert c.db is not None
    stmt = (
        select(GridNode)
        .where(in_scope(GridNode.path, c.scope_prefixes(action)), GridNode.kind.in_(COMMUNITY_KINDS))
        .order_by(GridNode.path)
        .limit(500)
    )
    return list((await c.db.execute(stmt)).scalars())


async def community_in_scope(request: Request, action: str, node_id: int | None) -> GridNode:
    """The community a form names, if the user may act there; otherwise a field error."""
    c = ctx(request)
    assert c.db is not None
    if node_id is None:
        raise InvalidInput(_("Choose a community."), field="node_id")
    node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None or node.kind not in COMMUNITY_KINDS or not c.can(action, node.path):
        raise InvalidInput(_("Choose a community."), field="node_id")
    return node


def in_scope_or_404(request: Request, action: str, path: str | None) -> None:
    if path is None or not ctx(request).can(action, path):
        raise NotFoundException()


async def found_in_scope(request: Request, action: str, find: Awaitable[_Placed]) -> _Placed:
    """What ``find`` (a service's ``get``) fetches, if the user may ``action`` where it lies; not
    found, or outside the user's scope: 404 alike."""
    try:
        row = await find
    except ServiceError:
        raise NotFoundException() from None
    in_scope_or_404(request, action, row.node_path)
    return row


async def rollback(request: Request) -> None:
    """Undo the request's writes and reload the signed-in user and tenant (a rollback expires them)."""
    c = ctx(request)
    if c.db is not None:
        await c.db.rollback()
        # Rows read before the rollback are expired; the page re-reads what it shows, afresh.
        keep = [row for row in (c.user, c.tenant) if row is not None and row in c.db]
        c.db.expunge_all()
        for row in keep:
            c.db.add(row)
            await c.db.refresh(row)


def node_names(nodes: list[GridNode]) -> dict[str, str]:
    return {n.path: n.name for n in nodes}


def public_url(request: Request) -> str:
    """The deployment's public address for verification QR codes."""
    return str(request.base_url).rstrip("/")


def any_value(form: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in form.items() if k != "_csrf_token"}


async def receipt_file(session: Any, document_id: int | None) -> int | None:
    """The stored file of a 报到回执 document, for a download link."""
    if document_id is None:
        return None
    from core.services.documents.models import Document

    return await session.scalar(select(Document.file_id).where(Document.id == document_id))
