"""Indicator rollups: the counts of ``indicators.COUNTS`` per local day × node × group, kept by a job,
so the dashboard over 30 or 366 days sums rollup rows instead of reading every event.

Reads are exact, never stale: ``plan`` splits a date range into the days read from rollups and the
days read from events — today and later (``rolled_before``), and every day an event changed since
the last pass was counted on, before or after the change (its mark's days and its own). So a
dashboard equals the indicators computed from events at any moment; the job only decides how much
of the range is cheap.

The job (``JOB``) is queued after commit when an event changes (``heard``, at most once a minute per
district and process) and runs every few hours anyway (a new day to close). A pass finds the
events changed since the last one (``updated_at`` ≥ the watermark, version or stamp unlike their
mark), rebuilds each day they were or are counted on (whole days: a day's rows are deleted and
aggregated again from events, so nothing drifts), and the days closed since the last pass. A new
time zone or a change of category classes rebuilds everything (``signature``).

The watermark trails each pass by ``OVERLAP``: a transaction that wrote ``updated_at`` before the
pass but committed after it is still found (transactions are far shorter than that).
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import State
from plugins.smart_service.models import Category, Event
from plugins.smart_service.rollup_models import COUNT_COLUMNS, IndicatorMark, IndicatorRollup, IndicatorState

JOB = "smart_service.indicator_rollups"
EVERY_SECONDS = 6 * 3600  # a district nobody touches still gets its closed days rolled up
DEBOUNCE_SECONDS = 60.0  # after a change: one pass a minute at most (per process and district)
OVERLAP = timedelta(minutes=10)
STATE = "rollups"
DIMS = ("c", "u", "w")  # category class, handling unit, assignee
_CHUNK = 500


@dataclass(frozen=True)
class Plan:
    """Which days of a range come from rollups, and which UTC ranges from events."""

    rollup_days: tuple[str, ...]  # YYYY-MM-DD, ascending
    event_ranges: tuple[tuple[datetime, datetime], ...]

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


async def _state(session: AsyncSession) -> IndicatorState | None:
    stmt = select(IndicatorState).where(IndicatorState.name == STATE)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _changed(session: AsyncSession, since: datetime) -> list[Any]:
    """Events changed since ``since`` whose rollups no longer hold what they are: (event, mark)."""
    mark = IndicatorMark
    stmt = (
        select(
            Event.id,
            Event.version,
            Event.updated_at,
            Event.created_at,
            Event.close_due_at,
            Event.handle_due_at,
            mark.id.label("marked"),
            mark.created_day,
            mark.close_due_day,
            mark.handle_due_day,
        )
        .select_from(Event)
        .outerjoin(mark, and_(mark.tenant_id == Event.tenant_id, mark.id == Event.id))
        .where(
            Event.updated_at >= since,
            or_(mark.id.is_(None), mark.version != Event.version, mark.stamp != Event.updated_at),
        )
    )
    return list((await session.execute(stmt)).all())


def _touched_days(rows: Sequence[Any], calendar: sla.Calendar) -> set[str]:
    """Every day a changed event was counted on (its mark) or is counted on now."""
    out: set[str] = set()
    for r in rows:
        for d in (r.created_day, r.close_due_day, r.handle_due_day):
            if d:
                out.add(d)
        for moment in (r.created_at, r.close_due_at, r.handle_due_at):
            d = day_of(moment, calendar)
            if d:
                out.add(d)
    return out


async def plan(session: AsyncSession, calendar: sla.Calendar, start: date, end: date) -> Plan:
    """The days of [start, end] the rollups hold exactly now, and the rest as UTC ranges of events."""
    everything = Plan((), tuple(day_ranges(_days(start, end), calendar)))
    state = await _state(session)
    if state is None or state.signature != signature(calendar, await category_classes(session)):
        return everything
    rolled_before = date.fromisoformat(state.rolled_before)
    dirty = _touched_days(await _changed(session, state.watermark), calendar)
    rollup_days = [d for d in _days(start, end) if d < rolled_before and d.isoformat() not in dirty]
    if not rollup_days:
        return everything
    from_rollups = set(rollup_days)
    rest = [d for d in _days(start, end) if d not in from_rollups]
    return Plan(tuple(d.isoformat() for d in rollup_days), tuple(day_ranges(rest, calendar)))


# ---- the pass ----------------------------------------------------------------------------------


async def refresh(
    session: AsyncSession, *, calendar: sla.Calendar | None = None, today: date | None = None
) -> dict[str, Any]:
    """One pass for the session's district: rebuild what changed; returns what it did. ``today``
    (the local day the rollups stop before) is the calendar's today unless a test says otherwise."""
    started = clock.perf_counter()
    now = utcnow()
    calendar = calendar or await sla.load_calendar(session)
    classes = await category_classes(session)
    sig = signature(calendar, classes)
    today = today or now.astimezone(calendar.tz).date()
    state = await _state(session)
    if state is None or state.signature != sig:
        days = await _rebuild_all(session, calendar, classes, today)
        if state is None:
            state = IndicatorState(name=STATE, signature=sig, rolled_before=today.isoformat(), watermark=now)
            session.add(state)
        full = True
    else:
        changed = await _changed(session, state.watermark)
        dirty = {d for d in _touched_days(changed, calendar) if d < today.isoformat()}
        dirty |= {d.isoformat() for d in _days(date.fromisoformat(state.rolled_before), today - timedelta(days=1))}
        days = len(dirty)
        if dirty:
            await _rebuild_days(session, calendar, classes, sorted(dirty))
        await _remark(session, calendar, changed)
        full = False
    state.signature = sig
    state.rolled_before = today.isoformat()
    state.watermark = now - OVERLAP
    state.built_at = utcnow()
    await session.flush()
    return {"full": full, "days": days, "seconds": round(clock.perf_counter() - started, 3)}


def _tenant(session: AsyncSession) -> int:
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise RuntimeError("rollups are built in a session bound to a district")
    return int(tenant_id)


async def _rebuild_all(session: AsyncSession, calendar: sla.Calendar, classes: dict[str, str], today: date) -> int:
    """Everything again: marks for every event, rollups for every day before ``today``."""
    from plugins.smart_service.indicators import period_expression

    tenant_id = _tenant(session)
    await session.execute(delete(IndicatorRollup))  # the session's tenant filter bounds both deletes
    await session.execute(delete(IndicatorMark))
    dialect = session.get_bind().dialect.name

    def day(column: Any) -> Any:
        return period_expression(dialect, "day", calendar, column)

    await session.execute(
        insert(IndicatorMark).from_select(
            ["tenant_id", "id", "version", "stamp", "created_day", "close_due_day", "handle_due_day"],
            select(
                literal(tenant_id),
                Event.id,
                Event.version,
                Event.updated_at,
                day(Event.created_at),
                day(Event.close_due_at),
                day(Event.handle_due_at),
            ).where(Event.tenant_id == tenant_id),  # by hand: the tenant filter leaves INSERT … SELECT alone
        )
    )
    firsts = await session.execute(
        select(func.min(Event.created_at), func.min(Event.close_due_at), func.min(Event.handle_due_at))
    )
    moments = [m for m in firsts.one() if m is not None]
    if not moments:
        return 0
    first_day = min(day_from(m, calendar) for m in moments)
    if first_day >= today:
        return 0
    earliest, high = _bounds(first_day, today - timedelta(days=1), calendar)
    await _insert(session, await aggregate(session, calendar, classes, [(earliest, high)]))
    return (today - first_day).days


def day_from(moment: datetime, calendar: sla.Calendar) -> date:
    return moment.astimezone(calendar.tz).date()


async def _rebuild_days(
    session: AsyncSession, calendar: sla.Calendar, classes: dict[str, str], days: list[str]
) -> None:
    _tenant(session)  # unbound, the tenant filter would delete nothing and insert everywhere: refuse
    for i in range(0, len(days), _CHUNK):
        chunk = days[i : i + _CHUNK]
        await session.execute(delete(IndicatorRollup).where(IndicatorRollup.day.in_(chunk)))
        ranges = day_ranges((date.fromisoformat(d) for d in chunk), calendar)
        await _insert(session, await aggregate(session, calendar, classes, ranges))


async def _remark(session: AsyncSession, calendar: sla.Calendar, changed: Sequence[Any]) -> None:
    tenant_id = _tenant(session)
    ids = [r.id for r in changed]
    for i in range(0, len(ids), _CHUNK):
        await session.execute(delete(IndicatorMark).where(IndicatorMark.id.in_(ids[i : i + _CHUNK])))
    if changed:
        await session.execute(
            insert(IndicatorMark),
            [
                {
                    "tenant_id": tenant_id,
                    "id": r.id,
                    "version": r.version,
                    "stamp": r.updated_at,
                    "created_day": day_of(r.created_at, calendar),
                    "close_due_day": day_of(r.close_due_at, calendar),
                    "handle_due_day": day_of(r.handle_due_at, calendar),
                }
                for r in changed
            ],
        )


Key = tuple[str, str, str, str]  # (day, node_path, dim, group_key)


async def aggregate(
    session: AsyncSession, calendar: sla.Calendar, classes: dict[str, str], ranges: Sequence[tuple[datetime, datetime]]
) -> dict[Key, dict[str, int]]:
    """The rollup rows of the local days in ``ranges``, from events: each population grouped by the
    day it is dated by (as ``indicators.compute`` by period), then each row counted once per dim."""
    from plugins.smart_service.indicators import DUE_KEYS, REPORTED_KEYS, _columns_over, period_expression

    dialect = session.get_bind().dialect.name
    out: dict[Key, dict[str, int]] = {}
    populations = (
        (Event.created_at, REPORTED_KEYS),
        (Event.close_due_at, DUE_KEYS[:2]),
        (Event.handle_due_at, DUE_KEYS[2:]),
    )
    for column, keys in populations:
        day = period_expression(dialect, "day", calendar, column).label("day")
        groups = (day, Event.node_path, Event.category_code, Event.handling_unit_id, Event.assignee_user_id)
        stmt = (
            select(*groups, *_columns_over(ranges))
            .where(Event.state != State.MERGED.value, or_(*(and_(column >= lo, column < hi) for lo, hi in ranges)))
            .group_by(*groups)
        )
        for r in (await session.execute(stmt)).all():
            got = {k: int(getattr(r, k) or 0) for k in keys}
            if not any(got.values()):
                continue
            for dim, group in (
                ("c", classes.get(r.category_code, r.category_code)),
                ("u", "" if r.handling_unit_id is None else str(r.handling_unit_id)),
                ("w", "" if r.assignee_user_id is None else str(r.assignee_user_id)),
            ):
                acc = out.setdefault((str(r.day), r.node_path, dim, group), dict.fromkeys(COUNT_COLUMNS, 0))
                for k, v in got.items():
                    acc[k] += v
    return out


async def _insert(session: AsyncSession, rows: dict[Key, dict[str, int]]) -> None:
    tenant_id = _tenant(session)
    batch: list[dict[str, Any]] = []
    for (day, path, dim, group), counts in rows.items():
        batch.append(
            {
                "tenant_id": tenant_id,
                "id": new_id(),
                "day": day,
                "node_path": path,
                "dim": dim,
                "group_key": group,
                **counts,
            }
        )
        if len(batch) >= 5000:
            await session.execute(insert(IndicatorRollup), batch)
            batch = []
    if batch:
        await session.execute(insert(IndicatorRollup), batch)


# ---- the job and who queues it -----------------------------------------------------------------


async def job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """A ``core.services.jobs`` handler: one pass for the job's district."""
    return await refresh(ctx.session)


_queued: dict[int, float] = {}


async def heard(context: Any, tenant_id: int) -> None:
    """After an event's change is committed: queue a pass in a minute, unless one is queued."""
    from core.services.jobs.models import PENDING, Job
    from core.services.jobs.runner import enqueue

    if context.db is None:
        return
    now = clock.monotonic()
    if now - _queued.get(tenant_id, -DEBOUNCE_SECONDS) < DEBOUNCE_SECONDS:
        return
    _queued[tenant_id] = now
    async with context.db.transaction(tenant_id) as s:
        if (
            await s.scalar(
                select(Job.id).where(Job.tenant_id == tenant_id, Job.name == JOB, Job.status == PENDING).limit(1)
            )
            is None
        ):
            await enqueue(s, tenant_id, JOB, {}, run_at=utcnow() + timedelta(seconds=DEBOUNCE_SECONDS))
