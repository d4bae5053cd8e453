"""The indicators of the closed loop (考核指标), computed in SQL with one GROUP BY query per view.

Two populations, both within the user's scope and never counting duplicates merged into another
event (``merged``: they are counted on the event they were merged into):

- *Reported* in the date range (local days of the district's calendar, both ends included):
  立案率 registration rate = registered ÷ received; 派遣率 dispatch rate = dispatched ÷ registered;
  结案率 closure rate = closed ÷ registered; 延期率 extension rate = registered with an approved
  延期 ÷ registered; 满意率 satisfaction rate = ratings of 4–5 ÷ rated;
  返工率 rework rate = rework occurrences (every 返工, ``rework_count`` summed) ÷ cases handled
  (reported at least once as handled, 反馈).
- *Due* in the date range, done or not (the standard's 应结案数 / 应处置数):
  按期结案率 on-time closure rate = closed by the case's deadline ÷ cases whose deadline
  (``close_due_at``: handling and inspection limits from the first 派遣) falls in the range;
  处置率 handling rate = handled ÷ cases whose handling deadline (``handle_due_at``: from the last
  派遣, across 签收 and 处置) falls in the range; 按期处置率 = handled by that deadline ÷ the same.
  A unit that sits on late cases scores worse, not better: they stay in the denominator.

Lateness is charged to the stage and the party that was late (``lateness``): each stage that
ended after its deadline (the timeline line's ``overdue``, ``stage``, ``charged_unit_id``,
``charged_user_id``; services.charged_party) — the handling clock to the unit it was dispatched
to, 受理 / 派遣 / 核查 to whoever did them. 综合指标 is the weighted mean of 按期结案率, 按期处置率,
(100 − 返工率) and 满意率, with the weights a tenant setting; a rate without a denominator is left
out of the mean (and its weight with it).

A rate whose denominator is 0 is ``None`` (shown as "—"), never 0 %.

Views: the total, and by area (the child nodes of the user's scope root: one scope → its children;
several scopes → the scope nodes themselves), handling unit, worker (assignee), category class
(大类) and period (day, ISO week from Monday, or month; each count in the period its population
is dated by: reported counts by the report's day, due counts by the deadline's day).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.identity.models import User
from core.rbac.scope import in_scope
from plugins.smart_service import rollups as rollup_store
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import TABLE, Clock, State, lazy
from plugins.smart_service.models import Category, Event, EventTransition, HandlingUnit
from plugins.smart_service.rollup_models import IndicatorMark, IndicatorRollup

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

# (key, label, numerator, denominator): the indicators over the counts below.
RATES: tuple[tuple[str, str, str, str], ...] = (
    ("registration_rate", lazy("Registration rate"), "registered", "received"),
    ("dispatch_rate", lazy("Dispatch rate"), "dispatched", "registered"),
    ("closure_rate", lazy("Closure rate"), "closed", "registered"),
    ("on_time_rate", lazy("On-time closure rate"), "on_time", "due"),
    ("handling_rate", lazy("Handling rate"), "handled_due", "handle_due"),
    ("on_time_handling_rate", lazy("On-time handling rate"), "handled_on_time", "handle_due"),
    ("rework_rate", lazy("Rework rate"), "reworks", "handled"),
    ("extension_rate", lazy("Extension rate"), "extended", "registered"),
    ("satisfaction_rate", lazy("Satisfaction rate"), "satisfied", "rated"),
)
COUNTS: tuple[tuple[str, str], ...] = (
    ("received", lazy("Received")),
    ("registered", lazy("Registered")),
    ("dispatched", lazy("Dispatched")),
    ("closed", lazy("Closed")),
    ("due", lazy("Due to be closed")),
    ("on_time", lazy("Closed on time")),
    ("handle_due", lazy("Due to be handled")),
    ("handled_due", lazy("Handled")),
    ("handled_on_time", lazy("Handled on time")),
    ("handled", lazy("Cases handled")),
    ("reworks", lazy("Rework occurrences")),
    ("extended", lazy("Extended")),
    ("rated", lazy("Rated")),
    ("satisfied", lazy("Satisfied")),
)
# 综合指标: which rates it weighs (the weights are tenant settings: ``Weights``); rework counts
# inverted (100 − 返工率), so that more rework lowers the composite.
COMPOSITE: tuple[tuple[str, str], ...] = (
    ("on_time_rate", "weight_on_time_closure"),
    ("on_time_handling_rate", "weight_on_time_handling"),
    ("rework_rate", "weight_rework"),
    ("satisfaction_rate", "weight_satisfaction"),
)
DEFAULT_WEIGHTS = {"weight_on_time_closure": 40, "weight_on_time_handling": 30, "weight_rework": 10}
DEFAULT_WEIGHTS["weight_satisfaction"] = 20
# The actions that end a stage's clock (a new stage, a restart, a final state): only their lines
# can record a late stage.
STAGE_ENDING = sorted({rule.action for rule in TABLE.values() if rule.clock in (Clock.START, Clock.STOP)})
LATENESS_STAGES = {
    "accept": lazy("Acceptance"),
    "dispatch": lazy("Registration and dispatch"),
    "handle": lazy("Handling (from dispatch)"),
    "inspect": lazy("Inspection and closure"),
}

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

    def exact(self, key: str) -> float | None:
        """The rate in percent, unrounded, or None when its denominator is 0."""
        for name, _label, num, den in RATES:
            if name == key:
                d = self.counts.get(den, 0)
                return 100.0 * self.counts.get(num, 0) / d if d else None
        raise KeyError(key)

    def rate(self, key: str) -> float | None:
        """The rate in percent (one decimal), or None when its denominator is 0."""
        value = self.exact(key)
        return None if value is None else round(value, 1)

    @property
    def rates(self) -> dict[str, float | None]:
        return {name: self.rate(name) for name, *_ in RATES}

    def composite(self, weights: dict[str, Any] | None = None) -> float | None:
        """综合指标: the weighted mean of the rates in ``COMPOSITE`` that have a denominator."""
        w = {**DEFAULT_WEIGHTS, **(weights or {})}
        total = weight_sum = 0.0
        for key, setting in COMPOSITE:
            value, weight = self.exact(key), float(w.get(setting) or 0)
            if value is None or weight <= 0:
                continue
            total += weight * (100.0 - value if key == "rework_rate" else value)
            weight_sum += weight
        return round(total / weight_sum, 1) if weight_sum else None


@dataclass
class Late:
    """Stages that ended after their deadline, charged to one party (a unit or a person)."""

    stage: str
    unit_id: int | None
    user_id: int | None
    party: str
    count: int


@dataclass
class Report:
    by: str
    grain: str
    start: date
    end: date
    total: Figures
    rows: list[Figures]
    lateness: list[Late] = field(default_factory=list)


def _columns(low: datetime, high: datetime) -> list[Any]:
    """The aggregate columns, labelled with ``COUNTS``' keys, over events reported in [low, high)
    and events due in it (each count says which: see the module's docstring)."""
    return _columns_over([(low, high)])


def _within(column: Any, ranges: Sequence[tuple[datetime, datetime]]) -> Any:
    return or_(*(and_(column >= lo, column < hi) for lo, hi in ranges))


# Each count's population, by the column it is dated by: reported, due to be closed, due to be handled.
POPULATIONS = (("created_at", "reported"), ("close_due_at", "due"), ("handle_due_at", "handle_due"))


def row_counts(t: Any = Event) -> dict[str, tuple[str, Any, Any]]:
    """Each count of ``COUNTS``: (its population, the condition a row of it must meet or None for
    every row, the value it adds: 1 or a column). ``t`` is ``Event`` or a table with its columns
    by the same names (the rollups' marks): one definition for events, marks and rollups."""
    registered = t.state.in_(_REGISTERED)
    dispatched = or_(
        t.state.in_(_AFTER_DISPATCH),
        and_(t.state == State.PARKED.value, t.parked_from != State.REGISTERED.value),
    )
    closed = t.state == State.CLOSED.value
    not_rejected = t.state != State.REJECTED.value
    handled = t.handled_at.is_not(None)
    return {
        "received": ("reported", None, 1),
        "registered": ("reported", registered, 1),
        "dispatched": ("reported", dispatched, 1),
        "closed": ("reported", closed, 1),
        "due": ("due", not_rejected, 1),
        "on_time": ("due", and_(not_rejected, closed, t.closed_at <= t.close_due_at), 1),
        "handle_due": ("handle_due", not_rejected, 1),
        "handled_due": ("handle_due", and_(not_rejected, handled), 1),
        "handled_on_time": ("handle_due", and_(not_rejected, handled, t.handled_at <= t.handle_due_at), 1),
        "handled": ("reported", handled, 1),
        "reworks": ("reported", None, t.rework_count),
        "extended": ("reported", and_(registered, t.extension_count > 0), 1),
        "rated": ("reported", t.rating.is_not(None), 1),
        "satisfied": ("reported", t.rating >= 4, 1),
    }


def _columns_over(ranges: Sequence[tuple[datetime, datetime]], t: Any = Event) -> list[Any]:
    """``_columns`` over several [low, high) ranges (the days of a range not read from rollups)."""
    dated = {pop: _within(getattr(t, column), ranges) for column, pop in POPULATIONS}
    out = []
    for key, (pop, condition, value) in row_counts(t).items():
        where = dated[pop] if condition is None else and_(dated[pop], condition)
        out.append(func.coalesce(func.sum(case((where, value), else_=0)), 0).label(key))
    return out


def in_range(low: datetime, high: datetime) -> Any:
    """Events of either population: reported, due to be closed or due to be handled in [low, high)."""
    return in_ranges([(low, high)])


def in_ranges(ranges: Sequence[tuple[datetime, datetime]], t: Any = Event) -> Any:
    return or_(*(_within(getattr(t, column), ranges) for column, _pop in POPULATIONS))


def _counts(row: Any) -> dict[str, int]:
    return {key: int(getattr(row, key) or 0) for key, _label in COUNTS}


def bounds(start: date, end: date, calendar: sla.Calendar) -> tuple[datetime, datetime]:
    """UTC-aware [from, to) of local days ``start`` … ``end`` (both included)."""
    return (
        datetime.combine(start, time.min, calendar.tz),
        datetime.combine(end + timedelta(days=1), time.min, calendar.tz),
    )


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
    rollups: bool = True,
) -> Report:
    """The indicators of the events reported from ``start`` to ``end`` in ``prefixes``, grouped ``by``.

    Days the rollups hold exactly are summed from them, the rest (today, days with changes since
    the last pass) counted from events (rollups.plan); ``rollups=False`` counts everything from
    events (what the rollups are checked against)."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    calendar = calendar or await sla.load_calendar(session)
    if rollups:
        split = await rollup_store.plan(session, calendar, start, end)
    else:
        split = rollup_store.Plan((), (bounds(start, end, calendar),))
    scope = list(prefixes)
    source = _Sources(session, scope, split, calendar)
    total = Figures("total", "", await source.total())
    rows: list[Figures] = []
    if by == "area":
        rows = await _by_area(session, source, scope, locale)
    elif by == "unit":
        found = await source.grouped("handling_unit_id", "u")
        names = await _names(session, HandlingUnit, {k for k in found if k is not None}, locale)
        rows = _sorted_rows(found, names)
    elif by == "worker":
        found = await source.grouped("assignee_user_id", "w")
        ids = {k for k in found if k is not None}
        people = dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))).all())
        rows = _sorted_rows(found, {k: v or "" for k, v in people.items()})
    elif by == "category":
        classes = await rollup_store.category_classes(session)
        found: dict[Any, dict[str, int]] = {}
        for code, counts in (await source.grouped("category_code", "c")).items():
            _add(found.setdefault(classes.get(code, code), _zero()), counts)
        cats = (await session.execute(select(Category).where(Category.code.in_(list(found))))).scalars()
        names = {c.code: c.label(locale) for c in cats}
        rows = [Figures(k, names.get(k, k), found[k]) for k in sorted(found) if any(found[k].values())]
    else:
        merged = await source.periods(grain)
        rows = [Figures(k, k, merged[k]) for k in sorted(merged) if any(merged[k].values())]
    low, high = bounds(start, end, calendar)
    lateness = await late_stages(session, prefixes, low, high, locale)
    return Report(by, grain, start, end, total, rows, lateness)


def _zero() -> dict[str, int]:
    return {k: 0 for k, _label in COUNTS}


def _add(into: dict[str, int], counts: dict[str, int], sign: int = 1) -> None:
    for k, v in counts.items():
        into[k] = into.get(k, 0) + sign * v


def _sorted_rows(found: dict[Any, dict[str, int]], names: dict[Any, str]) -> list[Figures]:
    """Groups by name (the group of none — no unit, nobody — last)."""
    keys = sorted(found, key=lambda k: (k is None, names.get(k, ""), str(k)))
    return [Figures(k, names.get(k, "") if k is not None else "", found[k]) for k in keys]


async def _names(session: AsyncSession, model: Any, ids: set[Any], locale: str) -> dict[Any, str]:
    if not ids:
        return {}
    return {u.id: u.label(locale) for u in (await session.execute(select(model).where(model.id.in_(ids)))).scalars()}


async def _by_area(session: AsyncSession, source: _Sources, scope: list[str], locale: str) -> list[Figures]:
    """The areas' counts in one pass: each row's area is its path cut after the scope root's next
    segment (one root), or the scope prefix it falls in (several)."""
    nodes = await area_nodes(session, scope)
    if not nodes:
        return []
    first = nodes[0].path
    root = first[: first.rstrip("/").rfind("/") + 1] if first not in scope else None  # children of one root
    found = await source.grouped(None, "c", area=(root, [n.path for n in nodes]))
    return [
        Figures(n.id, n.name_en if locale.startswith("en") and n.name_en else n.name, found.get(n.path, _zero()))
        for n in nodes
    ]


def area_key(dialect: str, column: Any, root: str | None, areas: Sequence[str]) -> Any:
    """SQL: the area path of ``column`` — ``root`` and the next segment (``/1/2/`` → ``/1/2/7/``
    for ``/1/2/7/9/``), or the first of ``areas`` it lies in when there is no single root."""
    if root is not None:
        rest = func.substr(column, len(root) + 1)
        slash = func.strpos(rest, "/") if dialect == "postgresql" else func.instr(rest, "/")
        return func.substr(column, 1, len(root) + slash)
    return case(*((in_scope(column, [p]), p) for p in areas), else_="")


def outermost(paths: Sequence[str]) -> list[str]:
    """The paths not inside another of them (in order): a nested one would be counted twice."""
    return [p for i, p in enumerate(paths) if not any(q != p and p.startswith(q) for q in paths[:i] + paths[i + 1 :])]


class _Sources:
    """Counts of the range from where they are exact: events over ``plan.event_ranges`` (without
    rollups: all of it), rollups over ``plan.rollup_days``, plus the events changed since the last
    pass (``plan.changed``) as they are now, less their marks (what the rollups hold of them);
    grouped results are summed key by key."""

    def __init__(self, session: AsyncSession, scope: list[str], plan: rollup_store.Plan, calendar: sla.Calendar):
        self.session = session
        self.scope = scope
        self.plan = plan
        self.calendar = calendar
        self.dialect = session.get_bind().dialect.name

    def _parts(self) -> list[tuple[Any, list[tuple[datetime, datetime]], list[Any], int]]:
        """(table, its ranges, extra conditions, sign) of each place counted from rows."""
        parts: list[tuple[Any, list[tuple[datetime, datetime]], list[Any], int]] = []
        if self.plan.event_ranges:
            parts.append((Event, list(self.plan.event_ranges), [], 1))
        if self.plan.changed and self.plan.rollup_days:
            span = [
                bounds(
                    date.fromisoformat(self.plan.rollup_days[0]),
                    date.fromisoformat(self.plan.rollup_days[-1]),
                    self.calendar,
                )
            ]
            for t, sign in ((Event, 1), (IndicatorMark, -1)):
                parts.append((t, span, [rollup_store.changed_filter(self.plan, t)], sign))
        return parts

    def _where(self, t: Any, ranges: list[tuple[datetime, datetime]], extra: list[Any]) -> list[Any]:
        return [in_scope(t.node_path, self.scope), t.state != State.MERGED.value, *extra, in_ranges(ranges, t)]

    def _rollup_where(self, dim: str, paths: Sequence[str] | None = None) -> list[Any] | None:
        """The rollup rows of ``paths`` (a row holds its node's subtree; by default the scope's
        outermost nodes, so nothing is counted twice) over the plan's rollup days."""
        span = self.plan.rollup_span
        if span is None:
            return None
        first, last, skipped = span
        where = [
            IndicatorRollup.dim == dim,
            IndicatorRollup.node_path.in_(outermost(self.scope if paths is None else paths)),
            IndicatorRollup.day >= first,
            IndicatorRollup.day <= last,
        ]
        if skipped:
            where.append(IndicatorRollup.day.not_in(sorted(skipped)))
        return where

    @staticmethod
    def _sums() -> list[Any]:
        return [func.coalesce(func.sum(getattr(IndicatorRollup, k)), 0).label(k) for k, _label in COUNTS]

    async def total(self) -> dict[str, int]:
        out = _zero()
        for t, ranges, extra, sign in self._parts():
            stmt = select(*_columns_over(ranges, t)).where(*self._where(t, ranges, extra))
            _add(out, _counts((await self.session.execute(stmt)).one()), sign)
        where = self._rollup_where("t")
        if where is not None:
            _add(out, _counts((await self.session.execute(select(*self._sums()).where(*where))).one()))
        return out

    async def grouped(
        self, column: str | None, dim: str, area: tuple[str | None, list[str]] | None = None
    ) -> dict[Any, dict[str, int]]:
        """By ``column`` of the events (their unit, assignee, category), or by area."""
        found: dict[Any, dict[str, int]] = {}
        for t, ranges, extra, sign in self._parts():
            key = area_key(self.dialect, t.node_path, *area) if area else getattr(t, str(column))
            where = self._where(t, ranges, extra)
            stmt = select(key.label("key"), *_columns_over(ranges, t)).where(*where).group_by(key)
            for r in (await self.session.execute(stmt)).all():
                _add(found.setdefault(r.key, _zero()), _counts(r), sign)
        # By area: each area's own rows (``t``); an area inside one before it counts nothing, as in
        # ``area_key`` (the first area an event lies in takes it).
        where = self._rollup_where("t", area[1]) if area else self._rollup_where(dim)
        if where is not None:
            key = IndicatorRollup.node_path if area else IndicatorRollup.group_key
            stmt = select(key.label("key"), *self._sums()).where(*where).group_by(key)
            for r in (await self.session.execute(stmt)).all():
                k = r.key if area or dim == "c" else (int(r.key) if r.key else None)
                _add(found.setdefault(k, _zero()), _counts(r))
        # A group with nothing to count is no row (as a period with nothing is none), wherever its
        # rows came from: a change can take the last count away, a deadline of a rejected case adds none.
        return {k: v for k, v in found.items() if any(v.values())}

    async def periods(self, grain: str) -> dict[str, dict[str, int]]:
        """By day / week / month, each population in the period it is dated by."""
        merged: dict[str, dict[str, int]] = {}
        for t, ranges, extra, sign in self._parts():
            # Three GROUP BYs, each population by its own date, so due counts fall in the period of
            # their deadline: reported (created_at), due to be closed (close_due_at), due to be handled.
            for column, pop in POPULATIONS:
                keys = [k for k, (p, *_rest) in row_counts(t).items() if p == pop]
                dated = getattr(t, column)
                bucket = period_expression(self.dialect, grain, self.calendar, dated).label("key")
                where = [*self._where(t, ranges, extra)[:-1], _within(dated, ranges)]
                stmt = select(bucket, *_columns_over(ranges, t)).where(*where).group_by(bucket)
                for r in (await self.session.execute(stmt)).all():
                    got = _counts(r)
                    _add(merged.setdefault(str(r.key), _zero()), {k: got[k] for k in keys}, sign)
        where = self._rollup_where("t")
        if where is not None:
            stmt = select(IndicatorRollup.day, *self._sums()).where(*where).group_by(IndicatorRollup.day)
            for r in (await self.session.execute(stmt)).all():
                _add(merged.setdefault(period_of(r.day, grain), _zero()), _counts(r))
        return merged


def period_of(day: str, grain: str) -> str:
    """The period (as ``period_expression`` names it) of a local day ``YYYY-MM-DD``."""
    if grain == "month":
        return day[:7]
    if grain == "week":
        d = date.fromisoformat(day)
        return (d - timedelta(days=d.weekday())).isoformat()
    return day


def period_expression(dialect: str, grain: str, calendar: sla.Calendar, column: Any) -> Any:
    """The local day / week (its Monday) / month of ``column`` as text, in SQL."""
    if dialect == "postgresql":
        local = func.timezone(calendar.tz.key, column)
        if grain == "month":
            return func.to_char(local, "YYYY-MM")
        if grain == "week":
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return func.to_char(local, "YYYY-MM-DD")
    # SQLite stores UTC text; Chinese time has no daylight saving, so one fixed offset is exact.
    offset = datetime.now(calendar.tz).utcoffset() or timedelta(0)
    shift = f"{int(offset.total_seconds() // 60):+d} minutes"
    if grain == "month":
        return func.strftime("%Y-%m", column, shift)
    if grain == "week":
        return func.date(column, shift, "-6 days", "weekday 1")
    return func.date(column, shift)


async def late_stages(
    session: AsyncSession, prefixes: Sequence[str], low: datetime, high: datetime, locale: str = "zh_Hans"
) -> list[Late]:
    """Stages that ended late in [low, high), by stage and the party charged (most first)."""
    data = EventTransition.data
    stage = data["stage"].as_string()
    # Ids are 64-bit: read them as text and cast (``as_integer`` casts to a 32-bit INTEGER on PostgreSQL).
    unit_id = cast(data["charged_unit_id"].as_string(), BigInteger)
    user_id = cast(data["charged_user_id"].as_string(), BigInteger)
    stmt = (
        select(stage.label("stage"), unit_id.label("unit_id"), user_id.label("user_id"), func.count().label("n"))
        .select_from(EventTransition)
        .join(Event, and_(Event.tenant_id == EventTransition.tenant_id, Event.id == EventTransition.event_id))
        .where(
            in_scope(Event.node_path, list(prefixes)),
            EventTransition.action.in_(STAGE_ENDING),  # (tenant, action, at) is indexed
            EventTransition.at >= low,
            EventTransition.at < high,
            data["overdue"].as_boolean().is_(True),
        )
        .group_by(stage, unit_id, user_id)
    )
    found = (await session.execute(stmt)).all()
    unit_ids = {r.unit_id for r in found if r.unit_id is not None}
    user_ids = {r.user_id for r in found if r.user_id is not None}
    units = (
        {
            u.id: u.label(locale)
            for u in (await session.execute(select(HandlingUnit).where(HandlingUnit.id.in_(unit_ids)))).scalars()
        }
        if unit_ids
        else {}
    )
    users = (
        dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))).all())
        if user_ids
        else {}
    )
    out = []
    for r in found:
        party = units.get(r.unit_id) if r.unit_id is not None else None
        person = users.get(r.user_id) if r.user_id is not None else None
        label = " · ".join(x for x in (party, person) if x) or "—"
        out.append(Late(str(r.stage or ""), r.unit_id, r.user_id, label, int(r.n)))
    out.sort(key=lambda late: (-late.count, late.stage, late.party))
    return out


def table(
    report: Report, gettext: Any, *, group_label: str, weights: dict[str, Any] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the report as shown and exported: group, counts, rates and 综合指标 (percent)."""
    headers = [
        group_label,
        *(gettext(label) for _k, label in COUNTS),
        *(gettext(label) + " %" for _k, label, *_ in RATES),
        gettext("Composite score"),
    ]
    out: list[list[Any]] = []
    for fig in [*report.rows, report.total]:
        label = fig.label if fig is not report.total else gettext("Total")
        if fig is not report.total and not label:
            label = gettext("(none)")
        out.append(
            [
                label,
                *(fig.counts.get(k, 0) for k, _l in COUNTS),
                *(fig.rate(k) for k, *_ in RATES),
                fig.composite(weights),
            ]
        )
    return headers, out


def chart_data(report: Report, gettext: Any) -> dict[str, Any]:
    """What static/charts.js draws: a line per indicator over periods, else bars per group."""
    return {
        "type": "line" if report.by == "period" else "bar",
        "labels": [f.label or gettext("(none)") for f in report.rows],
        "datasets": [{"label": gettext(label), "data": [f.rate(key) for f in report.rows]} for key, label, *_ in RATES],
        "suffix": "%",
    }
