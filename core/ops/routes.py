"""``/metrics`` for Prometheus: not under a tenant, behind a token or an address allow-list."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from core.ops.metrics import CONTENT_TYPE, scrape_allowed, snapshot


@get(
    "/metrics",
    opt={"area": "public", "skip_session": True, "exclude_from_csrf": True},
    include_in_schema=False,
)
async def metrics(request: Request) -> Response[bytes]:
    state = request.app.state
    ops = state.ops
    if ops.metrics is None or not ops.metrics.enabled:
        raise NotFoundException()
    refused = scrape_allowed(
        state.settings.ops, request.client.host if request.client else None, request.headers.get("authorization", "")
    )
    if refused == 401:
        return Response(
            b"metrics: a bearer token is required\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if refused:
        return Response(b"metrics: not from this address\n", status_code=403, media_type="text/plain")
    snap = await snapshot(state.db, state.settings.redis_url)
    return Response(ops.metrics.exposition(snap), media_type=CONTENT_TYPE)


handlers = [metrics]
