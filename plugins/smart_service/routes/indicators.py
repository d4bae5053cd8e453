"""The indicators dashboard (/smart-service/indicators) and its Excel export: 立案率 … 满意率 of the
events in the user's scope, by area, unit, worker, category or period (indicators.py computes)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery

from core.db.base import utcnow
from core.i18n import gettext as _
from core.web.charts import chart_json
from core.web.context import ctx
from core.web.deps import Ctx
from core.web.excel import excel_response
from core.web.guards import requires
from core.web.render import render
from plugins.smart_service import indicators as ind
from plugins.smart_service import sla

VIEW = "smart_service.view"
DEFAULT_DAYS = 30


async def _report(
    request: Request, start: str | None, end: str | None, by: str | None, grain: str | None
) -> tuple[ind.Report, dict[str, str], dict[str, str]]:
    """The report for the query (bad values fall back to defaults, with a message per field)."""
    c = ctx(request)
    assert c.db is not None
    calendar = await sla.load_calendar(c.db)
    today = sla_today(calendar)
    errors: dict[str, str] = {}

    def parse(raw: str | None, default: date, name: str) -> date:
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Not a date: use YYYY-MM-DD")
            return default

    end_day = parse(end, today, "end")
    start_day = parse(start, end_day - timedelta(days=DEFAULT_DAYS - 1), "start")
    if start_day > end_day:
        errors["start"] = _("The start is after the end")
        start_day = end_day - timedelta(days=DEFAULT_DAYS - 1)
    elif (end_day - start_day).days >= ind.MAX_RANGE_DAYS:
        errors["start"] = _("Choose at most %(n)s days", n=ind.MAX_RANGE_DAYS)
        start_day = end_day - timedelta(days=ind.MAX_RANGE_DAYS - 1)
    by = by if by in ind.DIMENSIONS else "area"
    grain = grain if grain in ind.GRAINS else "day"
    report = await ind.compute(
        c.db,
        prefixes=c.scope_prefixes(VIEW),
        start=start_day,
        end=end_day,
        by=by,
        grain=grain,
        locale=c.locale,
        calendar=calendar,
    )
    query = {"start": start_day.isoformat(), "end": end_day.isoformat(), "by": by, "grain": grain}
    return report, query, errors


def _weights(c: Any) -> dict[str, Any]:
    """综合指标 weights: the tenant's settings over the defaults."""
    stored = c.plugin_settings.get("smart_service", {}) or {}
    return {**ind.DEFAULT_WEIGHTS, **{k: v for k, v in stored.items() if k in ind.DEFAULT_WEIGHTS}}


def sla_today(calendar: sla.Calendar) -> date:
    return utcnow().astimezone(calendar.tz).date()


def _group_label(by: str) -> str:
    return {
        "area": _("Area"),
        "unit": _("Handling unit"),
        "worker": _("Worker"),
        "category": _("Category"),
        "period": _("Period"),
    }[by]


@get("/smart-service/indicators", guards=[requires(VIEW)])
async def indicators_page(
    request: Request,
    rc: Ctx,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    by: FromQuery[str | None] = None,
    grain: FromQuery[str | None] = None,
) -> Any:
    report, query, errors = await _report(request, start, end, by, grain)
    weights = _weights(rc)
    headers, rows = ind.table(report, _, group_label=_group_label(report.by), weights=weights)
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return await render(
        request,
        "smart_service/indicators.html",
        {
            "report": report,
            "query": query,
            "errors": errors,
            "headers": headers,
            "rows": rows,
            "chart_json": chart_json(ind.chart_data(report, _)),
            "rates": [(key, _(label), report.total.rate(key)) for key, label, *_rest in ind.RATES],
            "dimensions": {k: _(v) for k, v in ind.DIMENSION_LABELS.items()},
            "grains": {k: _(v) for k, v in ind.GRAIN_LABELS.items()},
            "export_url": rc.url(f"/smart-service/indicators.xlsx?{qs}"),
            "n_counts": len(ind.COUNTS),
            "composite": report.total.composite(weights),
            "weights": weights,
            "lateness": report.lateness,
            "stage_labels": {k: _(v) for k, v in ind.LATENESS_STAGES.items()},
        },
        status_code=400 if errors else 200,
    )


@get("/smart-service/indicators.xlsx", guards=[requires(VIEW)])
async def indicators_export(
    request: Request,
    rc: Ctx,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    by: FromQuery[str | None] = None,
    grain: FromQuery[str | None] = None,
) -> Any:
    report, query, _errors = await _report(request, start, end, by, grain)
    weights = _weights(rc)
    headers, rows = ind.table(report, _, group_label=_group_label(report.by), weights=weights)
    name = "{}-{}-{}".format(_("Indicators"), query["start"], query["end"])
    return excel_response(name, _("Indicators"), headers, rows)


handlers = [indicators_page, indicators_export]
