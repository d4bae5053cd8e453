"""The indicators of the closed loop (考核指标), computed in SQL with one GROUP BY query per view.

The population is the events *reported* in a date range (local days of the district's calendar,
both ends included) within the user's scope, excluding duplicates merged into another event
(``merged``: they are counted on the event they were merged into). Over that population:

- 立案率 registration rate = registered ÷ received. *Received*: every event in the population.
  *Registered*: events that reached 立案 — now in ``registered`` or any later state of the main line
  (dispatched … closed), or ``parked`` (only registered events can be parked).
- 派遣率 dispatch rate = dispatched ÷ registered. *Dispatched*: now in ``dispatched`` or later, or
  parked after dispatch (``parked_from`` is not ``registered``).
- 结案率 closure rate = closed ÷ registered. *Closed*: state ``closed``.
- 按期结案率 on-time closure rate = closed on time ÷ closed. *On time*: no stage deadline was passed
  (``sla_breached`` false).
- 返工率 rework rate = closed with rework ÷ closed. *With rework*: sent back at inspection (返工)
  at least once (``rework_count`` > 0).
- 延期率 extension rate = registered with an extension ÷ registered. *With an extension*: at least
  one approved 延期 (``extension_count`` > 0).
- 满意率 satisfaction rate = satisfied ÷ rated. *Rated*: the resident gave a rating (1–5);
  *satisfied*: rating 4 or 5.

A rate whose denominator is 0 is ``None`` (shown as "—"), never 0 %.

Views: the total, and by area (the child nodes of the user's scope root: one scope → its children;
several scopes → the scope nodes themselves), handling unit, worker (assignee), category class
(大类) and period (day, ISO week from Monday, or month of the report's local date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.scope import in_scope
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import State, lazy
from plugins.smart_service.models import Category, Event, HandlingUnit

DIMENSIONS = ("area", "unit", "worker", "category", "period")
DIMENSION_LABELS = {
    "area": lazy("By area"),
    "unit": lazy("By handling unit"),
    "worker": lazy("By worker"),
    "category": lazy("By category"),
    "period": lazy("By period"),
}
GRAINS = ("day", "week", "month")
GRAIN_LABELS = {"day": lazy("Day"), "week": lazy("Week"), "month": lazy("Month")}
MAX_RANGE_DAYS = 366

# (key, label, numerator, denominator): the seven indicators over the counts below.
RATES: tuple[tuple[str, str, str, str], ...] = (
    ("registration_rate", lazy("Registration rate"), "registered", "received"),
    ("dispatch_rate", lazy("Dispatch rate"), "dispatched", "registered"),
    ("closure_rate", lazy("Closure rate"), "closed", "registered"),
    ("on_time_rate", lazy("On-time closure rate"), "on_time", "closed"),
    ("rework_rate", lazy("Rework rate"), "reworked", "closed"),
    ("extension_rate", lazy("Extension rate"), "extended", "registered"),
    ("satisfaction_rate", lazy("Satisfaction rate"), "satisfied", "rated"),
)
COUNTS: tuple[tuple[str, str], ...] = (
    ("received", lazy("Received")),
    ("registered", lazy("Registered")),
    ("dispatched", lazy("Dispatched")),
    ("closed", lazy("Closed")),
    ("on_time", lazy("Closed on time")),
    ("reworked", lazy("Closed with rework")),
    ("extended", lazy("Extended")),
    ("rated", lazy("Rated")),
    ("satisfied", lazy("Satisfied")),
)

_AFTER_DISPATCH = tuple(
    s.value
    for s in (
        State.DISPATCHED,
        State.SIGNED,
        State.HANDLING,
        State.FEEDBACK,
        State.INSPECTING,
        State.INSPECTED,
        State.CLOSED,
    )
)
_REGISTERED = (State.REGISTERED.value, *_AFTER_DISPATCH, State.PARKED.value)


@dataclass
class Figures:
    """The counts of one group (or the total) and the rates over them."""

    key: Any
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    def rate(self, key: str) -> float | None:
        """The rate in percent (one decimal), or None when its denominator is 0."""
        for name, _label, num, den in RATES:
            if name == key:
                d = self.counts.get(den, 0)
                return round(100.0 * self.counts.get(num, 0) / d, 1) if d else None
        raise KeyError(key)

    @property
    def rates(self) -> dict[str, float | None]:
        return {name: self.rate(name) for name, *_ in RATES}


@dataclass
class Report:
    by: str
    grain: str
    start: date
    end: date
    total: Figures
    rows: list[Figures]


def _flag(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def count_columns() -> list[Any]:
    """The aggregate columns, labelled with ``COUNTS``' keys."""
    registered = Event.state.in_(_REGISTERED)
    dispatched = or_(
        Event.state.in_(_AFTER_DISPATCH),
        and_(Event.state == State.PARKED.value, Event.parked_from != State.REGISTERED.value),
    )
    closed = Event.state == State.CLOSED.value
    return [
        func.count(Event.id).label("received"),
        _flag(registered).label("registered"),
        _flag(dispatched).label("dispatched"),
        _flag(closed).label("closed"),
        _flag(and_(closed, Event.sla_breached.is_(False))).label("on_time"),
        _flag(and_(closed, Event.rework_count > 0)).label("reworked"),
        _flag(and_(registered, Event.extension_count > 0)).label("extended"),
        _flag(Event.rating.is_not(None)).label("rated"),
        _flag(Event.rating >= 4).label("satisfied"),
    ]


def _counts(row: Any) -> dict[str, int]:
    return {key: int(getattr(row, key) or 0) for key, _label in COUNTS}


def bounds(start: date, end: date, calendar: sla.Calendar) -> tuple[datetime, datetime]:
    """UTC-aware [from, to) of local days ``start`` … ``end`` (both included)."""
    return (
        datetime.combine(start, time.min, calendar.tz),
        datetime.combine(end + timedelta(days=1), time.min, calendar.tz),
    )


def period_expression(dialect: str, grain: str, calendar: sla.Calendar) -> Any:
    """The local day / week (its Monday) / month of ``Event.created_at`` as text, in SQL."""
    if dialect == "postgresql":
        local = func.timezone(calendar.tz.key, Event.created_at)
        if grain == "month":
            return func.to_char(local, "YYYY-MM")
        if grain == "week":
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return func.to_char(local, "YYYY-MM-DD")
    # SQLite stores UTC text; Chinese time has no daylight saving, so one fixed offset is exact.
    offset = datetime.now(calendar.tz).utcoffset() or timedelta(0)
    shift = f"{int(offset.total_seconds() // 60):+d} minutes"
    if grain == "month":
        return func.strftime("%Y-%m", Event.created_at, shift)
    if grain == "week":
        return func.date(Event.created_at, shift, "-6 days", "weekday 1")
    return func.date(Event.created_at, shift)


async def area_nodes(session: AsyncSession, prefixes: Sequence[str]) -> list[GridNode]:
    """The areas to compare: the children of the single scope root, else the scope nodes."""
    if not prefixes:
        return []
    roots = list((await session.execute(select(GridNode).where(GridNode.path.in_(list(prefixes))))).scalars())
    if len(roots) == 1:
        children = await session.execute(
            select(GridNode).where(GridNode.parent_id == roots[0].id).order_by(GridNode.code, GridNode.id)
        )
        return list(children.scalars())
    return sorted(roots, key=lambda n: n.path)


async def compute(
    session: AsyncSession,
    *,
    prefixes: Sequence[str],
    start: date,
    end: date,
    by: str = "area",
    grain: str = "day",
    locale: str = "zh_Hans",
    calendar: sla.Calendar | None = None,
) -> Report:
    """The indicators of the events reported from ``start`` to ``end`` in ``prefixes``, grouped ``by``."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    calendar = calendar or await sla.load_calendar(session)
    low, high = bounds(start, end, calendar)
    where = [
        in_scope(Event.node_path, list(prefixes)),
        Event.state != State.MERGED.value,
        Event.created_at >= low,
        Event.created_at < high,
    ]
    total_row = (await session.execute(select(*count_columns()).where(*where))).one()
    total = Figures("total", "", _counts(total_row))
    rows: list[Figures] = []
    if by == "area":
        nodes = await area_nodes(session, prefixes)
        if nodes:
            area = aliased(GridNode)
            stmt = (
                select(area.id.label("key"), *count_columns())
                .select_from(Event)
                .join(area, and_(area.tenant_id == Event.tenant_id, Event.node_path.startswith(area.path)))
                .where(*where, area.id.in_([n.id for n in nodes]))
                .group_by(area.id)
            )
            found = {r.key: _counts(r) for r in (await session.execute(stmt)).all()}
            empty = {k: 0 for k, _label in COUNTS}
            rows = [
                Figures(n.id, n.name_en if locale.startswith("en") and n.name_en else n.name, found.get(n.id, empty))
                for n in nodes
            ]
    elif by == "unit":
        stmt = (
            select(Event.handling_unit_id.label("key"), HandlingUnit.name, HandlingUnit.name_en, *count_columns())
            .select_from(Event)
            .outerjoin(
                HandlingUnit,
                and_(HandlingUnit.tenant_id == Event.tenant_id, HandlingUnit.id == Event.handling_unit_id),
            )
            .where(*where)
            .group_by(Event.handling_unit_id, HandlingUnit.name, HandlingUnit.name_en)
            .order_by(HandlingUnit.name)
        )
        for r in (await session.execute(stmt)).all():
            label = (r.name_en if locale.startswith("en") and r.name_en else r.name) if r.key else None
            rows.append(Figures(r.key, label or "", _counts(r)))
    elif by == "worker":
        stmt = (
            select(Event.assignee_user_id.label("key"), User.display_name, *count_columns())
            .select_from(Event)
            .outerjoin(User, and_(User.tenant_id == Event.tenant_id, User.id == Event.assignee_user_id))
            .where(*where)
            .group_by(Event.assignee_user_id, User.display_name)
            .order_by(User.display_name)
        )
        rows = [Figures(r.key, r.display_name or "", _counts(r)) for r in (await session.execute(stmt)).all()]
    elif by == "category":
        cls = func.coalesce(Category.parent_code, Category.code)
        stmt = (
            select(cls.label("key"), *count_columns())
            .select_from(Event)
            .join(Category, and_(Category.tenant_id == Event.tenant_id, Category.code == Event.category_code))
            .where(*where)
            .group_by(cls)
            .order_by(cls)
        )
        found = (await session.execute(stmt)).all()
        names = {
            c.code: c.label(locale)
            for c in (
                await session.execute(select(Category).where(Category.code.in_([r.key for r in found])))
            ).scalars()
        }
        rows = [Figures(r.key, names.get(r.key, r.key), _counts(r)) for r in found]
    else:
        bucket = period_expression(session.get_bind().dialect.name, grain, calendar).label("key")
        stmt = select(bucket, *count_columns()).where(*where).group_by(bucket).order_by(bucket)
        rows = [Figures(str(r.key), str(r.key), _counts(r)) for r in (await session.execute(stmt)).all()]
    return Report(by, grain, start, end, total, rows)


def table(report: Report, gettext: Any, *, group_label: str) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the report as shown and exported: group, counts, rates (percent)."""
    headers = [
        group_label,
        *(gettext(label) for _k, label in COUNTS),
        *(gettext(label) + " %" for _k, label, *_ in RATES),
    ]
    out: list[list[Any]] = []
    for fig in [*report.rows, report.total]:
        label = fig.label if fig is not report.total else gettext("Total")
        if fig is not report.total and not label:
            label = gettext("(none)")
        out.append([label, *(fig.counts.get(k, 0) for k, _l in COUNTS), *(fig.rate(k) for k, *_ in RATES)])
    return headers, out


def chart_data(report: Report, gettext: Any) -> dict[str, Any]:
    """What static/charts.js draws: a line per indicator over periods, else bars per group."""
    return {
        "type": "line" if report.by == "period" else "bar",
        "labels": [f.label or gettext("(none)") for f in report.rows],
        "datasets": [{"label": gettext(label), "data": [f.rate(key) for f in report.rows]} for key, label, *_ in RATES],
        "suffix": "%",
    }
