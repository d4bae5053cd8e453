"""服务智治: the event inbox and the indicator dashboard at 10k and 1M events, and Open311 POST
requests/s against a bare handler.

    .venv/bin/python bench/smart_service.py                          # both parts
    .venv/bin/python bench/smart_service.py --part queries --sizes 10000 1000000 --runs 20 --rounds 5 --keep rollups
    .venv/bin/python bench/smart_service.py --part open311 --db postgresql --seconds 5 --rounds 5 --concurrency 1 4 8

**queries** (PostgreSQL): a database per size made by the migrations, tenants/ applied and the demo
seeded (bench/pages.py's ``prepared_database``; with ``--keep NAME`` kept as
``liuzhi_bench_NAME_<size>`` and reused next time, migrations since applied, no refill); events
are then added by COPY up to the size, spread over the shuangluan tree (grids mostly, some
communities and villages), over the last 365 days, with states, deadlines, units (by the demo's
dispatch catalogue), assignees, ratings and flags like the demo's. The rollup job's pass then runs
(``rollups.refresh``, timed: a full build after a fill) and every table is ANALYZEd; then recent
open events are changed as a running district's last 11 minutes would have changed them
(``touch_recent``: what the dashboard reads from events besides the rollups). For the demo users
``grid_worker`` (one grid), ``community`` (双安社区) and ``admin`` (the district) — their real
role assignments and the tenant's real policy — it runs, in a tenant-bound session as the
non-owner app role under RLS, each ``--runs`` times after warm-up, ``--rounds`` rounds each
measuring every size in turn (a slow spell of the shared machine hits both sides of a ratio):

- inbox      the route's statement (``routes.staff._inbox_statement``, default filters: open events,
             soonest deadline first) through ``paginate``: the count, then the first page of 50;
- indicators ``indicators.compute`` (calendar, total, one GROUP BY) for each dimension over the
             dashboard's default 30 days, and by area over 366 days (the longest range allowed):
             the rollups of the range, plus the events changed since the pass less their marks.

Reported: p50/p95 over all rounds' runs, the spread of the rounds' p95, and the 1M/10k ratio of
p95 (pooled, and the median and min–max of the rounds' ratios).
Each statement the ORM sent is captured and EXPLAIN (ANALYZE, BUFFERS) of it kept in the JSON; a
sequential scan on ss_events is printed.

**open311**: the real app (``bench._server:real``) and a bare Litestar app (``bare_open311`` below)
served by uvicorn the same way as bench/pages.py, loaded by wrk with POST
/open311/v2/requests.json?jurisdiction_id=shuangluan (api_key from ``ensure_api_key``,
service_code, lat/long inside a demo grid, description). The bare handler does the same writes by
hand, connected as the same non-owner role under row-level security: the day's number from the
tenant's counter, then in one transaction the key check, the event row, its timeline row, the
Open311 request row, their three audit rows and the notification job's row; after the answer the
SLA slot's wake-up UPDATE when the deadline is near enough to need it, as the real app decides
(``bare_open311``) — every row the real POST writes, no more; no tenant
resolution, category or area lookup, SLA arithmetic, i18n or announcement delivery. The tables
are ANALYZEd after the warm-up.
Each round runs both targets at each ``--concurrency`` in turn (side by side, same load); reported
per target: median requests/s with the rounds' spread, app and database CPU per request, and the
share of active backend samples of pg_stat_activity (every 10 ms) that waited on a lock.
Benchmarks only report: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import RESULTS, bulk_insert, pct, rss_mb

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TENANT = "shuangluan"
PERSONAS = {"grid worker": "grid_worker", "community": "community", "district": "admin"}
OPEN311_KEY = "bench-open311-key"
ID_BASE = 10**9  # bulk rows' ids: far below new_id()'s time-based ids, so never a collision

# ---- part 1: the queries ----------------------------------------------------------------------

# States of events older than RECENT_DAYS (nearly all finished) and of recent ones (the demo's mix).
OLD_STATES = (("closed", 86), ("rejected", 6), ("merged", 5), ("parked", 1), ("handling", 1), ("inspected", 1))
RECENT_STATES = (
    ("closed", 40),
    ("rejected", 4),
    ("merged", 3),
    ("parked", 3),
    ("reported", 5),
    ("accepted", 4),
    ("registered", 5),
    ("dispatched", 6),
    ("signed", 5),
    ("handling", 10),
    ("feedback", 5),
    ("inspecting", 5),
    ("inspected", 5),
)
RECENT_DAYS = 14
STAGE = {
    "reported": "accept",
    "accepted": "dispatch",
    "registered": "dispatch",
    "dispatched": "sign",
    "signed": "handle",
    "handling": "handle",
    "feedback": "inspect",
    "inspecting": "inspect",
    "inspected": "inspect",
}
AFTER_DISPATCH = {"dispatched", "signed", "handling", "feedback", "inspecting", "inspected", "closed"}
TITLES = ("楼下垃圾没人清", "路面坑洼", "井盖缺失有危险", "路灯晚上不亮", "夜间施工噪声大", "小区停水", "商贩占道摆摊")
SOURCES = (("grid_patrol", 45), ("resident", 40), ("hotline_12345", 12), ("superior", 3))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _unit(rng: random.Random, world: dict[str, Any], category: str, path: str) -> int:
    """The unit an event of ``category`` at ``path`` is dispatched to. In a district the dispatch
    catalogue (派单目录) decides — the most specific area's rule for the category, its class or any —
    so a unit sees its own area's few categories; a random unit per event would make nearly every
    (day, node, unit) a rollup row of its own, more rows than events, which no district has. One in
    ten goes elsewhere (a re-dispatch, a unit lent)."""
    if rng.random() < 0.9:
        fitting = [(len(p), rank, u) for p, rank, u in world["unit_of"].get(category, []) if path.startswith(p)]
        if fitting:
            return max(fitting)[2]
    return rng.choice(world["units"])


def event_rows(
    start: int, end: int, world: dict[str, Any], rng: random.Random, now: datetime, tenant_id: int
) -> list[dict[str, Any]]:
    rows = []
    grids, upper = world["grids"], world["upper"]
    workers, cats = world["workers"], world["categories"]
    for i in range(start, end):
        # Nine in ten events happen in a grid; the rest are placed at a community or village.
        node_id, path = rng.choice(grids if rng.random() < 0.9 or not upper else upper)
        category = rng.choice(cats)
        age = rng.random() * 365
        created = now - timedelta(days=age)
        recent = age < RECENT_DAYS
        state = _pick(rng, RECENT_STATES if recent else OLD_STATES)
        parked_from = None
        if state == "parked":
            parked_from = rng.choice(("registered", "handling"))
        dispatched = state in AFTER_DISPATCH or (state == "parked" and parked_from != "registered")
        stage = STAGE.get(state)
        due = created + timedelta(hours=rng.uniform(4, 24 * (RECENT_DAYS + 3))) if stage else None
        # Nothing happened in the future: a close or a change is at most now.
        closed = min(now, created + timedelta(days=rng.uniform(0.2, 10))) if state == "closed" else None
        final = state in ("closed", "rejected", "merged")
        # The handling clock from 派遣 and the case's deadline (indicators: 应处置数, 应结案数).
        sent = created + timedelta(hours=rng.uniform(0.5, 8)) if dispatched else None
        handle_due = sent + timedelta(hours=rng.uniform(8, 72)) if sent else None
        close_due = handle_due + timedelta(hours=8) if handle_due else None
        handled = (
            handle_due + timedelta(hours=rng.uniform(-48, 12))
            if handle_due and state in ("feedback", "inspecting", "inspected", "closed")
            else None
        )
        rows.append(
            {
                "tenant_id": tenant_id,
                "id": ID_BASE + i,
                "number": f"BN-{i:09d}",
                "title": rng.choice(TITLES),
                "description": "",
                "category_code": category,
                "source": _pick(rng, SOURCES),
                "urgency": rng.choices((1, 2, 3), (85, 12, 3))[0],
                "reporter_user_id": None,
                "reporter_resident_id": None,
                "reporter_name": "",
                "reporter_phone_enc": None,
                "reporter_phone_masked": None,
                "lon": Decimal("117.8") + Decimal(rng.randint(0, 99999)) / 1_000_000,
                "lat": Decimal("40.9") + Decimal(rng.randint(0, 99999)) / 1_000_000,
                "address": "",
                "node_id": node_id,
                "node_path": path,
                "state": state,
                "level": rng.choices((1, 2, 3), (10, 30, 60))[0],
                "handling_unit_id": _unit(rng, world, category, path) if dispatched else None,
                "assignee_user_id": rng.choice(workers) if dispatched and workers else None,
                "stage": stage,
                "stage_started_at": created if stage else None,
                "due_at": due,
                "clock_seq": 1 + dispatched * 2,
                "escalated_seq": None,
                "sla_breached": rng.random() < 0.12,
                "sla_remaining_seconds": 3600 if state == "parked" else None,
                "pending": None,
                "pending_hours": None,
                "parked_from": parked_from,
                "rework_count": int(rng.random() < 0.08),
                "extension_count": int(rng.random() < 0.06),
                "supervised": rng.random() < 0.05,
                "supervision_count": 0,
                "merged_into_id": None,
                "me_too_count": 0,
                "rating": rng.choices((None, 5, 4, 3, 2, 1), (50, 30, 10, 5, 3, 2))[0] if state == "closed" else None,
                "rating_comment": "",
                "created_at": created,
                "updated_at": min(now, closed or created),
                "closed_at": closed,
                "version": 1 if not final else 8,
                "dispatched_at": sent,
                "handle_due_at": handle_due,
                "close_due_at": close_due,
                "handled_at": handled,
            }
        )
    return rows


async def world_of(prep: Any) -> dict[str, Any]:
    """The tree, categories, units and staff of the seeded tenant, which the rows point at."""
    from sqlalchemy import func, select

    from core.db.engine import make_engine
    from core.grids.models import GridNode
    from core.identity.models import User
    from plugins.smart_service.models import Category, DispatchRule, Event, HandlingUnit

    engine = make_engine(prep.owner_url)
    tid = prep.tenant_id
    async with engine.connect() as conn:
        nodes = (
            await conn.execute(select(GridNode.id, GridNode.path, GridNode.kind).where(GridNode.tenant_id == tid))
        ).all()
        cats = (
            await conn.execute(
                select(Category.code).where(Category.tenant_id == tid, Category.parent_code.is_not(None))
            )
        ).scalars()
        units = (await conn.execute(select(HandlingUnit.id).where(HandlingUnit.tenant_id == tid))).scalars()
        workers = (
            await conn.execute(
                select(User.id).where(
                    User.tenant_id == tid, User.username.in_(("grid_worker", "community_worker", "grid_leader"))
                )
            )
        ).scalars()
        rules = (
            await conn.execute(
                select(DispatchRule.category_code, DispatchRule.node_path, DispatchRule.unit_id).where(
                    DispatchRule.tenant_id == tid, DispatchRule.active.is_(True)
                )
            )
        ).all()
        demo_events = await conn.scalar(select(func.count()).select_from(Event).where(Event.tenant_id == tid))
        parents = dict(
            (
                await conn.execute(
                    select(Category.code, Category.parent_code).where(
                        Category.tenant_id == tid, Category.parent_code.is_not(None)
                    )
                )
            ).all()
        )
        world = {"cats": list(cats), "units": list(units), "workers": list(workers)}
    await engine.dispose()
    # The dispatch catalogue: a rule names a category, its class (大类) or any (None), in an area.
    rules_of: dict[str | None, list[tuple[str, int]]] = {}
    for code, path, unit_id in rules:
        rules_of.setdefault(code, []).append((path, unit_id))
    unit_of = {
        c: [(p, 2, u) for p, u in rules_of.get(c, [])]
        + [(p, 1, u) for p, u in rules_of.get(parents.get(c), [])]
        + [(p, 0, u) for p, u in rules_of.get(None, [])]
        for c in world["cats"]
    }
    return {
        "grids": [(n.id, n.path) for n in nodes if n.kind == "grid"],
        "upper": [(n.id, n.path) for n in nodes if n.kind in ("community", "village")],
        "categories": world["cats"],
        "units": world["units"],
        "unit_of": unit_of,
        "workers": world["workers"],
        "demo_events": int(demo_events or 0),
        "nodes": len(nodes),
    }


async def fill(prep: Any, world: dict[str, Any], start: int, end: int, seed: int, now: datetime) -> None:
    from sqlalchemy import text

    from core.db.engine import make_engine
    from plugins.smart_service.models import Event

    rng = random.Random(seed + start)
    engine = make_engine(prep.owner_url)
    async with engine.begin() as conn:
        for i in range(start, end, 100_000):
            rows = event_rows(i, min(end, i + 100_000), world, rng, now, prep.tenant_id)
            # Events arrive in time order, so a day's rows lie together in the table, as in production.
            rows.sort(key=lambda r: r["created_at"])
            await bulk_insert(conn, Event.__table__, rows)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE ss_events"))
    await engine.dispose()


async def build_rollups(prep: Any) -> dict[str, Any]:
    """The indicator rollups' pass as the job runs it (app role, RLS), from scratch: rows written
    by COPY carry old ``updated_at``s, as an import's would, so the rollups are forgotten first
    (``rollups.forget``: what a bulk load must do; the pass then rebuilds everything). Then ANALYZE
    of every table."""
    from sqlalchemy import func, select, text

    from core.db.context import Actor, tenant_context
    from core.db.engine import Database, make_engine
    from plugins.smart_service import rollups
    from plugins.smart_service.rollup_models import IndicatorRollup

    db = Database(prep.app_url)
    system = Actor("system", None, "bench")
    try:
        with tenant_context(prep.tenant_id, system):
            async with db.transaction(prep.tenant_id, system) as s:
                await rollups.forget(s)
            async with db.transaction(prep.tenant_id, system) as s:
                done = await rollups.refresh(s)
            async with db.session(prep.tenant_id, system) as s:
                done["rows"] = int(await s.scalar(select(func.count()).select_from(IndicatorRollup)) or 0)
    finally:
        await db.dispose()
    engine = make_engine(prep.owner_url)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return done


@contextlib.contextmanager
def captured(sync_engine: Any) -> Any:
    """The statements (and parameters) the ORM sends meanwhile."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", before)


def stats(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    return {"p50_ms": round(pct(s, 50) / 1e6, 2), "p95_ms": round(pct(s, 95) / 1e6, 2), "n": len(s)}


def plan_notes(plan: list[str]) -> dict[str, Any]:
    seq = [ln.strip() for ln in plan if "Seq Scan on ss_events" in ln]
    idx = sorted({w for ln in plan for w in ln.replace("(", " ").split() if w.startswith("ix_ss_events")})
    return {"seq_scan": bool(seq), "indexes": idx}


async def explain(session: Any, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for sql, params in statements:
        if "ss_events" not in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue
        conn = await session.connection()
        rows = (await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)).all()
        plan = [r[0] for r in rows]
        out.append({"sql": sql, "params": [str(p) for p in (params or ())], "plan": plan, **plan_notes(plan)})
    return out


async def limit(s: Any, timeout_s: float) -> None:
    """A statement timeout for the session's transaction (SET LOCAL: gone with a rollback)."""
    from sqlalchemy import text

    await s.execute(text(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}"))


async def timed(s: Any, fn: Any, runs: int, warmup: int, budget_s: float, timeout_s: float) -> tuple[list[int], int]:
    """``runs`` timings after ``warmup``; a query slower than the budget allows stops after 5 runs.

    A run cancelled by the statement timeout counts as ``timeout_s`` (a lower bound) and is counted.
    """
    from sqlalchemy.exc import DBAPIError

    ns: list[int] = []
    timeouts = 0
    for i in range(warmup + runs):
        t0 = time.perf_counter_ns()
        try:
            await fn()
        except DBAPIError as exc:
            if "statement timeout" not in str(exc) and "canceling statement" not in str(exc):
                raise
            await s.rollback()
            await limit(s, timeout_s)
            timeouts += i >= warmup
        if i >= warmup:
            ns.append(time.perf_counter_ns() - t0)
            if len(ns) >= 5 and sum(ns) > budget_s * 1e9:
                break
    return ns, timeouts


async def measure(
    prep: Any, runs: int, warmup: int, budget_s: float, timeout_s: float, plans_too: bool = True
) -> dict[str, Any]:
    from sqlalchemy import select

    from core.db.base import utcnow
    from core.db.engine import Database
    from core.identity.models import User
    from core.rbac.enforcer import TenantPolicy
    from core.rbac.models import RolePermission
    from core.web.context import RequestContext, load_subject
    from plugins.smart_service import indicators as ind
    from plugins.smart_service import sla
    from plugins.smart_service.routes.staff import VIEW, Filters, _inbox_statement

    db = Database(prep.app_url)
    out: dict[str, Any] = {}
    try:
        for who, username in PERSONAS.items():
            async with db.session(prep.tenant_id) as s:
                user = (await s.execute(select(User).where(User.username == username))).scalar_one()
                rules = (await s.execute(select(RolePermission.role_code, RolePermission.action))).all()
                c = RequestContext(
                    user=user,
                    subject=await load_subject(s, user.id),
                    policy=TenantPolicy([(r[0], r[1]) for r in rules], 0),
                    db=s,
                )
                prefixes = c.scope_prefixes(VIEW)
                now = utcnow()
                stmt = _inbox_statement(c, Filters(), now)
                res: dict[str, Any] = {"prefixes": prefixes, "queries": {}}
                await limit(s, timeout_s)
                calendar = await sla.load_calendar(s)
                today = now.astimezone(calendar.tz).date()
                jobs = _inbox_jobs(s, stmt, res)
                for by in ind.DIMENSIONS:
                    jobs[f"indicators by {by} (30 d)"] = _indicator(s, prefixes, today, 30, by)
                jobs["indicators by area (366 d)"] = _indicator(s, prefixes, today, ind.MAX_RANGE_DAYS, "area")
                for name, fn in jobs.items():
                    ns, timeouts = await timed(s, fn, runs, warmup, budget_s, timeout_s)
                    plans: list[dict[str, Any]] = []
                    if plans_too and name not in ("inbox count", "inbox page"):
                        sync_engine = s.bind.sync_engine if hasattr(s.bind, "sync_engine") else s.bind
                        # The SQL text only (the run may hit the timeout); EXPLAIN prepares it anew (a custom plan).
                        with captured(sync_engine) as seen, contextlib.suppress(Exception):
                            await fn()
                        await s.rollback()
                        await limit(s, 120)
                        plans = await explain(s, list(seen))
                    res["queries"][name] = {**stats(ns), "ns": ns, "timeouts": timeouts, "plans": plans}
                    await s.rollback()
                    await limit(s, timeout_s)
                    if name == "indicators by area (30 d)":
                        res["received_30d"] = -1
                        with contextlib.suppress(Exception):
                            report = await ind.compute(
                                s, prefixes=prefixes, start=today - timedelta(days=29), end=today
                            )
                            res["received_30d"] = report.total.counts["received"]
                        await s.rollback()
                        await limit(s, timeout_s)
            out[who] = res
    finally:
        await db.dispose()
    return out


def _inbox_jobs(s: Any, stmt: Any, res: dict[str, Any]) -> dict[str, Any]:
    """The inbox as the route runs it (paginate: count, then the page), and its two statements alone."""
    from sqlalchemy import func, select

    from core.web.pagination import COUNT_CAP, paginate
    from plugins.smart_service.routes.staff import PER_PAGE

    # The route's count stops at COUNT_CAP (the page says "10,000+").
    count_stmt = select(func.count()).select_from(stmt.order_by(None).limit(COUNT_CAP + 1).subquery())
    page_stmt = stmt.limit(PER_PAGE).offset(0)

    async def inbox() -> None:
        page = await paginate(s, stmt, 1, PER_PAGE, cap=COUNT_CAP)
        res["open_events"] = page.total
        s.expunge_all()

    async def count() -> None:
        await s.scalar(count_stmt)

    async def page() -> None:
        (await s.execute(page_stmt)).scalars().all()
        s.expunge_all()

    return {"inbox": inbox, "inbox count": count, "inbox page": page}


def _indicator(s: Any, prefixes: list[str], today: Any, days: int, by: str) -> Any:
    from plugins.smart_service import indicators as ind

    async def run() -> None:
        await ind.compute(s, prefixes=prefixes, start=today - timedelta(days=days - 1), end=today, by=by)
        s.expunge_all()

    return run


@contextlib.asynccontextmanager
async def kept_database(pg_url: str, name: str, workdir: Path) -> Any:
    """``--keep``: the database ``name``, made and seeded like ``prepared_database``'s when absent,
    else reused with the migrations added since applied; never dropped (filling 1M events takes
    a long while on a small machine). Yields (prepared, whether it was reused)."""
    from sqlalchemy import select, text
    from sqlalchemy.engine import make_url

    from bench.pages import APP_ROLE, Prepared, _seed
    from core.app import load_models
    from core.config import Settings
    from core.db.engine import make_engine
    from core.db.migrate import upgrade
    from core.pluginhost.manager import PluginHost
    from core.tenancy.models import Tenant

    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        exists = bool(await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}):
            await conn.execute(text(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    await admin.dispose()
    owner = make_url(pg_url).set(database=name)
    app = owner.set(username=APP_ROLE, password=None)
    prep = Prepared(
        "postgresql", app.render_as_string(hide_password=False), owner.render_as_string(hide_password=False)
    )
    prep.database = name
    tenant = None
    if exists:
        host = PluginHost()
        load_models(host)
        settings = Settings(
            database_url=prep.app_url, migrate_database_url=prep.owner_url, data_dir=workdir, secret_key="bench"
        )
        await upgrade(settings, host)
        engine = make_engine(prep.owner_url)
        async with engine.connect() as conn:
            tenant = await conn.scalar(select(Tenant.id).where(Tenant.slug == TENANT))
        await engine.dispose()
    if tenant is None:  # new, or an earlier run stopped before the seed was done
        await _seed(prep, workdir)
    else:
        prep.tenant_id = int(tenant)
    yield prep, tenant is not None


async def events_in(prep: Any) -> int:
    from sqlalchemy import func, select

    from core.db.engine import make_engine
    from plugins.smart_service.models import Event

    engine = make_engine(prep.owner_url)
    async with engine.connect() as conn:
        n = await conn.scalar(select(func.count()).select_from(Event).where(Event.tenant_id == prep.tenant_id))
    await engine.dispose()
    return int(n or 0)


async def pass_rollups(prep: Any) -> dict[str, Any]:
    """The job's pass on a reused database (what a running district has had), then ANALYZE."""
    from sqlalchemy import text

    from core.db.context import Actor, tenant_context
    from core.db.engine import Database, make_engine
    from plugins.smart_service import rollups

    db = Database(prep.app_url)
    system = Actor("system", None, "bench")
    try:
        with tenant_context(prep.tenant_id, system):
            async with db.transaction(prep.tenant_id, system) as s:
                done = await rollups.refresh(s)
    finally:
        await db.dispose()
    engine = make_engine(prep.owner_url)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return done


async def ready(prep: Any, reused: bool, size: int, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """Events up to ``size`` (added by COPY when short), the rollups built or passed over, ANALYZE."""
    world = await world_of(prep)
    have = await events_in(prep)
    out: dict[str, Any] = {"reused": reused, "nodes": world["nodes"], "grids": len(world["grids"])}
    if have < size:
        t = time.perf_counter()
        # The bulk rows' numbers follow on from any filled before (ids and numbers are unique).
        done = max(0, have - world["demo_events"])
        await fill(prep, world, done, max(done, size - world["demo_events"]), args.seed, now)
        out["fill_s"] = round(time.perf_counter() - t, 1)
        out["rollups"] = await build_rollups(prep)
    else:
        out["rollups"] = await pass_rollups(prep)
    out["changed_since_pass"] = await touch_recent(prep, size, args.seed)
    out["events"] = await events_in(prep)
    return out


# Events changed per minute in a district of N events a year: N ÷ 365 ÷ 1440 reports, each moved
# about 6 times (accept, dispatch, sign, handle, inspect, close) → 11 a minute at 1M.
CHANGES_PER_MINUTE_PER_EVENT = 6 / 365 / 1440


async def touch_recent(prep: Any, size: int, seed: int) -> int:
    """What a running district has when its dashboard is opened: the events changed since the last
    rollup pass, which trails by its 10-minute overlap and a minute of debounce (11 minutes of
    changes: 125 at 1M, 1 at 10k). Recent open events are handled now (a counted column moves)."""
    from sqlalchemy import text

    from core.db.engine import make_engine

    k = max(1, round(size * CHANGES_PER_MINUTE_PER_EVENT * 11))
    engine = make_engine(prep.owner_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE ss_events SET handled_at = now(), updated_at = now(), version = version + 1"
                " WHERE tenant_id = :t AND id IN (SELECT id FROM ss_events WHERE tenant_id = :t"
                " AND created_at > now() - interval '14 days' ORDER BY md5(id::text || :s) LIMIT :k)"
            ),
            {"t": prep.tenant_id, "k": k, "s": str(seed)},
        )
    await engine.dispose()
    return k


def _round_stats(rounds: list[dict[str, Any]], who: str, name: str) -> dict[str, Any]:
    """Pooled p50/p95 over every round's runs, and the median and spread of the rounds' p95."""
    pooled = [n for r in rounds for n in r[who]["queries"][name]["ns"]]
    per = sorted(r[who]["queries"][name]["p95_ms"] for r in rounds)
    return {
        **stats(pooled),
        "round_p95_median_ms": per[len(per) // 2],
        "round_p95_min_ms": per[0],
        "round_p95_max_ms": per[-1],
        "timeouts": sum(r[who]["queries"][name]["timeouts"] for r in rounds),
        "plans": rounds[0][who]["queries"][name]["plans"],
    }


async def run_queries(args: argparse.Namespace) -> dict[str, Any]:
    """Every size its own database; ``--rounds`` rounds, each measuring every size in turn, so a
    slow spell of the shared machine hits both sides of a ratio."""
    from bench.pages import prepared_database

    results: dict[str, Any] = {"benchmark": "smart_service queries", "database": "postgresql", "sizes": {}}
    results["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    results["rounds"], results["runs_per_round"] = args.rounds, args.runs
    now = datetime.now(UTC)
    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory(prefix="liuzhi-bench-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            preps: dict[int, Any] = {}
            for size in sizes:
                t = time.perf_counter()
                if args.keep:
                    name = f"liuzhi_bench_{args.keep}_{size}"
                    prep, reused = await stack.enter_async_context(kept_database(args.pg_url, name, Path(tmp)))
                else:
                    prep = await stack.enter_async_context(prepared_database("postgresql", args.pg_url, Path(tmp)))
                    reused = False
                info = await ready(prep, reused, size, args, now)
                info["prepare_s"] = round(time.perf_counter() - t, 1)
                preps[size] = prep
                results["sizes"][size] = info
                print(
                    f"{size:>9,} events ({info['events']:,} in {prep.database}, reused {reused}): ready in"
                    f" {info['prepare_s']} s, rollups {info['rollups']}",
                    flush=True,
                )
            rounds: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
            loads = []
            for i in range(args.rounds):
                for size in sizes:
                    rounds[size].append(
                        await measure(preps[size], args.runs, args.warmup, args.budget, args.timeout, plans_too=i == 0)
                    )
                loads.append(round(os.getloadavg()[0], 2))
                print(f"round {i + 1}/{args.rounds} done, load average {loads[-1]}", flush=True)
            results["loadavg_rounds"] = loads
    for size in sizes:
        first = rounds[size][0]
        results["sizes"][size]["users"] = {
            who: {
                "prefixes": r["prefixes"],
                "open_events": r.get("open_events"),
                "received_30d": r.get("received_30d"),
                "queries": {name: _round_stats(rounds[size], who, name) for name in r["queries"]},
            }
            for who, r in first.items()
        }
        print(f"{size:,} events:")
        for who, r in results["sizes"][size]["users"].items():
            print(f"  {who:<11} open {r['open_events']:>7,}  received 30 d {r['received_30d']:>7,}")
            for name, q in r["queries"].items():
                seq = [p for p in q["plans"] if p["seq_scan"]]
                note = f"  SEQ SCAN in {len(seq)} statement(s)" if seq else ""
                note += f"  {q['timeouts']} run(s) hit the timeout" if q["timeouts"] else ""
                print(
                    f"    {name:<30} n {q['n']:>3}  p50 {q['p50_ms']:8.1f}  p95 {q['p95_ms']:8.1f} ms"
                    f"  (rounds' p95 {q['round_p95_min_ms']:.1f}–{q['round_p95_max_ms']:.1f}){note}",
                    flush=True,
                )
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        ratios: dict[str, Any] = {}
        for who, r in results["sizes"][hi]["users"].items():
            ratios[who] = {}
            for name, q in r["queries"].items():
                per = sorted(
                    a[who]["queries"][name]["p95_ms"] / max(b[who]["queries"][name]["p95_ms"], 1e-6)
                    for a, b in zip(rounds[hi], rounds[lo], strict=True)
                )
                ratios[who][name] = {
                    "pooled": round(q["p95_ms"] / results["sizes"][lo]["users"][who]["queries"][name]["p95_ms"], 2),
                    "rounds_median": round(per[len(per) // 2], 2),
                    "rounds_min": round(per[0], 2),
                    "rounds_max": round(per[-1], 2),
                }
        results["ratios_p95"] = ratios
        print(f"p95 ratio {hi:,}/{lo:,} (pooled runs; median of the rounds' ratios, min–max):")
        for who, r in ratios.items():
            for name, x in r.items():
                print(
                    f"  {who:<11} {name:<30} {x['pooled']:5.2f}x  rounds {x['rounds_median']:.2f}"
                    f" ({x['rounds_min']:.2f}–{x['rounds_max']:.2f})"
                )
    return results


# ---- part 2: Open311 POST against a bare handler ------------------------------------------------

O311_URL = "BENCH_O311_DATABASE_URL"
O311_CONF = "BENCH_O311_CONF"  # JSON: tenant_id, node_id, node_path


def audited(tenant: int, obj_type: str, row: dict[str, Any], now: Any) -> dict[str, Any]:
    """The audit row core's listener writes for a created row (bare_open311 writes it by hand)."""
    from core.db.base import new_id

    changes = {
        k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if isinstance(v, Decimal) else v)
        for k, v in row.items()
        if k not in ("tenant_id",)
    }
    return {
        "tenant_id": tenant,
        "id": new_id(),
        "at": now,
        "actor_kind": "token",
        "actor_id": None,
        "actor_name": "Open311: bench",
        "action": f"{obj_type}.create",
        "object_type": obj_type,
        "object_id": str(row["id"]),
        "changes": changes,
    }


def bare_open311() -> Any:
    """The bare baseline: the same writes as the real POST, by hand, under the same role and RLS.

    Parse the form; take the day's number from the tenant's counter (one upsert committed on its
    own, as the real app does on PostgreSQL); then in one transaction bound to the tenant (the RLS
    setting): check the key (active, by its hash), insert the event row, its timeline row, the
    Open311 request row, an audit row for each of the three and the job that tells people of the
    report (the real app queues it in the report's transaction); commit; bring the SLA sweep's slot
    forward to the deadline (the real app's after-commit wake: one autocommit UPDATE); answer the
    same JSON shape. No tenant resolution, category or area lookup, SLA arithmetic, i18n or
    announcement delivery. The side connection sets the tenant once per connection, as
    ``Database.aside`` does."""
    import hashlib

    from litestar import Litestar, Request, Response, post
    from litestar.background_tasks import BackgroundTask
    from litestar.logging import LoggingConfig
    from sqlalchemy import select, text
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from core.audit.models import AuditEntry
    from core.db.base import new_id, utcnow
    from core.db.engine import make_engine
    from core.services.jobs.models import Job, PeriodicRun
    from plugins.smart_service.models import Counter, Event, EventTransition, Open311Key, Open311Request
    from plugins.smart_service.sla_schedule import IDLE, SKEW

    conf = json.loads(os.environ[O311_CONF])
    url = os.environ[O311_URL]
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    aside = (
        make_engine(
            url,
            isolation_level="AUTOCOMMIT",
            connect_args={"server_settings": {"synchronous_commit": "off"}, "timeout": 5},
        )
        if pg
        else None
    )
    tenant = conf["tenant_id"]
    keys, counters = Open311Key.__table__, Counter.__table__
    events, lines, requests, audit = (
        Event.__table__,
        EventTransition.__table__,
        Open311Request.__table__,
        AuditEntry.__table__,
    )
    jobs, slots = Job.__table__, PeriodicRun.__table__
    set_tenant = text("SELECT set_config('liuzhi.tenant_id', :t, true)")

    def take(key: str) -> Any:
        return (
            (pg_insert if pg else sqlite_insert)(counters)
            .values(tenant_id=tenant, id=new_id(), key=key, value=1)
            .on_conflict_do_update(index_elements=["tenant_id", "key"], set_={"value": counters.c.value + 1})
            .returning(counters.c.value)
        )

    async def on_side(conn: Any) -> Any:
        if not conn.info.get("tenant_set"):  # once per connection, as Database.aside does
            await conn.execute(text("SELECT set_config('liuzhi.tenant_id', :t, false)"), {"t": str(tenant)})
            conn.info["tenant_set"] = True
        return conn

    async def number(day: str) -> int:
        if aside is None:
            return 0  # SQLite: taken inside the transaction below
        async with aside.connect() as conn:
            return int(await (await on_side(conn)).scalar(take(f"event:{day}")))

    async def wake(due: Any) -> None:
        """The SLA sweep's slot brought forward to ``due`` (never later), after the commit; like the
        real app (``sla_schedule.heard``), not when ``due`` is further away than the slot can be."""
        if due > utcnow() + IDLE + SKEW:
            return
        stmt = (
            slots.update()
            .where(slots.c.tenant_id == tenant, slots.c.name == "smart_service.sla", slots.c.next_run_at > due)
            .values(next_run_at=due)
        )
        if aside is None:
            async with engine.begin() as conn:
                await conn.execute(stmt)
            return
        async with aside.connect() as conn:
            await (await on_side(conn)).execute(stmt)

    @post("/open311/v2/requests.json", status_code=200)
    async def create(request: Request) -> Response[bytes]:
        form = await request.form()
        now = utcnow()
        day = now.strftime("%Y%m%d")
        description = str(form.get("description") or "").strip()
        digest = hashlib.sha256(str(form.get("api_key") or "").strip().encode()).hexdigest()
        n = await number(day)
        async with engine.begin() as conn:
            if pg:
                await conn.execute(set_tenant, {"t": str(tenant)})
            key = (
                await conn.execute(
                    select(keys.c.id, keys.c.name).where(
                        keys.c.tenant_id == tenant, keys.c.key_hash == digest, keys.c.active.is_(True)
                    )
                )
            ).first()
            if key is None:
                return Response(b"[]", status_code=403, media_type="application/json")
            if not pg:
                n = int(await conn.scalar(take(f"event:{day}")))
            number_ = f"SL-{day}-{n:04d}"
            event = {
                "tenant_id": tenant,
                "id": new_id(),
                "number": number_,
                "title": description.splitlines()[0][:60] if description else "Open311",
                "description": description,
                "category_code": str(form.get("service_code") or ""),
                "source": "resident",
                "urgency": conf["urgency"],
                "reporter_name": f"Open311: {key.name}",
                "lon": Decimal(str(form.get("long"))),
                "lat": Decimal(str(form.get("lat"))),
                "address": "",
                "node_id": conf["node_id"],
                "node_path": conf["node_path"],
                "state": "reported",
                "level": 3,
                "stage": "accept",
                "stage_started_at": now,
                "due_at": now + timedelta(hours=conf["accept_hours"]),
                "clock_seq": 1,
                "sla_breached": False,
                "rework_count": 0,
                "extension_count": 0,
                "supervised": False,
                "supervision_count": 0,
                "me_too_count": 0,
                "rating_comment": "",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            line = {
                "tenant_id": tenant,
                "id": new_id(),
                "event_id": event["id"],
                "from_state": None,
                "to_state": "reported",
                "action": "report",
                "actor_user_id": None,
                "actor_name": f"Open311: {key.name}",
                "note": "",
                "at": now,
                "photos": [],
                "data": {"source": "resident", "number": number_},
            }
            token = secrets.token_hex(16)
            req = {
                "tenant_id": tenant,
                "id": new_id(),
                "event_id": event["id"],
                "key_id": key.id,
                "token": token,
                "media_url": "",
                "attributes": {},
                "email_enc": None,
                "device_id": "",
                "account_id": "",
                "created_at": now,
            }
            await conn.execute(events.insert(), event)
            await conn.execute(lines.insert(), line)
            await conn.execute(requests.insert(), req)
            await conn.execute(
                audit.insert(),
                [
                    audited(tenant, "ss_events", event, now),
                    audited(tenant, "ss_event_transitions", line, now),
                    audited(tenant, "ss_open311_requests", req, now),
                ],
            )
            await conn.execute(
                jobs.insert(),
                {
                    "id": new_id(),
                    "tenant_id": tenant,
                    "name": "smart_service.notify",
                    "payload": {"event_id": event["id"], "action": "report", "actor_user_id": None},
                    "run_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                },
            )
        body = json.dumps([{"service_request_id": number_, "token": token, "service_notice": "", "account_id": None}])
        # After the answer, as the real app's after-commit delivery does it.
        return Response(body.encode(), media_type="application/json", background=BackgroundTask(wake, event["due_at"]))

    async def dispose() -> None:
        await engine.dispose()
        if aside is not None:
            await aside.dispose()

    return Litestar(
        [create],
        logging_config=LoggingConfig(log_exceptions="always"),
        on_shutdown=[dispose],
        signature_namespace={"Request": Request, "Response": Response},  # annotations are strings here
    )


async def prepare_open311(prep: Any) -> dict[str, Any]:
    """The key (ensure_api_key), a leaf category and a point inside a grid that has a boundary."""
    from sqlalchemy import select

    from core.db.engine import Database
    from core.grids.geo import contains as _contains
    from core.grids.models import GridNode
    from plugins.smart_service.lifecycle import STAGE_OF, State
    from plugins.smart_service.models import Category
    from plugins.smart_service.open311_keys import ensure_api_key
    from plugins.smart_service.routes.open311 import locate_node
    from plugins.smart_service.services.common import _limit

    db = Database(prep.owner_url)
    try:
        async with db.session(prep.tenant_id) as s:
            await ensure_api_key(s, OPEN311_KEY, "bench")
            # The demo's boundaries ship as a file loaded with its residents (which need a vault):
            # the grids' boundaries are what intake locates a report in, so they are loaded here.
            from core.imports.bundle import _boundaries

            await _boundaries(
                s, Path(__file__).resolve().parent.parent / "tenants" / TENANT / "demo" / "boundaries.geojson"
            )
            await s.commit()
            category = (
                await s.execute(
                    select(Category)
                    .where(Category.parent_code.is_not(None), Category.active.is_(True))
                    .order_by(Category.position)
                    .limit(1)
                )
            ).scalar_one()
            code, urgency = category.code, category.urgency
            # The acceptance deadline the real app sets (the bare one adds it without the working
            # calendar: the same instant during working hours, when the figures are taken).
            accept_hours = _limit(category, STAGE_OF[State.REPORTED], urgency)
            lon = lat = None
            grids = await s.execute(select(GridNode).where(GridNode.boundary.is_not(None), GridNode.kind == "grid"))
            for node in grids.scalars():
                ring = _first_ring(node.boundary)
                if ring:
                    x = sum(p[0] for p in ring) / len(ring)
                    y = sum(p[1] for p in ring) / len(ring)
                    if _contains(node.boundary, x, y):
                        lon, lat = round(x, 6), round(y, 6)
                        break
            node = await locate_node(s, lon, lat)
            assert node is not None
            return {
                "service_code": code,
                "urgency": urgency,
                "accept_hours": accept_hours,
                "lon": lon,
                "lat": lat,
                "node_id": node.id,
                "node_path": node.path,
            }
    finally:
        await db.dispose()


def _first_ring(boundary: Any) -> list[Any]:
    from core.grids import geo

    for polygon in geo.polygons(boundary):
        return list(polygon[0])
    return []


WRK_POST = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk_post(url: str, body: str, seconds: float, concurrency: int) -> Any:
    from bench.pages import Load

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_POST)
        script = fh.name
    try:
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", script, url]
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_BODY": body},
            timeout=seconds + 60,
            check=True,
        )
    finally:
        os.unlink(script)
    d = json.loads(
        next(ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")).removeprefix("BENCH_JSON ")
    )
    return Load(
        d["requests"], d["duration_us"] / 1e6, d["errors"], d["p50_us"] / 1e3, d["p95_us"] / 1e3, d["p99_us"] / 1e3
    )


async def python_post(url: str, body: str, seconds: float, concurrency: int) -> Any:
    import httpx

    from bench.pages import Load, _percentile

    lat: list[float] = []
    errors = 0
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.perf_counter()

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < started + seconds:
                t0 = time.perf_counter()
                try:
                    ok = (await client.post(url, content=body, headers=headers)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                lat.append(time.perf_counter() - t0)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    lat.sort()
    ms = [x * 1000 for x in lat]
    return Load(len(lat), elapsed, errors, _percentile(ms, 50), _percentile(ms, 95), _percentile(ms, 99))


class LockSampler:
    """Samples pg_stat_activity for the bench database every ``every`` seconds while a load runs:
    of the samples where a backend was active, the share waiting on a lock (``wait_event_type =
    'Lock'``), and the share of connections idle in a transaction."""

    def __init__(self, url: str | None, database: str | None, every: float = 0.01) -> None:
        self.url, self.database, self.every = url, database, every
        self.active = self.lock = self.idle_tx = self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LockSampler:
        if self.url and self.database:
            self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        from sqlalchemy import text

        from core.db.engine import make_engine

        engine = make_engine(self.url, pool_size=1, max_overflow=0)
        query = text(
            "SELECT state, wait_event_type FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        try:
            async with engine.connect() as conn:
                while True:
                    rows = (await conn.execute(query, {"db": self.database})).all()
                    await conn.rollback()
                    self.samples += 1
                    for state, wait in rows:
                        if state == "active":
                            self.active += 1
                            self.lock += wait == "Lock"
                        elif state == "idle in transaction":
                            self.idle_tx += 1
                    await asyncio.sleep(self.every)
        finally:
            await engine.dispose()

    def figures(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "active_backend_samples": self.active,
            "lock_wait_share": round(self.lock / self.active, 4) if self.active else None,
            "idle_in_transaction_per_sample": round(self.idle_tx / self.samples, 2) if self.samples else None,
        }


async def load(
    tool: str, url: str, body: str, seconds: float, concurrency: int, pid: int, db: str | None, owner: str | None = None
) -> Any:
    from bench.pages import _backends, _cpu

    before = {p: _cpu(p) for p in [pid, *_backends(db)]}
    async with LockSampler(owner, db) as sampler:
        if tool == "wrk":
            r = await asyncio.to_thread(wrk_post, url, body, seconds, concurrency)
        else:
            r = await python_post(url, body, seconds, concurrency)
    r.cpu_app_s = _cpu(pid) - before[pid]
    r.cpu_db_s = sum(_cpu(p) - before.get(p, 0.0) for p in _backends(db))
    r.locks = sampler.figures()
    return r


def _summary(rs: list[Any]) -> dict[str, Any]:
    """Median and spread of the rounds' requests/s; CPU per request and lock waits over all rounds."""
    rps = sorted(r.rps for r in rs)
    n = sum(r.requests for r in rs)
    active = sum(r.locks["active_backend_samples"] for r in rs)
    lock = sum((r.locks["lock_wait_share"] or 0) * r.locks["active_backend_samples"] for r in rs)
    return {
        "requests": n,
        "rps_median": round(rps[len(rps) // 2], 1),
        "rps_min": round(rps[0], 1),
        "rps_max": round(rps[-1], 1),
        "rounds_rps": [round(r.rps, 1) for r in rs],
        "p50_ms": round(sorted(r.p50_ms for r in rs)[len(rs) // 2], 1),
        "p95_ms": round(sorted(r.p95_ms for r in rs)[len(rs) // 2], 1),
        "errors": sum(r.errors for r in rs),
        "app_cpu_ms_per_request": round(1000 * sum(r.cpu_app_s for r in rs) / n, 2) if n else None,
        "db_cpu_ms_per_request": round(1000 * sum(r.cpu_db_s for r in rs) / n, 2) if n else None,
        "lock_wait_share": round(lock / active, 4) if active else None,
        "idle_in_transaction_per_sample": [r.locks["idle_in_transaction_per_sample"] for r in rs],
    }


async def run_open311(kind: str, args: argparse.Namespace, tool: str) -> dict[str, Any]:
    import httpx
    from sqlalchemy import func, select, text

    from bench.pages import prepared_database, serve, server_env
    from core.db.engine import make_engine
    from plugins.smart_service.models import Event

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="liuzhi-bench-") as tmp:
        workdir = Path(tmp)
        async with prepared_database(kind, args.pg_url, workdir) as prep:
            conf = await prepare_open311(prep)
            form = {
                "api_key": OPEN311_KEY,
                "service_code": conf["service_code"],
                "lat": str(conf["lat"]),
                "long": str(conf["lon"]),
                "description": "井盖缺失，晚上看不见，有危险。\n位置在小区东门外人行道上。",
            }
            body = httpx.QueryParams(form).__str__()
            real_env = {
                "LIUZHI_DATABASE_URL": prep.app_url,
                "LIUZHI_DATA_DIR": str(workdir),
                "LIUZHI_SECRET_KEY": "bench-" + secrets.token_hex(8),
                # The per-key limit (60/min by default) would answer most of the load with 429: the
                # bench measures intake, as a district's 12345 gateway with its limit raised would see it.
                "LIUZHI_OPEN311_PER_MINUTE": "0",
            }
            if kind == "postgresql":
                real_env["LIUZHI_MIGRATE_DATABASE_URL"] = prep.owner_url
            # The baseline connects as the real app does: the non-owner role, under row-level security.
            bare_env = {O311_URL: prep.app_url, O311_CONF: json.dumps({**conf, "tenant_id": prep.tenant_id})}
            path = f"/open311/v2/requests.json?jurisdiction_id={TENANT}"
            owner = prep.owner_url if kind == "postgresql" else None
            with (
                serve("real", "bench._server:real", server_env(real_env), workdir) as real,
                serve("bare", "bench.smart_service:bare_open311", server_env(bare_env), workdir) as bare,
            ):
                targets = {"open311": (real, real.base + path), "bare": (bare, bare.base + "/open311/v2/requests.json")}
                async with httpx.AsyncClient() as client:
                    for name, (_server, url) in targets.items():
                        r = await client.post(
                            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
                        )
                        if r.status_code != 200 or "service_request_id" not in r.text:
                            raise RuntimeError(f"{name}: {r.status_code} {r.text[:300]}")
                        print(f"  {kind} {name} answers: {r.text[:160]}", file=sys.stderr)
                for server, url in targets.values():  # warm-up
                    await load(tool, url, body, args.warmup, max(args.concurrency), server.proc.pid, None)
                if kind == "postgresql":  # the planner sees the tables as filled
                    engine = make_engine(prep.owner_url, isolation_level="AUTOCOMMIT")
                    async with engine.connect() as conn:
                        await conn.execute(text("ANALYZE"))
                    await engine.dispose()
                runs: dict[int, dict[str, list[Any]]] = {c: {name: [] for name in targets} for c in args.concurrency}
                for rnd in range(args.rounds):
                    for c in args.concurrency:
                        # Side by side: each round runs both targets at each concurrency, in turn.
                        for name, (server, url) in targets.items():
                            r = await load(tool, url, body, args.seconds, c, server.proc.pid, prep.database, owner)
                            runs[c][name].append(r)
                            print(
                                f"  {kind} round {rnd + 1} c={c}: {name:<8} {r.rps:8.1f} req/s, {r.errors} errors,"
                                f" lock waits {r.locks['lock_wait_share']}",
                                file=sys.stderr,
                            )
                if any(r.errors for by in runs.values() for rs in by.values() for r in rs):
                    RESULTS.mkdir(exist_ok=True)
                    for server in (real, bare):
                        shutil.copyfile(server.log, RESULTS / f"open311-{kind}-{server.name}.log")
            engine = make_engine(prep.owner_url)
            async with engine.connect() as conn:
                events = await conn.scalar(select(func.count()).select_from(Event.__table__))
            await engine.dispose()
    by_concurrency = {}
    for c, by in runs.items():
        targets_out = {name: _summary(rs) for name, rs in by.items()}
        o, b = targets_out["open311"], targets_out["bare"]
        by_concurrency[str(c)] = {
            "targets": targets_out,
            "ratio_rps_median": round(o["rps_median"] / b["rps_median"], 3) if b["rps_median"] else None,
            "ratio_rps_rounds": [
                round(x.rps / y.rps, 3) if y.rps else None for x, y in zip(by["open311"], by["bare"], strict=True)
            ],
            "ratio_cpu": round(o["app_cpu_ms_per_request"] / b["app_cpu_ms_per_request"], 2)
            if o["app_cpu_ms_per_request"] and b["app_cpu_ms_per_request"]
            else None,
        }
    return {
        "database": kind,
        "tool": tool,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "events_after": events,
        "by_concurrency": by_concurrency,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("queries", "open311", "both"), default="both")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT), help="a PostgreSQL superuser URL")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="events in the database")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured runs per query (queries part)")
    ap.add_argument("--budget", type=float, default=4.0, help="seconds per query before stopping at >= 5 runs")
    ap.add_argument("--timeout", type=float, default=3.0, help="statement timeout (s); such a run counts as this")
    ap.add_argument("--seed", type=int, default=20261)
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both", help="open311 part")
    ap.add_argument("--seconds", type=float, default=10.0, help="open311: seconds per target and round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup-seconds", dest="warmup_s", type=float, default=2.0)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8], help="open311: clients, each in turn")
    ap.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    ap.add_argument(
        "--keep",
        metavar="NAME",
        help="queries: keep each size's database as liuzhi_bench_NAME_<size> and reuse it next time (no refill)",
    )
    args = ap.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    meta = {"python": platform.python_version(), "cpus": os.cpu_count()}
    if args.part in ("queries", "both"):
        started = time.perf_counter()
        res = asyncio.run(run_queries(args))
        res.update(meta, runtime_s=round(time.perf_counter() - started, 1), peak_rss_mb=round(rss_mb()))
        path = RESULTS / f"smart_service-queries-{stamp}.json"
        path.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
        print(f"queries: {res['runtime_s']} s, peak RSS {res['peak_rss_mb']} MB, written {path}", flush=True)
    if args.part in ("open311", "both"):
        tool = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
        kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
        started = time.perf_counter()
        out = {"benchmark": "smart_service open311", **meta, "runs": []}
        for kind in kinds:
            o311 = argparse.Namespace(**{**vars(args), "warmup": args.warmup_s})
            r = asyncio.run(run_open311(kind, o311, tool))
            out["runs"].append(r)
            print(
                f"{kind}: POST requests.json, {tool}, {args.seconds:g} s x {args.rounds} rounds,"
                f" load {r['loadavg_before']} → {r['loadavg_after']}"
            )
            for c, by in r["by_concurrency"].items():
                for name, t in by["targets"].items():
                    print(
                        f"  c={c:<2} {name:<8} {t['rps_median']:7.1f} req/s ({t['rps_min']}–{t['rps_max']})"
                        f"  p95 {t['p95_ms']:7.1f} ms  errors {t['errors']}  app CPU {t['app_cpu_ms_per_request']}"
                        f" ms/req  db CPU {t['db_cpu_ms_per_request']}  lock waits {t['lock_wait_share']}"
                    )
                print(
                    f"  c={c:<2} open311/bare = {by['ratio_rps_median']} of the requests/s (rounds"
                    f" {by['ratio_rps_rounds']}); {by['ratio_cpu']}x the app CPU per request"
                )
        out["runtime_s"] = round(time.perf_counter() - started, 1)
        path = RESULTS / f"smart_service-open311-{stamp}.json"
        path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        print(f"open311: {out['runtime_s']} s, written {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
