"""CSRF tokens bound to the session: a token minted for one session is refused with another's cookie.

A token is ``nonce + HMAC(secret, nonce | binding)``, where the binding is the session id of a
signed-in user or operator (and empty for an anonymous visitor, whose only forms are sign-in and
language). An unsafe request must carry one (form field ``_csrf_token`` or the ``X-CSRFToken``
header) that equals the CSRF cookie (double submit) and whose HMAC matches the session it arrives
with. So a cookie/token pair planted from a sibling sub-domain, or lifted from another session, is
refused. Signing in (a new session id) re-issues the cookie in the same response.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SIGNED_IN = "liuzhi.csrf_signed_in"


def mark_signed_in(scope: Any) -> None:
    """Called by a sign-in: the response's new session gets a CSRF cookie of its own."""
    scope[SIGNED_IN] = True


NONCE_HEX = 32


@dataclass(frozen=True)
class CSRFSettings:
    secret: str
    cookie_name: str = "liuzhi_csrf"
    header_name: str = "x-csrftoken"
    session_cookie: str = "liuzhi_session"
    cookie_secure: bool = False
    exclude_opt_key: str = "exclude_from_csrf"


def _mac(secret: str, nonce: str, session_id: str) -> str:
    return hmac.new(secret.encode(), f"{nonce}|{session_id}".encode(), hashlib.sha256).hexdigest()


def mint(secret: str, session_id: str) -> str:
    nonce = secrets.token_hex(NONCE_HEX // 2)
    return nonce + _mac(secret, nonce, session_id)


def valid(secret: str, token: str | None, session_id: str) -> bool:
    if not token or len(token) != NONCE_HEX + 64:
        return False
    nonce, mac = token[:NONCE_HEX], token[NONCE_HEX:]
    return hmac.compare_digest(mac, _mac(secret, nonce, session_id))


class SessionCSRFMiddleware:
    """Checks unsafe requests and hands out a token on safe ones; runs after the request context
    (so a refusal gets the styled "form expired" page)."""

    def __init__(self, app: ASGIApp, settings: CSRFSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] != "http" or (handler is not None and handler.opt.get(self.settings.exclude_opt_key)):
            await self.app(scope, receive, send)
            return
        s = self.settings
        request: Request[Any, Any, Any] = Request(scope, receive)
        if request.method in SAFE_METHODS and handler is not None and handler.opt.get("area") == "public":
            # Static files and health checks know no user: minting an anonymous token there would
            # overwrite a signed-in page's cookie (the browser fetches them alongside the page).
            await self.app(scope, receive, send)
            return
        c = scope.get("state", {}).get("ctx")
        signed_in = c is not None and (c.user is not None or c.operator is not None)
        session_id = session_id_of(request, s) if signed_in else ""
        cookie = request.cookies.get(s.cookie_name)
        if request.method in SAFE_METHODS:
            token = cookie if valid(s.secret, cookie, session_id) else mint(s.secret, session_id)
        else:
            token = request.headers.get(s.header_name)
            if not token and request.content_type[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
                value = (await request.form()).get("_csrf_token")
                token = value if isinstance(value, str) else None
            if not (token and cookie and hmac.compare_digest(token, cookie) and valid(s.secret, token, session_id)):
                raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = token
        if token != cookie:
            send = _with_cookie(send, s, token)
        await self.app(scope, receive, send)


class CSRFRotationMiddleware:
    """Outside the session middleware: when a sign-in hands out a new session id, the CSRF cookie
    is re-issued for it in the same response (``mark_signed_in``)."""

    def __init__(self, app: ASGIApp, settings: CSRFSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = self.settings

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get(SIGNED_IN):  # type: ignore[misc]
                headers = MutableScopeHeaders.from_message(message)
                issued = _issued_session(headers.getall("set-cookie", []), s.session_cookie)
                if issued:
                    kept = [v for v in headers.getall("set-cookie", []) if not v.startswith(s.cookie_name + "=")]
                    del headers["set-cookie"]
                    for value in kept:
                        headers.add("set-cookie", value)
                    headers.add("set-cookie", _cookie(s, mint(s.secret, issued)))
            await send(message)

        await self.app(scope, receive, wrapped)


def session_id_of(request: Request[Any, Any, Any], s: CSRFSettings) -> str:
    value = request.cookies.get(s.session_cookie) or ""
    return "" if value == "null" else value


def _cookie(s: CSRFSettings, token: str) -> str:
    return Cookie(key=s.cookie_name, value=token, path="/", secure=s.cookie_secure, samesite="lax").to_header(header="")


def _with_cookie(send: Send, s: CSRFSettings, token: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message).add("set-cookie", _cookie(s, token))
        await send(message)

    return wrapped


def _issued_session(set_cookies: list[str], name: str) -> str | None:
    """The session id a response hands out ("" when it clears the session), or None."""
    found = None
    for header in set_cookies:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except Exception:
            continue
        if name in jar:
            morsel = jar[name]
            cleared = morsel.value in ("", "null") or morsel["max-age"] == "0"
            found = "" if cleared else morsel.value
    return found
