"""The outermost layer of every HTTP request: request id, metrics, access log, usage count.

It wraps the whole app (``LiuzhiApp.__call__``), so it also sees requests no route matched and
answers produced by exception handlers. After the inner app returns it reads what routing and the
context middleware left in the scope: the route template and the resolved tenant and user.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from core.ops.logging import CURRENT, REQUEST_ID_HEADER, SCOPE_KEY, RequestLog, new_request_id
from core.ops.metrics import Metrics
from core.ops.tracing import current_trace

access_log = logging.getLogger("liuzhi.access")
ASGI = Callable[[Any, Any, Any], Awaitable[None]]
UNMATCHED = "unmatched"
_HEADER = REQUEST_ID_HEADER.encode()


class OpsLayer:
    def __init__(self, metrics: Metrics | None, usage: Any = None, *, access: bool = True, otel: bool = False) -> None:
        self.metrics = metrics if metrics is not None and metrics.enabled else None
        self.usage = usage
        self.access = access
        self.otel = otel

    async def __call__(self, scope: Any, receive: Any, send: Any, app: ASGI) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == _HEADER), None)
        request_id = new_request_id(incoming)
        scope[SCOPE_KEY] = request_id
        request_log = RequestLog(request_id, scope)
        token = CURRENT.set(request_log)
        otel = self.otel
        status = 500
        sse_route: str | None = None
        metrics = self.metrics

        async def send_with_id(message: Any) -> None:
            nonlocal status, sse_route
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or ())
                headers.append((_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
                if otel:  # inside the tracing middleware's span: keep its ids for the access line
                    request_log.trace = current_trace()
                if metrics is not None and any(
                    k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in headers
                ):
                    sse_route = scope.get("path_template") or UNMATCHED
                    metrics.sse.labels(sse_route).inc()
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if sse_route is not None and metrics is not None:
                metrics.sse.labels(sse_route).dec()
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED
            c = scope.get("state", {}).get("ctx")
            tenant = c.tenant if c is not None else None
            if metrics is not None:
                metrics.observe(
                    route, scope["method"], status, metrics.tenant_label(tenant.slug if tenant else None), elapsed
                )
            if self.usage is not None and tenant is not None:
                self.usage.count(tenant.id, api=c.token is not None)
            if self.access:
                # The path without its query string: queries may hold search terms (names, ID numbers).
                path = scope.get("liuzhi.prefix", "") + scope.get("path", "")
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "method": scope["method"],
                        "path": path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
            CURRENT.reset(token)
