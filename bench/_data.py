"""Shared by bench/authz.py and bench/residents.py: a fresh PostgreSQL or SQLite database made by
the migrations (dropped afterwards), a synthetic territory tree, and fast bulk loading.

Rows are written by the database owner (the superuser on PostgreSQL, to whom RLS does not apply)
with Core executemany or asyncpg COPY; the measured queries then run as the app would run them.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import secrets
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: bench/ is sys.path[0], not the repo
    sys.path.insert(0, str(REPO_ROOT))

RESULTS = HERE / "results"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
APP_ROLE = "liuzhi_app_bench"
TENANT_ID = 1
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Fresh:
    kind: str
    app_url: str  # a non-owner role under RLS on PostgreSQL, as in production
    owner_url: str
    name: str


@contextlib.asynccontextmanager
async def fresh_database(kind: str, pg_url: str, workdir: Path, tag: str) -> AsyncIterator[Fresh]:
    """Schema through core.db.migrate.upgrade, one tenant row; the database is dropped at the end."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from core.db.engine import make_engine

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'{tag}.sqlite3'}"
        fresh = Fresh(kind, url, url, str(workdir / f"{tag}.sqlite3"))
        await _schema(fresh, workdir)
        yield fresh
        return
    name = f"liuzhi_bench_{tag}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}):
            await conn.execute(text(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    await admin.dispose()
    owner = make_url(pg_url).set(database=name)
    app = owner.set(username=APP_ROLE, password=None)
    fresh = Fresh(kind, app.render_as_string(hide_password=False), owner.render_as_string(hide_password=False), name)
    try:
        await _schema(fresh, workdir)
        yield fresh
    finally:
        admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _schema(fresh: Fresh, workdir: Path) -> None:
    from core.app import load_models
    from core.config import Settings
    from core.db.engine import make_engine
    from core.db.migrate import upgrade
    from core.pluginhost.manager import PluginHost
    from core.tenancy.models import Tenant

    settings = Settings(
        database_url=fresh.app_url,
        migrate_database_url=None if fresh.kind == "sqlite" else fresh.owner_url,
        data_dir=workdir,
        secret_key="bench",
    )
    host = PluginHost()
    load_models(host)
    await upgrade(settings, host)
    engine = make_engine(fresh.owner_url)
    async with engine.begin() as conn:
        await conn.execute(
            Tenant.__table__.insert(),
            [
                {
                    "id": TENANT_ID,
                    "slug": "bench",
                    "name_zh": "基准区",
                    "name_en": "Bench",
                    "locale": "zh_Hans",
                    "status": "active",
                    "terminology": {},
                    "branding": {},
                    "policy_version": 0,
                    "created_at": NOW,
                }
            ],
        )
    await engine.dispose()


# ---- the territory tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    kind: str
    path: str
    depth: int


def make_tree(fanout: Sequence[tuple[str, int]]) -> list[Node]:
    """District root, then ``fanout`` levels, e.g. [("street", 10), ("community", 10), …]; ids 1…n."""
    root = Node(1, None, "district", "/1/", 0)
    nodes, level = [root], [root]
    for kind, n in fanout:
        nxt = []
        for parent in level:
            for _ in range(n):
                nid = len(nodes) + 1
                node = Node(nid, parent.id, kind, f"{parent.path}{nid}/", parent.depth + 1)
                nodes.append(node)
                nxt.append(node)
        level = nxt
    return nodes


def node_rows(nodes: Iterable[Node]) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": TENANT_ID,
            "id": n.id,
            "parent_id": n.parent_id,
            "code": f"n{n.id}",
            "kind": n.kind,
            "name": f"{n.kind}{n.id}",
            "name_en": "",
            "path": n.path,
            "depth": n.depth,
            "boundary": None,
            "defined": False,  # NOT NULL without a server default: COPY must name it
        }
        for n in nodes
    ]


async def bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]], batch: int = 10_000) -> None:
    """PostgreSQL: asyncpg COPY (the fastest path in); SQLite: Core executemany in batches."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = (await conn.get_raw_connection()).driver_connection
        columns = list(rows[0])
        for i in range(0, len(rows), 100_000):
            records = [tuple(r[c] for c in columns) for r in rows[i : i + 100_000]]
            await raw.copy_records_to_table(table.name, records=records, columns=columns)
        return
    for i in range(0, len(rows), batch):
        await conn.execute(table.insert(), rows[i : i + batch])


def rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))]


async def spread_slots(owner_url: str) -> dict[str, float]:
    """The periodic slots of the districts bench/pages.add_tenants added (slugs x…) as a running fleet
    has them: spread over each job's horizon — the handler module's ``IDLE`` when the job moves its
    own slot, else its ``every_seconds`` — rather than all due at once. Returns the horizons (s)."""
    from sqlalchemy import select

    from core.app import load_models
    from core.db.base import new_id
    from core.db.engine import make_engine
    from core.pluginhost.manager import PluginHost
    from core.services.jobs.models import PeriodicRun
    from core.services.jobs.runner import JobRunner
    from core.tenancy.models import Tenant

    host = PluginHost()
    load_models(host)
    periodic = [s for s in JobRunner(None, host).specs.values() if s.every_seconds]  # type: ignore[arg-type]
    horizon = {}
    for spec in periodic:
        idle = getattr(sys.modules.get(spec.handler.__module__), "IDLE", None)
        horizon[spec.name] = idle.total_seconds() if isinstance(idle, timedelta) else float(spec.every_seconds or 60)
    engine = make_engine(owner_url)
    rng = random.Random(17)  # the same spread every run
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        added = (await conn.execute(select(Tenant.id).where(Tenant.slug.like("x%")))).scalars().all()
        rows = [
            {
                "id": new_id(),
                "tenant_id": t,
                "name": name,
                "next_run_at": now + timedelta(seconds=rng.uniform(0, h)),
                "last_run_at": now - timedelta(seconds=rng.uniform(0, h)),
            }
            for t in added
            for name, h in horizon.items()
        ]
        if rows:
            await bulk_insert(conn, PeriodicRun.__table__, rows)
    await engine.dispose()
    return horizon
