"""Route guards. Every route has one: ``requires(action)``, ``signed_in`` or ``operator_only``.

Guards are async on purpose: Litestar runs sync guards in a worker thread, and pycasbin must
only ever be called on the event loop (it is not thread-safe).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.web.context import ctx


class NotSignedIn(NotAuthorizedException):
    """Raised for an anonymous user on a page that needs one; HTML requests go to the login page."""


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if ctx(connection).user is None:  # type: ignore[arg-type]
        raise NotSignedIn()


Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


def requires(action: str, *alternatives: str) -> Guard:
    """The user must be allowed ``action`` (or one of the alternatives) somewhere in the tenant;
    object checks narrow it further."""
    actions = (action, *alternatives)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        c = ctx(connection)  # type: ignore[arg-type]
        if c.user is None:
            raise NotSignedIn()
        if not any(c.can(a) for a in actions):
            raise PermissionDeniedException(action)

    guard.__name__ = f"requires[{'|'.join(actions)}]"
    guard.action = action  # type: ignore[attr-defined]
    return guard


async def operator_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if ctx(connection).operator is None:  # type: ignore[arg-type]
        raise NotSignedIn()


async def public(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Explicitly open (login page, resident-facing pages, health checks)."""


def check_in_scope(connection: ASGIConnection, action: str, path: str | None) -> None:
    """Object-level check: out of scope answers 404, like an id that does not exist.

    A record with no place in the tree (path None) is in nobody's scope here: callers that show
    such records decide explicitly (``c.can(action, root_path)``), never by default."""
    if path is None or not ctx(connection).can(action, path):  # type: ignore[arg-type]
        raise NotFoundException()
