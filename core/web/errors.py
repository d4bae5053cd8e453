"""Error pages and API error bodies: a clear message, in the user's language, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Redirect

from core import i18n
from core.db.availability import RETRY_AFTER, bad_value, database_unavailable
from core.grids.search_policy import SensitiveSearchLimited
from core.i18n import gettext as _
from core.i18n import lazy
from core.ops.logging import SCOPE_KEY as REQUEST_ID_KEY
from core.services.errors import ServiceError
from core.web.context import STATE_KEY, RequestContext
from core.web.guards import NotSignedIn
from core.web.inputs import BadInput

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


def error_response(
    request: Request,
    status: int,
    detail: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if request.scope.get("state", {}).get(STATE_KEY) is None:  # no route ran: the browser's language
        i18n.set_locale(i18n.normalise(i18n.from_accept_language(request.headers.get("accept-language"))))
    title = title or _(TITLES.get(status, TITLES[500]))
    handler = request.scope.get("route_handler")
    responder = handler.opt.get("error_responder") if handler is not None else None
    if responder is not None:  # a protocol with its own error format (Open311)
        response = responder(request, status, detail or title)
        response.headers.update(headers or {})
        return response
    # The request id is in the response header too; on the page a person can read it out to support.
    request_id = request.scope.get(REQUEST_ID_KEY)
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": detail or title}
        if request_id:
            body["request_id"] = request_id
        return Response(body, status_code=status, headers=headers)
    from core.web.render import render_string

    try:
        # Before the request context exists (the session store failed, say), a bare one will do.
        c = request.scope.get("state", {}).get(STATE_KEY) or RequestContext(locale=i18n.current_locale())
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
                "home": _home(request, c),
            },
        )
    except Exception:  # the error page itself must never fail
        log.exception("error page failed")
        html = f"<h1>{status}</h1><p>{title}</p>"
    return Response(html, status_code=status, media_type="text/html", headers=headers)


def _home(request: Request, c: RequestContext) -> str:
    """Where "back to the start page" leads: the tenant's home (also on an unknown path under
    /t/<slug>/, where no route ran), the operators' console, or the deployment's root."""
    from core.web.context import PREFIX_KEY

    if c.tenant is not None:
        return c.url("/")
    prefix = request.scope.get(PREFIX_KEY)  # type: ignore[call-overload]
    if prefix:
        return f"{prefix}/"
    return "/platform/" if c.operator is not None else "/"


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
    if isinstance(exc, ValidationException | BadInput):
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


def _search_limited(request: Request, exc: SensitiveSearchLimited) -> Response[Any]:
    minutes = max(1, exc.retry_after // 60)
    detail = _("You have run many exact searches by ID number or phone. Try again in %(n)s minutes.", n=minutes)
    return error_response(request, 429, detail, headers={"Retry-After": str(exc.retry_after)})


def _unhandled(request: Request, exc: Exception) -> Response[Any]:
    if database_unavailable(exc):
        log.warning("database unavailable on %s: %s", request.scope.get("path"), exc)
        detail = _("The database cannot be reached just now. Please try again in a moment.")
        title = _("Temporarily unavailable")
        return error_response(request, 503, detail, title, headers={"Retry-After": str(RETRY_AFTER)})
    if bad_value(exc):  # the input layer should have caught it; never a 500 for what a client sent
        log.warning("value refused by the database on %s: %s", request.scope.get("path"), exc)
        return error_response(request, 400, _("A value in the request cannot be stored."))
    log.exception("unhandled error on %s", request.scope.get("path"), exc_info=exc)
    return error_response(request, 500)


def _service_error(request: Request, exc: ServiceError) -> Response[Any]:
    """A shared service refused what was asked (full, closed, bad value): its message, its status;
    the request's transaction is rolled back when its session closes."""
    return error_response(request, exc.status, exc.translate(_))


def exception_handlers() -> dict[Any, Any]:
    return {
        NotSignedIn: _not_signed_in,
        ServiceError: _service_error,
        HTTPException: _http,
        SensitiveSearchLimited: _search_limited,
        Exception: _unhandled,
    }
