"""Per-token rate limit of the JSON API: ASGI middleware after the context middleware, so it
answers with the API's own error body (the counting lives in core.ops.limits)."""

from __future__ import annotations

from typing import Any

from core.i18n import gettext as _
from core.ops.limits import limits_of, too_many
from core.web.errors import error_response


class ApiRateLimit:
    """After the context middleware: a request with an API token counts against the token's limit."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        c = scope.get("state", {}).get("ctx")
        if scope["type"] == "http" and c is not None and c.token is not None and c.tenant is not None:
            from litestar import Request

            request: Request = Request(scope, receive)
            ops = request.app.state.ops
            limit = limits_of(c.tenant, ops.settings).api_per_minute
            retry = await ops.limiter.hit(f"api:{c.tenant.id}:{c.token.id}", limit)
            if retry:
                if ops.metrics is not None:
                    ops.metrics.rate_limited.labels("api", ops.metrics.tenant_label(c.tenant.slug)).inc()
                response = error_response(request, 429, too_many(limit, retry, _("API token")))
                response.headers["Retry-After"] = str(retry)
                if isinstance(response.content, dict):
                    response.content["retry_after"] = retry
                await response.to_asgi_response(None, request)(scope, receive, send)
                return
        await self.app(scope, receive, send)
