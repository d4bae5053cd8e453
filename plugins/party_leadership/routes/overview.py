"""The pillar's overview page: headline figures and, for the party roles, hours served per unit
against the year's target."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery

from core.i18n import gettext as _
from core.web.charts import chart_json
from core.web.deps import Ctx, DbSession
from core.web.guards import requires
from core.web.render import render
from plugins.party_leadership import figures
from plugins.party_leadership.plugin import MEMBERS_VIEW, REVIEW, VIEW
from plugins.party_leadership.routes._common import (
    settings,
    today,
)


@get("/party/", guards=[requires(VIEW)])
async def overview(request: Request, db: DbSession, rc: Ctx, year: FromQuery[int | None] = None) -> Any:
    s = settings(request)
    year = year if year and 2000 <= year <= 2100 else today().year
    prefixes = rc.scope_prefixes(VIEW)
    head = await figures.headline(db, prefixes, year)
    rows = await figures.overview(db, prefixes, year, s.annual_hours_target) if rc.can(MEMBERS_VIEW) else []
    chart = {
        "type": "bar",
        "labels": [r.name for r in rows],
        "datasets": [{"label": _("Hours served"), "data": [float(r.hours) for r in rows]}],
        "suffix": " h",
    }
    return await render(
        request,
        "party_leadership/overview.html",
        {
            "h": head,
            "rows": rows,
            "year": year,
            "target": s.annual_hours_target,
            "chart_json": chart_json(chart),
            "can_members": rc.can(MEMBERS_VIEW),
            "can_review": rc.can(REVIEW),
        },
    )


handlers = [overview]
