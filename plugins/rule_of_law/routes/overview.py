"""The pillar's landing page: the figures for the user's part of the grid and the way to each task."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery

from core.grids.models import GridNode
from core.web.deps import Ctx, DbSession
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.rule_of_law import indicators
from plugins.rule_of_law.plugin import NAME, VIEW


@get("/rule-of-law/", guards=[requires(VIEW)])
async def overview(request: Request, db: DbSession, rc: Ctx, node: FromQuery[int | None] = None) -> Any:
    prefixes = rc.scope_prefixes(VIEW)
    place = None
    if node is not None:
        place = await db.get(GridNode, (rc.tenant.id, node)) if rc.tenant else None
        check_in_scope(request, VIEW, place.path if place else None)
        assert place is not None
        prefixes = [place.path]
    f = await indicators.figures(db, prefixes, rc.plugin_settings.get(NAME, {}))
    return await render(request, "rule_of_law/overview.html", {"f": f, "place": place})


handlers = [overview]
