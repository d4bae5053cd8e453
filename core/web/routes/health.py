"""/healthz: the container healthcheck; answers only when the database answers."""

from __future__ import annotations

from litestar import Request, get
from sqlalchemy import text


@get("/healthz", opt={"area": "public", "skip_session": True}, include_in_schema=False)
async def healthz(request: Request) -> dict[str, str]:
    async with request.app.state.db.session(None) as s:
        await s.execute(text("SELECT 1"))
    return {"status": "ok"}


handlers = [healthz]
