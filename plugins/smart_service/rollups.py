"""Indicator rollups: the counts of ``indicators.COUNTS`` per local day × node × group, kept by a job,
so the dashboard over 30 or 366 days sums rollup rows instead of reading every event.

What the rollups hold of each event is its mark (``IndicatorMark``): a copy of the columns the
indicators count, taken by the pass that last saw it. The rollups are aggregated from the marks —
never from events — so they equal the marks' counts exactly, for every day (future deadlines too).
A dashboard reads the rollups of its whole range, adds the events changed since the last pass
(``updated_at`` ≥ the watermark, version or stamp unlike their mark, or no mark) counted as they
are now, and takes away their marks (``plan``, ``indicators._Sources``): exact at any moment,
and it reads only the events changed in the last minutes, not today's thousands. The job only
decides how small that set is.

The job (``JOB``) is queued after commit when an event changes (``heard``, at most once a minute per
district and process) and runs every few hours anyway. A pass takes the changed events (one
statement: one snapshot), takes their old marks' counts out of the rollups and puts the new
marks' in, key by key (``_apply``: only the rows they touch, not their whole days; both sides are
counted by the same SQL from marks, so the rollups stay the marks' sum). A new time zone or a
change of category classes rebuilds everything (``signature``), a month of days per statement.

The watermark trails each pass by ``OVERLAP``: a transaction that wrote ``updated_at`` before the
pass but committed after it is still found (transactions are far shorter than that). A bulk load
that writes events with an older ``updated_at`` (an import by COPY) must call ``forget`` after it,
or those events are never counted: the next pass then rebuilds everything. (A restore copies the
marks and rollups with the events, which stay consistent.)
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, func, insert, literal, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.db.base import new_id, utcnow
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import State
from plugins.smart_service.models import Category, Event
from plugins.smart_service.rollup_models import (
    COUNT_COLUMNS,
    COUNTED,
    IndicatorMark,
    IndicatorRollup,
    IndicatorState,
)

JOB = "smart_service.indicator_rollups"
EVERY_SECONDS = 6 * 3600  # a district nobody touches still gets a pass now and then
DEBOUNCE_SECONDS = 60.0  # after a change: one pass a minute at most (per process and district)
OVERLAP = timedelta(minutes=10)
STATE = "rollups"
DIMS = ("c", "u", "w")  # category class, handling unit, assignee; and "t": the total (``_roll``)
_CHUNK = 500
BATCH_DAYS = 31  # a full rebuild aggregates a month of days per statement
IN_LIST = 1000  # more changed events than this: the reads select them by a subquery, not a list


@dataclass(frozen=True)
class Plan:
    """Which days of a range come from rollups, which UTC ranges wholly from events, and the events
    changed since the rollups' pass (counted as they are now, less their marks)."""

    rollup_days: tuple[str, ...]  # YYYY-MM-DD, ascending
    event_ranges: tuple[tuple[datetime, datetime], ...]
    changed: tuple[int, ...] = ()
    since: datetime | None = None  # the watermark the changed events were found from

    @property
    def rollup_span(self) -> tuple[str, str, set[str]] | None:
        """(first, last, days between them not read from rollups), or None without rollup days."""
        if not self.rollup_days:
            return None
        first, last = self.rollup_days[0], self.rollup_days[-1]
        inside = set(self.rollup_days)
        skipped = {d.isoformat() for d in _days(date.fromisoformat(first), date.fromisoformat(last))} - inside
        return first, last, skipped


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def day_of(moment: datetime | None, calendar: sla.Calendar) -> str | None:
    return None if moment is None else moment.astimezone(calendar.tz).date().isoformat()


def day_ranges(days: Iterable[date], calendar: sla.Calendar) -> list[tuple[datetime, datetime]]:
    """UTC [from, to) of runs of consecutive local days."""
    out: list[tuple[datetime, datetime]] = []
    run: list[date] = []
    for d in sorted(set(days)):
        if run and d != run[-1] + timedelta(days=1):
            out.append(_bounds(run[0], run[-1], calendar))
            run = []
        run.append(d)
    if run:
        out.append(_bounds(run[0], run[-1], calendar))
    return out


def _bounds(start: date, end: date, calendar: sla.Calendar) -> tuple[datetime, datetime]:
    from plugins.smart_service.indicators import bounds

    return bounds(start, end, calendar)


async def category_classes(session: AsyncSession) -> dict[str, str]:
    """{category code: its class (大类)}: a class is its own class."""
    rows = (await session.execute(select(Category.code, Category.parent_code))).all()
    return {code: parent or code for code, parent in rows}


def signature(calendar: sla.Calendar, classes: dict[str, str]) -> str:
    text = calendar.tz.key + "|" + ";".join(f"{k}:{v}" for k, v in sorted(classes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


async def _state(session: AsyncSession, lock: bool = False) -> IndicatorState | None:
    stmt = select(IndicatorState).where(IndicatorState.name == STATE)
    if lock:  # one pass at a time per district (SQLite has one writer anyway)
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def _stale(since: datetime) -> list[Any]:
    """Events changed since ``since`` whose mark no longer holds what they are (or who have none)."""
    mark = IndicatorMark
    return [
        Event.updated_at >= since,
        or_(mark.id.is_(None), mark.version != Event.version, mark.stamp != Event.updated_at),
    ]


def _marked_join() -> Any:
    mark = IndicatorMark
    return and_(mark.tenant_id == Event.tenant_id, mark.id == Event.id)


async def _changed(session: AsyncSession, since: datetime) -> list[Any]:
    """The changed events with every column a mark copies (one statement: one snapshot)."""
    cols = [getattr(Event, c) for c in COUNTED]
    stmt = (
        select(Event.id, Event.version, Event.updated_at, *cols)
        .select_from(Event)
        .outerjoin(IndicatorMark, _marked_join())
        .where(*_stale(since))
    )
    return list((await session.execute(stmt)).all())


def changed_ids(since: datetime) -> Any:
    return select(Event.id).select_from(Event).outerjoin(IndicatorMark, _marked_join()).where(*_stale(since))


def changed_filter(plan: Plan, t: Any) -> Any:
    """``t``'s rows of the plan's changed events (``t``: ``Event`` or ``IndicatorMark``)."""
    if len(plan.changed) <= IN_LIST or plan.since is None:
        return t.id.in_(plan.changed)
    return t.id.in_(changed_ids(plan.since).scalar_subquery())


async def plan(session: AsyncSession, calendar: sla.Calendar, start: date, end: date) -> Plan:
    """Every day of [start, end] from rollups and the events changed since their pass, or (no
    rollups yet, or built with another time zone or other classes) everything from events."""
    everything = Plan((), tuple(day_ranges(_days(start, end), calendar)))
    state = await _state(session)
    if state is None or state.signature != signature(calendar, await category_classes(session)):
        return everything
    ids = tuple((await session.execute(changed_ids(state.watermark))).scalars())
    return Plan(tuple(d.isoformat() for d in _days(start, end)), (), ids, state.watermark)


async def forget(session: AsyncSession) -> None:
    """After a bulk load of events with old ``updated_at``s: the next pass rebuilds everything, and
    until then the dashboard counts from events."""
    await session.execute(delete(IndicatorState))


# ---- the pass ----------------------------------------------------------------------------------


async def refresh(
    session: AsyncSession, *, calendar: sla.Calendar | None = None, today: date | None = None
) -> dict[str, Any]:
    """One pass for the session's district: bring the marks and the rollups up to the events;
    returns what it did. ``today`` is only recorded (``rolled_before``): every day is rolled up."""
    started = clock.perf_counter()
    now = utcnow()
    calendar = calendar or await sla.load_calendar(session)
    sig = signature(calendar, await category_classes(session))
    today = today or now.astimezone(calendar.tz).date()
    state = await _state(session, lock=True)
    if state is None or state.signature != sig:
        days = await _rebuild_all(session, calendar)
        if state is None:
            state = IndicatorState(name=STATE, signature=sig, rolled_before=today.isoformat(), watermark=now)
            session.add(state)
        full, changed = True, None
    else:
        rows = await _changed(session, state.watermark)
        ids = [r.id for r in rows]
        delta: dict[Key, list[int]] = {}
        for i in range(0, len(ids), _CHUNK):  # what the rollups hold of them now, taken away…
            await _expand(session, None, ids[i : i + _CHUNK], delta, -1)
        dirty = await _remark(session, calendar, rows)
        for i in range(0, len(ids), _CHUNK):  # …and what they are now, added
            await _expand(session, None, ids[i : i + _CHUNK], delta, 1)
        await _apply(session, delta)
        full, days, changed = False, len(dirty), len(rows)
    state.signature = sig
    state.rolled_before = today.isoformat()
    state.watermark = now - OVERLAP
    state.built_at = utcnow()
    await session.flush()
    return {"full": full, "days": days, "changed": changed, "seconds": round(clock.perf_counter() - started, 3)}


def _tenant(session: AsyncSession) -> int:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise RuntimeError("rollups are built in a session bound to a district")
    return int(tenant_id)


async def _rebuild_all(session: AsyncSession, calendar: sla.Calendar) -> int:
    """Everything again: a mark for every event, then the rollups of every day a mark is counted
    on, a batch of days per statement."""
    from plugins.smart_service.indicators import period_expression

    tenant_id = _tenant(session)
    await session.execute(delete(IndicatorRollup))  # the session's tenant filter bounds both deletes
    await session.execute(delete(IndicatorMark))
    dialect = session.get_bind().dialect.name

    def day(column: Any) -> Any:
        return period_expression(dialect, "day", calendar, column)

    await session.execute(
        insert(IndicatorMark).from_select(
            ["tenant_id", "id", "version", "stamp", "created_day", "close_due_day", "handle_due_day", *COUNTED],
            select(
                literal(tenant_id),
                Event.id,
                Event.version,
                Event.updated_at,
                day(Event.created_at),
                day(Event.close_due_at),
                day(Event.handle_due_at),
                *(getattr(Event, c) for c in COUNTED),
            ).where(Event.tenant_id == tenant_id),  # by hand: the tenant filter leaves INSERT … SELECT alone
        )
    )
    mark = IndicatorMark
    firsts = await session.execute(
        select(
            func.min(mark.created_day),
            func.max(mark.created_day),
            func.min(mark.close_due_day),
            func.max(mark.close_due_day),
            func.min(mark.handle_due_day),
            func.max(mark.handle_due_day),
        )
    )
    found = [d for d in firsts.one() if d is not None]
    if not found:
        return 0
    days = [d.isoformat() for d in _days(date.fromisoformat(min(found)), date.fromisoformat(max(found)))]
    for i in range(0, len(days), BATCH_DAYS):
        await _roll(session, days[i : i + BATCH_DAYS])
    return len(days)


async def _remark(session: AsyncSession, calendar: sla.Calendar, changed: Sequence[Any]) -> set[str]:
    """New marks for the changed events, from the rows read; returns the days their old and new
    marks are counted on (the rollups to rebuild)."""
    tenant_id = _tenant(session)
    ids = [r.id for r in changed]
    mark = IndicatorMark
    dirty: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        old = await session.execute(
            select(mark.created_day, mark.close_due_day, mark.handle_due_day).where(mark.id.in_(chunk))
        )
        dirty.update(d for row in old.all() for d in row if d)
        await session.execute(delete(mark).where(mark.id.in_(chunk)))
    rows = []
    for r in changed:
        days = {k: day_of(getattr(r, c), calendar) for k, c in _DAY_OF.items()}
        dirty.update(d for d in days.values() if d)
        rows.append(
            {
                "tenant_id": tenant_id,
                "id": r.id,
                "version": r.version,
                "stamp": r.updated_at,
                **days,
                **{c: getattr(r, c) for c in COUNTED},
            }
        )
    for i in range(0, len(rows), 5000):
        await session.execute(insert(mark), rows[i : i + 5000])
    return dirty


_DAY_OF = {"created_day": "created_at", "close_due_day": "close_due_at", "handle_due_day": "handle_due_at"}


def _group(dim: str, category: Any) -> Any:
    mark = IndicatorMark
    if dim == "c":
        return func.coalesce(category.parent_code, mark.category_code)
    column = mark.handling_unit_id if dim == "u" else mark.assignee_user_id
    return func.coalesce(cast(column, String), "")


def aggregate(days: Sequence[str] | None, dim: str, ids: Sequence[int] = ()) -> Any:
    """SELECT of the rollup rows of ``days`` for ``dim`` (or of the marks ``ids`` on any day), from
    the marks: each population by the day it is dated by (as ``indicators.compute`` by period), the
    conditions ``row_counts``'; by the mark's own node (``_expand`` adds the nodes above)."""
    from plugins.smart_service.indicators import POPULATIONS, row_counts

    mark = IndicatorMark
    category = aliased(Category)
    counts = row_counts(mark)
    day_column = {"created_at": mark.created_day, "close_due_at": mark.close_due_day}
    day_column["handle_due_at"] = mark.handle_due_day
    parts = []
    for column, pop in POPULATIONS:
        dated = day_column[column]
        values = []
        for key in COUNT_COLUMNS:
            p, condition, value = counts[key]
            if p != pop:
                values.append(literal_column("0").label(key))  # inline: a bare parameter has no type in a UNION
            elif condition is None:
                values.append((literal_column(str(value)) if isinstance(value, int) else value).label(key))
            else:
                values.append(case((condition, value), else_=0).label(key))
        stmt = select(dated.label("day"), mark.node_path.label("node_path"), _group(dim, category).label("g"), *values)
        if dim == "c":
            on = and_(category.tenant_id == mark.tenant_id, category.code == mark.category_code)
            stmt = stmt.select_from(mark).outerjoin(category, on)
        which = dated.in_(list(days)) if days is not None else and_(mark.id.in_(list(ids)), dated.is_not(None))
        parts.append(stmt.where(which, mark.state != State.MERGED.value))
    rows = union_all(*parts).subquery()
    sums = [func.sum(rows.c[k]).label(k) for k in COUNT_COLUMNS]
    return select(rows.c.day, rows.c.node_path, rows.c.g, *sums).group_by(rows.c.day, rows.c.node_path, rows.c.g)


def ancestors(path: str) -> list[str]:
    """``/1/2/3/`` → ``/1/``, ``/1/2/``, ``/1/2/3/``: every node whose subtree holds the path."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


Key = tuple[str, str, str, str]  # (day, node_path, dim, group_key)


async def _expand(
    session: AsyncSession,
    days: Sequence[str] | None,
    ids: Sequence[int] = (),
    acc: dict[Key, list[int]] | None = None,
    sign: int = 1,
) -> dict[Key, list[int]]:
    """The marks' counts (of ``days``, or of the marks ``ids``) by rollup key, added into ``acc``
    times ``sign``. A row holds a node's whole subtree, so each event's counts go to its node and
    every node above it: a dashboard reads its scope's own rows (a district's 30 days: 30 rows a
    group), however many events and grids lie below. ``t`` (group '') is the total, by day (the
    total, by area, by period)."""
    acc = {} if acc is None else acc
    for dim in DIMS:
        for r in (await session.execute(aggregate(days, dim, ids))).all():
            counts = [sign * int(getattr(r, k) or 0) for k in COUNT_COLUMNS]
            if not any(counts):
                continue
            for path in ancestors(r.node_path):
                for key in [(r.day, path, dim, r.g)] + ([(r.day, path, "t", "")] if dim == "c" else []):
                    into = acc.get(key)
                    if into is None:
                        acc[key] = list(counts)
                    else:
                        for i, v in enumerate(counts):
                            into[i] += v
    return acc


async def _roll(session: AsyncSession, days: Sequence[str]) -> None:
    """The rollup rows of ``days`` (deleted before) from the marks of those days."""
    await _insert(session, await _expand(session, days))


async def _insert(session: AsyncSession, acc: dict[Key, list[int]]) -> None:
    tenant_id = _tenant(session)
    batch: list[dict[str, Any]] = []
    for (day, path, dim, group), counts in acc.items():
        if not any(counts):
            continue
        batch.append(
            {
                "tenant_id": tenant_id,
                "id": new_id(),
                "day": day,
                "node_path": path,
                "dim": dim,
                "group_key": group,
                **dict(zip(COUNT_COLUMNS, counts, strict=True)),
            }
        )
        if len(batch) >= 5000:
            await session.execute(insert(IndicatorRollup), batch)
            batch = []
    if batch:
        await session.execute(insert(IndicatorRollup), batch)


async def _apply(session: AsyncSession, delta: dict[Key, list[int]]) -> None:
    """Adds ``delta`` to the rollup rows of its keys: a row that comes to nothing goes, a new key
    gets a row. Only the keys the changed events touch are read and written, not their whole days."""
    delta = {k: v for k, v in delta.items() if any(v)}
    roll = IndicatorRollup
    found: dict[Key, Any] = {}
    days = sorted({k[0] for k in delta})
    paths = sorted({k[1] for k in delta})
    for i in range(0, len(days), _CHUNK):
        for j in range(0, len(paths), _CHUNK):
            stmt = select(roll).where(roll.day.in_(days[i : i + _CHUNK]), roll.node_path.in_(paths[j : j + _CHUNK]))
            for row in (await session.execute(stmt)).scalars():
                key = (row.day, row.node_path, row.dim, row.group_key)
                if key in delta:
                    found[key] = row
    gone: list[int] = []
    for key, row in found.items():
        counts = [getattr(row, k) + d for k, d in zip(COUNT_COLUMNS, delta.pop(key), strict=True)]
        if any(counts):
            for k, v in zip(COUNT_COLUMNS, counts, strict=True):
                setattr(row, k, v)
        else:
            gone.append(row.id)
    for i in range(0, len(gone), _CHUNK):
        await session.execute(delete(roll).where(roll.id.in_(gone[i : i + _CHUNK])))
    await session.flush()
    await _insert(session, delta)  # keys without a row: what is left of the delta


# ---- the job and who queues it -----------------------------------------------------------------


async def job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """A ``core.services.jobs`` handler: one pass for the job's district."""
    return await refresh(ctx.session)


_queued: dict[int, float] = {}


async def heard(context: Any, tenant_id: int) -> None:
    """After an event's change is committed: queue a pass in a minute, unless one is queued."""
    from core.services.jobs import enqueue_once

    if context.db is None:
        return
    now = clock.monotonic()
    if now - _queued.get(tenant_id, -DEBOUNCE_SECONDS) < DEBOUNCE_SECONDS:
        return
    _queued[tenant_id] = now
    async with context.db.transaction(tenant_id) as s:
        await enqueue_once(s, tenant_id, JOB, {}, run_at=utcnow() + timedelta(seconds=DEBOUNCE_SECONDS))
