"""The yearly 评议: the page, running it with the ratings, the export; and an employer's view of its
own members' results (the unit's contact sees that and nothing else)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.grids.models import GridNode
from core.i18n import gettext as _
from core.services.errors import ServiceError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires, signed_in
from core.web.render import render
from plugins.party_leadership import members as mb
from plugins.party_leadership import review, rules
from plugins.party_leadership.models import Feedback, Unit
from plugins.party_leadership.plugin import MEMBERS_VIEW, REVIEW
from plugins.party_leadership.routes._common import (
    communities,
    node_names,
    number,
    problem,
    rollback,
    settings,
    text,
    today,
)


async def _review_page(request: Request, year: int, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    prefixes = c.scope_prefixes(REVIEW)
    rows = await review.results(c.db, year, prefixes=prefixes)
    units = await review.results(c.db, year, prefixes=prefixes, subject="unit")
    nodes = await communities(request, REVIEW)
    s = settings(request)
    return await render(
        request,
        "party_leadership/review.html",
        {
            "rows": rows,
            "units": units,
            "year": year,
            "names": node_names(nodes),
            "grades": {k: _(v) for k, v in rules.GRADES.items()},
            "s": s,
            "passed": sum(1 for r in rows if r.passed),
            "errors": errors or {},
        },
        status_code=status,
    )


def _year(value: int | None) -> int:
    return value if value and 2000 <= value <= 2100 else today().year


@get("/party/review", guards=[requires(REVIEW)])
async def review_page(request: Request, year: FromQuery[int | None] = None) -> Any:
    return await _review_page(request, _year(year))


@post("/party/review", guards=[requires(REVIEW)])
async def review_run(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    s = settings(request)
    try:
        year = number(data, "year", required=True, lo=2000, hi=2100) or today().year
        ratings = {}
        for key in data:
            if key.startswith("rating_") and key[7:].isdigit() and text(data, key):
                ratings[int(key[7:])] = number(data, key, lo=0, hi=s.staff_points_max) or 0
        await review.run(db, rc.scope_prefixes(REVIEW), year, rules.Scoring.of(s), ratings)
        await db.commit()
    except ServiceError as exc:
        await rollback(request)
        return await _review_page(request, today().year, problem(exc), status=exc.status)
    return Redirect(rc.url(f"/party/review?year={year}"), status_code=303)


@get("/party/review/export.xlsx", guards=[requires(REVIEW)])
async def review_export(request: Request, db: DbSession, rc: Ctx, year: FromQuery[int | None] = None) -> Any:
    y = _year(year)
    rows = await review.results(db, y, prefixes=rc.scope_prefixes(REVIEW))
    return await _xlsx(request, rows, y, f"{y}年度在职党员评议.xlsx")


async def _employer_view(request: Request, unit_id: int) -> Unit:
    """The unit's own contact, or party staff in scope; anyone else: 404."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    try:
        unit = await mb.get_unit(c.db, unit_id)
    except ServiceError:
        raise NotFoundException() from None
    if unit.contact_user_id != c.user.id and not c.can(MEMBERS_VIEW, unit.node_path):
        raise NotFoundException()
    return unit


@get("/party/units/{unit_id:int}/results", guards=[signed_in])
async def unit_results(
    request: Request, unit_id: FromPath[int], db: DbSession, year: FromQuery[int | None] = None
) -> Any:
    unit = await _employer_view(request, unit_id)
    year = year if year and 2000 <= year <= 2100 else today().year
    rows = await review.results(db, year, unit_id=unit.id)
    feedback = (
        (
            await db.execute(
                select(Feedback)
                .where(Feedback.unit_id == unit.id)
                .order_by(Feedback.year.desc(), Feedback.quarter.desc())
            )
        )
        .scalars()
        .all()
    )
    return await render(
        request,
        "party_leadership/unit_results.html",
        {
            "u": unit,
            "rows": rows,
            "year": year,
            "feedback": feedback,
            "grades": {k: _(v) for k, v in rules.GRADES.items()},
        },
    )


@get("/party/units/{unit_id:int}/results.xlsx", guards=[signed_in])
async def unit_results_export(
    request: Request, unit_id: FromPath[int], db: DbSession, year: FromQuery[int | None] = None
) -> Any:
    unit = await _employer_view(request, unit_id)
    year = year if year and 2000 <= year <= 2100 else today().year
    rows = await review.results(db, year, unit_id=unit.id)
    return await _xlsx(request, rows, year, f"{unit.name}-{year}年度评议.xlsx")


async def _xlsx(request: Request, rows: list[Any], year: int, filename: str) -> Response[bytes]:
    c = ctx(request)
    assert c.db is not None
    s = settings(request)
    unit_ids = {r.unit_id for r in rows if r.unit_id}
    units = (
        dict((await c.db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))).all()) if unit_ids else {}
    )
    paths = {r.node_path for r in rows}
    names = (
        dict((await c.db.execute(select(GridNode.path, GridNode.name).where(GridNode.path.in_(paths)))).all())
        if paths
        else {}
    )
    body = review.export_xlsx(rows, units, names, year, s.annual_hours_target, s.pass_mark)
    from urllib.parse import quote

    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


handlers = [review_page, review_run, review_export, unit_results, unit_results_export]
