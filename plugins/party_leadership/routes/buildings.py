"""网络楼长 coverage: the communities' buildings with or without a captain."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery

from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.render import render
from plugins.party_leadership import captains
from plugins.party_leadership.plugin import MEMBERS_VIEW, VIEW


@get("/party/buildings", guards=[requires(VIEW)])
async def buildings_page(
    request: Request, db: DbSession, rc: Ctx, without: FromQuery[int | None] = None, page: FromQuery[int] = 1
) -> Any:
    per_page = 50
    page = max(1, min(page, 10_000))
    prefixes = rc.scope_prefixes(VIEW)
    rows, total = await captains.buildings(
        db, prefixes, without_captain=bool(without), limit=per_page, offset=(page - 1) * per_page
    )
    with_captain, without_captain = await captains.counts(db, prefixes)
    from core.web.pagination import Page

    return await render(
        request,
        "party_leadership/buildings.html",
        {
            "rows": rows,
            "page": Page(rows, page, per_page, total),
            "with_captain": with_captain,
            "without_captain": without_captain,
            "without": bool(without),
            "show_names": rc.can(MEMBERS_VIEW),
            "base": rc.url("/party/buildings?" + ("without=1&" if without else "")),
        },
    )


handlers = [buildings_page]
