"""/healthz (liveness, naming each dependency's state) and /readyz (for load balancers).

/healthz answers 200 while the process runs, even with the database down, so a container is not
restarted for an outage it will ride out; its body says which dependency is down. /readyz answers
503 until the database (and Redis, when configured) answers, so a balancer sends traffic elsewhere.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.db.availability import RETRY_AFTER, check_database, check_redis

OPT = {"area": "public", "skip_session": True}


async def _checks(request: Request) -> dict[str, str]:
    state = request.app.state
    return {"database": await check_database(state.db), "redis": await check_redis(state.get("redis"))}


@get("/healthz", opt=OPT, include_in_schema=False)
async def healthz(request: Request) -> dict[str, Any]:
    checks = await _checks(request)
    down = sorted(name for name, state in checks.items() if state == "down")
    return {"status": "degraded" if down else "ok", "down": down, "checks": checks}


@get("/readyz", opt=OPT, include_in_schema=False)
async def readyz(request: Request) -> Response[dict[str, Any]]:
    checks = await _checks(request)
    ready = all(state != "down" for state in checks.values())
    headers = {} if ready else {"Retry-After": str(RETRY_AFTER)}
    return Response({"ready": ready, "checks": checks}, status_code=200 if ready else 503, headers=headers)


handlers = [healthz, readyz]
