"""党建领治: the district 双报到 overview (per community: units, members, hours served this year,
members at the hours target) at the seed's size (1,580 members) and at 100× (158,000).

    .venv/bin/python bench/party_leadership.py                              # 1× and 100×, PostgreSQL
    .venv/bin/python bench/party_leadership.py --scales 1 100 --runs 30

A fresh PostgreSQL database is made by the migrations, tenants/ applied and the demo seeded
(bench/pages.py's ``prepared_database``): the party demo is the seed's size. For 100×, members,
units and their 服务记录卡 lines are added by COPY in the same proportions (members spread over the
28 communities, ~5 staff lines each over this year and last) up to 158,000 members; then
VACUUM ANALYZE. As the district admin (the demo ``admin``, scope: the district), in a tenant-bound
session as the non-owner app role under row-level security, it times after warm-up:

- overview   ``figures.overview`` — what /party/ runs (the ORM statements: a UNION of activity
             minutes and staff lines per member, grouped per community, plus unit counts and the
             community list);
- baseline   the same figures by one hand-written SQL statement over the same tables in the same
             session (same role, same RLS, same tenant), no ORM.

It reports p50/p95 (ms) and the spread (min–max) over ``--runs`` rounds (at least 5), the ratio
overview/baseline, and CPU per call: the bench process (time.process_time, the app's share) and the
database backends serving the database (/proc). Benchmarks only report: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import RESULTS, bulk_insert, pct

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SEED_MEMBERS = 1580
ID_BASE = 10**9  # bulk rows' ids: far below new_id()'s time-based ids

BASELINE_SQL = """
WITH lines AS (
    SELECT m.id AS member_id, s.minutes
      FROM pl_members m
      JOIN activity_signups s ON s.user_id = m.user_id
      JOIN activities a ON a.id = s.activity_id
     WHERE m.node_path >= :lo AND m.node_path < :hi AND s.minutes IS NOT NULL
       AND a.source = 'party_leadership' AND a.starts_at >= :since AND a.starts_at < :until
    UNION ALL
    SELECT r.member_id, r.minutes
      FROM pl_service_records r JOIN pl_members m ON m.id = r.member_id
     WHERE m.node_path >= :lo AND m.node_path < :hi AND r.served_on >= :d0 AND r.served_on < :d1
), served AS (
    SELECT member_id, sum(minutes) AS total FROM lines GROUP BY member_id
), per_community AS (
    SELECT m.node_path, count(m.id) AS members, coalesce(sum(sv.total), 0) AS minutes,
           sum(CASE WHEN sv.total >= :target THEN 1 ELSE 0 END) AS at_target
      FROM pl_members m LEFT JOIN served sv ON sv.member_id = m.id
     WHERE m.node_path >= :lo AND m.node_path < :hi
     GROUP BY m.node_path
), units AS (
    SELECT node_path, count(*) AS n FROM pl_units WHERE node_path >= :lo AND node_path < :hi GROUP BY node_path
)
SELECT g.id, g.name, g.path, coalesce(u.n, 0), coalesce(p.members, 0), coalesce(p.minutes, 0), coalesce(p.at_target, 0)
  FROM grid_nodes g
  LEFT JOIN per_community p ON p.node_path = g.path
  LEFT JOIN units u ON u.node_path = g.path
 WHERE g.path >= :lo AND g.path < :hi AND g.kind IN ('community', 'village')
   AND (p.members IS NOT NULL OR u.n IS NOT NULL)
 ORDER BY g.path
"""


async def grow(prep: Any, scale: int) -> dict[str, int]:
    """Add members, units and service lines by COPY until the district has ``scale`` × the seed's."""
    from sqlalchemy import select, text

    from core.db.engine import make_engine
    from core.grids.models import GridNode
    from plugins.party_leadership.models import Member, ServiceRecord, Unit

    engine = make_engine(prep.owner_url)
    rng = random.Random(scale)
    year = datetime.now(UTC).year
    async with engine.begin() as conn:
        await conn.execute(text("SELECT set_config('liuzhi.tenant_id', :t, true)"), {"t": str(prep.tenant_id)})
        have = await conn.scalar(
            select(text("count(*)")).select_from(Member.__table__).where(Member.tenant_id == prep.tenant_id)
        )
        communities = (
            await conn.execute(
                select(GridNode.id, GridNode.path).where(
                    GridNode.tenant_id == prep.tenant_id, GridNode.kind == "community"
                )
            )
        ).all()
        target = SEED_MEMBERS * scale
        add = max(0, target - int(have or 0))
        next_id = ID_BASE + scale * 10**7
        units, members, lines = [], [], []
        unit_ids: dict[str, list[int]] = {}
        for i in range(max(0, 52 * scale - 52)):
            node_id, path = communities[i % len(communities)]
            next_id += 1
            units.append(
                {
                    "tenant_id": prep.tenant_id,
                    "id": next_id,
                    "name": f"驻区单位{i:06d}",
                    "party_org": "",
                    "organisation_id": None,
                    "node_id": node_id,
                    "node_path": path,
                    "contact_name": "",
                    "contact_user_id": None,
                    "reported_on": date(year - 1, 3, 1),
                    "receipt_document_id": None,
                    "created_at": datetime(year - 1, 3, 1, tzinfo=UTC),
                }
            )
            unit_ids.setdefault(path, []).append(next_id)
        for i in range(add):
            node_id, path = communities[i % len(communities)]
            next_id += 1
            member_id = next_id
            members.append(
                {
                    "tenant_id": prep.tenant_id,
                    "id": member_id,
                    "name": f"党员{i:06d}",
                    "user_id": None,
                    "resident_id": None,
                    "unit_id": rng.choice(unit_ids[path]) if unit_ids.get(path) else None,
                    "branch": "",
                    "node_id": node_id,
                    "node_path": path,
                    "reported_on": date(year - 1, 3, 1),
                    "receipt_document_id": None,
                    "created_at": datetime(year - 1, 3, 1, tzinfo=UTC),
                }
            )
            for k in range(5):
                next_id += 1
                served = date(year - (k % 2), 1 + rng.randrange(11), 1 + rng.randrange(28))
                lines.append(
                    {
                        "tenant_id": prep.tenant_id,
                        "id": next_id,
                        "member_id": member_id,
                        "post_id": None,
                        "served_on": served,
                        "minutes": rng.choice((120, 180, 240, 600)),
                        "description": "值守",
                        "entered_by": None,
                        "created_at": datetime(year, 1, 1, tzinfo=UTC),
                    }
                )
        await bulk_insert(conn, Unit.__table__, units)
        await bulk_insert(conn, Member.__table__, members)
        await bulk_insert(conn, ServiceRecord.__table__, lines)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("pl_members", "pl_units", "pl_service_records", "activity_signups", "activities", "grid_nodes"):
            await conn.execute(text(f"VACUUM ANALYZE {table}"))
    await engine.dispose()
    return {"members": int(have or 0) + add, "service_lines_added": len(lines), "units_added": len(units)}


async def measure(prep: Any, runs: int, warmup: int) -> dict[str, Any]:
    from sqlalchemy import select, text

    from bench.pages import _backends, _cpu
    from core.db.engine import Database
    from core.grids.models import GridNode
    from core.rbac.scope import prefix_range
    from plugins.party_leadership import figures, rules

    db = Database(prep.app_url)
    year = datetime.now(UTC).year
    out: dict[str, Any] = {}
    try:
        async with db.session(prep.tenant_id) as s:
            root = (await s.execute(select(GridNode).where(GridNode.code == "sl"))).scalar_one()
            lo, hi = prefix_range(root.path)
            since, until = rules.year_bounds(year)
            params = {
                "lo": lo,
                "hi": hi,
                "since": since,
                "until": until,
                "d0": date(year, 1, 1),
                "d1": date(year + 1, 1, 1),
                "target": 50 * 60,
            }

            async def overview() -> int:
                return len(await figures.overview(s, [root.path], year, 50))

            async def baseline() -> int:
                return len((await s.execute(text(BASELINE_SQL), params)).all())

            assert await overview() == await baseline(), "the two do not count the same communities"
            for name, fn in (("overview", overview), ("baseline", baseline)):
                for _ in range(warmup):
                    await fn()
                backends = _backends(prep.database)
                cpu_db0 = sum(_cpu(p) for p in backends)
                cpu_app0 = time.process_time()
                ns = []
                for _ in range(runs):
                    t0 = time.perf_counter_ns()
                    await fn()
                    ns.append(time.perf_counter_ns() - t0)
                cpu_app = time.process_time() - cpu_app0
                cpu_db = sum(_cpu(p) for p in _backends(prep.database)) - cpu_db0
                ms = sorted(n / 1e6 for n in ns)
                out[name] = {
                    "runs": len(ms),
                    "p50_ms": round(pct(ms, 50), 2),
                    "p95_ms": round(pct(ms, 95), 2),
                    "min_ms": round(ms[0], 2),
                    "max_ms": round(ms[-1], 2),
                    "app_cpu_ms_per_call": round(1000 * cpu_app / len(ms), 2),
                    "db_cpu_ms_per_call": round(1000 * cpu_db / len(ms), 2),
                }
        out["ratio_p50"] = round(out["overview"]["p50_ms"] / out["baseline"]["p50_ms"], 2)
        out["ratio_p95"] = round(out["overview"]["p95_ms"] / out["baseline"]["p95_ms"], 2)
    finally:
        await db.dispose()
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from bench.pages import prepared_database

    results: dict[str, Any] = {"python": platform.python_version(), "scales": {}}
    with tempfile.TemporaryDirectory(prefix="liuzhi-bench-party-") as d:
        async with prepared_database("postgresql", args.pg_url, Path(d)) as prep:
            for scale in sorted(args.scales):
                t0 = time.monotonic()
                sizes = await grow(prep, scale)
                grown = round(time.monotonic() - t0, 1)
                figures = await measure(prep, max(args.runs, 5), args.warmup)
                results["scales"][str(scale)] = {"sizes": sizes, "load_s": grown, **figures}
                o, b = figures["overview"], figures["baseline"]
                print(
                    f"{scale:>4}× {sizes['members']:>7} members  overview p50 {o['p50_ms']} ms p95 {o['p95_ms']} ms "
                    f"({o['min_ms']}–{o['max_ms']})  baseline p50 {b['p50_ms']} p95 {b['p95_ms']} "
                    f"({b['min_ms']}–{b['max_ms']})  ratio p50 {figures['ratio_p50']} p95 {figures['ratio_p95']}  "
                    f"CPU app {o['app_cpu_ms_per_call']}/{b['app_cpu_ms_per_call']} ms, "
                    f"db {o['db_cpu_ms_per_call']}/{b['db_cpu_ms_per_call']} ms per call",
                    flush=True,
                )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "party_leadership.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
