"""The pillar's landing page: the figures for the user's part of the grid and the way to each task."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery

from core.grids.models import GridNode
from core.web.context import ctx
from core.web.guards import check_in_scope, requires
from core.web.render import render
from plugins.rule_of_law import indicators
from plugins.rule_of_law.plugin import NAME, VIEW


@get("/rule-of-law/", guards=[requires(VIEW)])
async def overview(request: Request, node: FromQuery[int | None] = None) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(VIEW)
    place = None
    if node is not None:
        place = await c.db.get(GridNode, (c.tenant.id, node)) if c.tenant else None  # type: ignore[arg-type]
        check_in_scope(request, VIEW, place.path if place else None)
        assert place is not None
        prefixes = [place.path]
    f = await indicators.figures(c.db, prefixes, c.plugin_settings.get(NAME, {}))
    return await render(request, "rule_of_law/overview.html", {"f": f, "place": place})


handlers = [overview]
