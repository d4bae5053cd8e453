"""What the shared services' pages and API routes have in common: reading a form or a JSON body,
turning a ``ServiceError`` into a message, issuing a resident's bearer token, the tree scope."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from sqlalchemy import select

from core.grids.models import GridNode
from core.identity.models import ApiToken, User
from core.services.errors import ServiceError
from core.web.context import ctx, hash_token
from core.web.guards import check_in_scope
from core.web.i18n import gettext as _

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
LOCAL = ZoneInfo("Asia/Shanghai")  # forms speak the district's clock; the database keeps UTC
RESIDENT_TOKEN_DAYS = 30


class BadBody(Exception):
    """The JSON body is missing or not an object: a 400 with ``detail``."""


def message(err: ServiceError) -> str:
    return err.translate(_)


def errors_of(err: ServiceError, default_field: str = "form") -> dict[str, str]:
    """A service refusal as a form's errors: beside its field when it names one."""
    return {getattr(err, "field", None) or default_field: message(err)}


def refuse(status: int, detail: str) -> Response[Any]:
    return Response({"status_code": status, "detail": detail}, status_code=status)


def refuse_error(err: ServiceError) -> Response[Any]:
    body: dict[str, Any] = {"status_code": err.status, "detail": message(err)}
    if getattr(err, "field", None):
        body["field"] = err.field  # type: ignore[attr-defined]
    return Response(body, status_code=err.status)


async def json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception:
        raise BadBody(_("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise BadBody(_("Send a JSON object."))
    return body


def text(data: dict[str, Any], name: str, limit: int = 2000) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()[:limit]


def integer(data: dict[str, Any], name: str) -> int | None:
    raw = text(data, name, 20)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def local_datetime(raw: str) -> datetime | None:
    """A ``datetime-local`` input (district time) as an aware UTC datetime; None if empty or malformed."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL)
    if not 1900 <= value.year <= 2200:
        return None
    return value.astimezone(UTC)


def form_datetime(value: datetime | None) -> str:
    """An aware datetime as a ``datetime-local`` input value in district time."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


async def new_api_token(request: Request, user: User, name: str) -> tuple[str, datetime]:
    """A bearer token for a resident's phone client (shown once; only its hash is stored)."""
    c = ctx(request)
    assert c.db is not None
    raw = "lz_" + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=RESIDENT_TOKEN_DAYS)
    c.db.add(
        ApiToken(user_id=user.id, name=name[:100], prefix=raw[:10], token_hash=hash_token(raw), expires_at=expires)
    )
    await c.db.flush()
    return raw, expires


async def node_or_404(request: Request, node_id: int | None, action: str) -> GridNode:
    """The node, or 404 if there is none or it lies outside the user's scope for ``action``."""
    c = ctx(request)
    assert c.db is not None
    node = None
    if node_id is not None:
        node = (await c.db.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise NotFoundException()
    check_in_scope(request, action, node.path)
    return node


async def scope_nodes(request: Request, action: str, limit: int = 500) -> list[GridNode]:
    """The nodes a user may pick for ``action`` (their scopes and what lies under them), tree order."""
    from core.rbac.scope import in_scope

    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(action)
    if not prefixes:
        return []
    stmt = select(GridNode).where(in_scope(GridNode.path, prefixes)).order_by(GridNode.path).limit(limit)
    return list((await c.db.execute(stmt)).scalars())


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def in_locale(locale: str | None, message: str, **variables: Any) -> str:
    """``message`` translated for someone else (a notification in its recipient's language)."""
    from core.web import i18n

    before = i18n.current_locale()
    i18n.set_locale(locale or i18n.DEFAULT_LOCALE)
    try:
        return i18n.gettext(message, **variables)
    finally:
        i18n.set_locale(before)


async def tell(request: Request, user_id: int, message: str, link: str | None = None, **variables: Any) -> None:
    """An in-app notification to ``user_id`` in their language (in the request's transaction)."""
    from core.pluginhost.manifest import Notification
    from core.services.notifications.service import notify

    c = ctx(request)
    assert c.db is not None and c.tenant is not None
    locale = (await c.db.execute(select(User.locale).where(User.id == user_id))).scalar_one_or_none()
    title = in_locale(locale or c.tenant.locale, message, **variables)
    await notify(
        request.app.state, c.db, Notification(tenant_id=c.tenant.id, user_id=user_id, title=title, link=link), c.enabled
    )


async def rollback(request: Request) -> None:
    """Undo the request's writes and reload the signed-in user (a rollback expires every object)."""
    c = ctx(request)
    assert c.db is not None
    await c.db.rollback()
    if c.user is not None:
        await c.db.refresh(c.user)
