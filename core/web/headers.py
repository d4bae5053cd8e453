"""Security headers on every response, set once at the outermost layer (router 404s included).

HTML gets a Content-Security-Policy without 'unsafe-inline': scripts and styles come from the
app's own origin, and the few inline ``<style>``/``<script>`` blocks a full page needs carry the
request's nonce (``csp_nonce`` in templates). No page may be framed (clickjacking).
"""

from __future__ import annotations

import secrets

from litestar.types import Message, Scope, Send

NONCE_KEY = "liuzhi.csp_nonce"
IMG_SOURCES_KEY = "liuzhi.csp_img_sources"
HSTS = b"max-age=31536000; includeSubDomains"


def nonce(scope: Scope) -> str:
    value = scope.get(NONCE_KEY)  # type: ignore[misc]
    if value is None:
        value = secrets.token_urlsafe(16)
        scope[NONCE_KEY] = value  # type: ignore[literal-required]
    return value


def allow_images_from(scope: Scope, source: str) -> None:
    """Let this response's page load images from ``source`` too (a CSP host-source such as
    ``https://*.tianditu.gov.cn``: a district's map tiles). Called by a handler before it answers."""
    sources = scope.setdefault(IMG_SOURCES_KEY, [])  # type: ignore[misc]
    if source not in sources:
        sources.append(source)


def csp(nonce_value: str, img_sources: list[str] | None = None) -> str:
    extra = "".join(f" {s}" for s in img_sources or ())
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce_value}'",
            f"style-src 'self' 'nonce-{nonce_value}'",
            f"img-src 'self' data: blob:{extra}",
            "connect-src 'self'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def is_https(scope: Scope) -> bool:
    """The scheme as the client used it; behind a proxy only a trusted one may say (client_address)."""
    return scope.get("scheme") == "https"


def with_security_headers(scope: Scope, send: Send) -> Send:
    nonce_value = nonce(scope)
    # One list, shared by the tenant-prefixed copy of the scope the handler sees.
    img_sources: list[str] = scope.setdefault(IMG_SOURCES_KEY, [])  # type: ignore[misc]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            # Built when the answer starts, so a handler may have widened img-src meanwhile.
            policy = csp(nonce_value, img_sources).encode()
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            extra = [
                (b"content-security-policy", policy),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"same-origin"),
                (b"x-frame-options", b"DENY"),
            ]
            if is_https(scope):
                extra.append((b"strict-transport-security", HSTS))
            headers += [(k, v) for k, v in extra if k not in present]
            message = {**message, "headers": headers}  # type: ignore[assignment]
        await send(message)

    return wrapped
