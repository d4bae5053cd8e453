"""Error pages and API error bodies: a clear message, in the user's language, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Redirect

from core.ops.logging import SCOPE_KEY as REQUEST_ID_KEY
from core.web.context import STATE_KEY
from core.web.guards import NotSignedIn
from core.web.i18n import gettext as _
from core.web.i18n import lazy

log = logging.getLogger("liuzhi.web")

TITLES = {
    400: lazy("The request could not be understood"),
    401: lazy("Please sign in"),
    403: lazy("You do not have permission to do this"),
    404: lazy("Page not found"),
    405: lazy("Method not allowed"),
    409: lazy("Conflict"),
    413: lazy("The upload is too large"),
    429: lazy("Too many attempts"),
    500: lazy("Something went wrong on our side"),
    503: lazy("This district is not available"),
}


def wants_json(request: Request) -> bool:
    path = request.scope.get("path", "")
    accept = request.headers.get("accept", "")
    return path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def _base(request: Request) -> str:
    c = request.scope.get("state", {}).get(STATE_KEY)
    return c.base if c is not None else ""


def error_response(request: Request, status: int, detail: str | None = None, title: str | None = None) -> Response[Any]:
    title = title or _(TITLES.get(status, TITLES[500]))
    # The request id is in the response header too; on the page a person can read it out to support.
    request_id = request.scope.get(REQUEST_ID_KEY)
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": detail or title}
        if request_id:
            body["request_id"] = request_id
        return Response(body, status_code=status)
    if STATE_KEY not in request.scope.get("state", {}):
        ref = f"\nrequest id: {request_id}" if request_id else ""
        return Response(f"{status} {title}{ref}", status_code=status, media_type="text/plain")
    from core.web.render import render_string

    try:
        c = request.state[STATE_KEY]
        html = render_string(
            request,
            "core/error.html",
            {
                "status": status,
                "title": title,
                "detail": detail,
                "request_id": request_id,
                "c": c,
                "tenant": c.tenant,
                "user": c.user,
                "locale": c.locale,
                "menu": [],
                "unread": 0,
            },
        )
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        html = f"<h1>{status}</h1><p>{title}</p>"
    return Response(html, status_code=status, media_type="text/html")


def _not_signed_in(request: Request, exc: Exception) -> Response[Any]:
    if wants_json(request):
        return error_response(request, 401)
    area = (
        request.scope.get("route_handler").opt.get("area", "tenant") if request.scope.get("route_handler") else "tenant"
    )
    login = "/platform/login" if area == "platform" else _base(request) + "/login"
    target = _base(request) + request.scope["path"]
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": f"{login}?next={target}"})
    return Redirect(f"{login}?next={target}")


def _http(request: Request, exc: HTTPException) -> Response[Any]:
    detail = None
    if isinstance(exc, ValidationException):
        detail = str(exc.detail)
    elif exc.status_code == 403 and "CSRF" in str(exc.detail):
        return error_response(
            request, 403, _("Your form has expired. Reload the page and try again."), _("This form has expired")
        )
    elif not isinstance(exc, NotFoundException) and exc.detail and exc.detail != TITLES.get(exc.status_code):
        detail = str(exc.detail) if exc.status_code not in (403,) else None
    if exc.status_code >= 500:
        log.error("HTTP %s: %s", exc.status_code, exc.detail)
    return error_response(request, exc.status_code, detail)


def _unhandled(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.scope.get("path"), exc_info=exc)
    return error_response(request, 500)


def exception_handlers() -> dict[Any, Any]:
    return {NotSignedIn: _not_signed_in, HTTPException: _http, Exception: _unhandled}
