"""What a district costs while idle: the job scheduler and authorization at 2 and at 3,000 districts.

    .venv/bin/python bench/tenant_scale.py                    # PostgreSQL on the default URL
    .venv/bin/python bench/tenant_scale.py --tenants 2 3000 --seconds 20 --rounds 5

For each size: a fresh database made by the migrations, N active districts with every installed
plugin switched on (their periodic jobs: the SLA sweep each minute, the overdue sweep, the
reminders), written by the owner. Then, as the app role under row-level security:

- ``first pass``: the scheduling pass that creates every district's slots and queues the wave of
  due runs (what happens once a minute for the SLA sweep);
- ``idle pass``: a pass with nothing due (the queued runs marked done), median and spread over
  ``--rounds`` rounds;
- ``idle worker``: the job loop as a web worker runs it (poll every second, schedule every 5 s)
  for ``--seconds`` with nothing due: CPU of this process and of the database backends serving it
  (from /proc, PostgreSQL only), as a share of one core;
- ``steady worker``: the same loop once the fleet is in its steady state — every slot spread over
  the longest its job waits (the handler module's ``IDLE`` when the job moves its own slot, else
  ``every_seconds``) — so it runs, and pays for, what comes due meanwhile (runs counted);
- ``authorization``: a warm request's check, the cached subject plus ``policy.allows``, in µs.

Only reports; nothing asserts on time. Results go to bench/results/tenant_scale-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import NOW, PG_DEFAULT, RESULTS, bulk_insert, fresh_database


def _proc_cpu(pids: list[int]) -> float:
    """utime + stime of these processes in seconds (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


async def _fill(fresh: Any, n: int, plugins: list[str]) -> None:
    from sqlalchemy import text

    from core.db.engine import make_engine
    from core.tenancy.models import Tenant, TenantPlugin
    from core.tenancy.plugins_on import encode

    engine = make_engine(fresh.owner_url)
    on = encode(plugins)
    async with engine.begin() as conn:
        # bench/_data made tenant 1; add 2…n.
        await conn.execute(text("UPDATE tenants SET plugins_on = :p WHERE id = 1"), {"p": on})
        tenants = [
            {
                "id": i,
                "slug": f"d{i}",
                "name_zh": f"区{i}",
                "name_en": f"District {i}",
                "locale": "zh_Hans",
                "status": "active",
                "terminology": "{}" if fresh.kind == "postgresql" else {},
                "branding": "{}" if fresh.kind == "postgresql" else {},
                "policy_version": 0,
                "require_second_factor": False,
                "limits": "{}" if fresh.kind == "postgresql" else {},
                "plugins_on": on,
                "created_at": NOW,
            }
            for i in range(2, n + 1)
        ]
        await bulk_insert(conn, Tenant.__table__, tenants)
        rows = [
            {
                "tenant_id": t,
                "id": t * 100 + k,
                "plugin": p,
                "enabled": True,
                "settings": "{}" if fresh.kind == "postgresql" else {},
                "updated_at": NOW,
            }
            for t in range(1, n + 1)
            for k, p in enumerate(plugins)
        ]
        await bulk_insert(conn, TenantPlugin.__table__, rows)
    async with engine.begin() as conn:
        if fresh.kind == "postgresql":
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def _backend_pids(db: Any) -> list[int]:
    from sqlalchemy import text

    async with db.session(None) as s:
        return list(
            (await s.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))).scalars()
        )


def _shares(kind: str, shares: list[float], db_shares: list[float]) -> dict[str, Any]:
    return {
        "app_median": round(statistics.median(shares), 2),
        "app_max": round(max(shares), 2),
        "db_median": round(statistics.median(db_shares), 2) if kind == "postgresql" else None,
        "db_max": round(max(db_shares), 2) if kind == "postgresql" else None,
    }


async def _steady(db: Any, host: Any, runner: Any, seconds: float, rounds: int) -> dict[str, Any]:
    """The loop with every slot spread over its job's horizon: CPU share and runs per second."""
    from sqlalchemy import func, select, text

    from core.services.jobs.models import DONE, Job
    from core.services.jobs.runner import JobRunner

    horizon = {}
    for spec in runner.specs.values():
        if spec.every_seconds:
            idle = getattr(sys.modules.get(spec.handler.__module__), "IDLE", None)
            horizon[spec.name] = idle.total_seconds() if idle is not None else float(spec.every_seconds)
    async with db.transaction(None) as s:
        for name, h in horizon.items():
            await s.execute(
                text(
                    "UPDATE periodic_runs SET next_run_at = now() + random() * make_interval(secs => :h)"
                    " WHERE name = :n"
                ),
                {"h": h, "n": name},
            )
    shares, db_shares, ran = [], [], 0
    for _ in range(max(rounds, 5)):
        async with db.session(None) as s:
            done0 = await s.scalar(select(func.count()).select_from(Job).where(Job.status == DONE))
        loop = JobRunner(db, host, poll_seconds=1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        pids = await _backend_pids(db)
        db0 = _proc_cpu(pids)
        await loop.start()
        await asyncio.sleep(seconds / max(rounds, 5))
        pids = sorted(set(pids) | set(await _backend_pids(db)))
        await loop.stop()
        wall = time.perf_counter() - wall0
        shares.append(100 * (time.process_time() - cpu0) / wall)
        db_shares.append(100 * (_proc_cpu(pids) - db0) / wall)
        async with db.session(None) as s:
            ran += int(await s.scalar(select(func.count()).select_from(Job).where(Job.status == DONE)) or 0) - done0
    return {
        "horizon_s": horizon,
        "cpu_pct_of_a_core": _shares("postgresql", shares, db_shares),
        "runs": ran,
        "runs_per_hour_expected": round(sum(3600 / h for h in horizon.values()) * len(await _tenants(db))),
    }


async def _tenants(db: Any) -> list[int]:
    from sqlalchemy import select

    from core.tenancy.models import Tenant

    async with db.session(None) as s:
        return list((await s.execute(select(Tenant.id))).scalars())


async def one_size(kind: str, pg_url: str, workdir: Path, n: int, seconds: float, rounds: int) -> dict[str, Any]:
    from sqlalchemy import update

    from core.app import load_models
    from core.db.engine import Database
    from core.pluginhost.manager import PluginHost
    from core.rbac.enforcer import Assignment, Subject, TenantPolicy
    from core.rbac.subjects import SubjectCache
    from core.services.jobs.models import DONE, Job
    from core.services.jobs.runner import JobRunner

    host = PluginHost()
    load_models(host)
    plugins = sorted(host.manifests)
    out: dict[str, Any] = {"tenants": n, "plugins": plugins}
    async with fresh_database(kind, pg_url, workdir, f"ts{n}") as fresh:
        await _fill(fresh, n, plugins)
        db = Database(fresh.app_url)
        runner = JobRunner(db, host)
        out["periodic_jobs"] = sorted(s.name for s in runner.specs.values() if s.every_seconds)

        t0 = time.perf_counter()
        queued = await runner.schedule_periodic()
        out["first_pass"] = {"seconds": round(time.perf_counter() - t0, 3), "queued": queued}
        async with db.transaction(None) as s:
            await s.execute(update(Job).values(status=DONE))

        passes = []
        for _ in range(max(rounds, 5)):
            t0 = time.perf_counter()
            assert await runner.schedule_periodic() == 0
            passes.append((time.perf_counter() - t0) * 1000)
        out["idle_pass_ms"] = {
            "median": round(statistics.median(passes), 2),
            "min": round(min(passes), 2),
            "max": round(max(passes), 2),
        }

        shares, db_shares = [], []
        for _ in range(max(rounds, 5)):
            loop = JobRunner(db, host, poll_seconds=1.0)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            pids = await _backend_pids(db) if kind == "postgresql" else []
            db0 = _proc_cpu(pids)
            await loop.start()
            await asyncio.sleep(seconds / max(rounds, 5))
            pids = sorted(set(pids) | set(await _backend_pids(db))) if kind == "postgresql" else []
            await loop.stop()
            wall = time.perf_counter() - wall0
            shares.append(100 * (time.process_time() - cpu0) / wall)
            db_shares.append(100 * (_proc_cpu(pids) - db0) / wall)
        out["idle_worker_cpu_pct_of_a_core"] = _shares(kind, shares, db_shares)
        if kind == "postgresql":
            out["steady_worker"] = await _steady(db, host, runner, seconds, rounds)
        await db.dispose()

    # A warm request's authorization: the subject from the process cache, then the policy check.
    cache = SubjectCache()
    policy = TenantPolicy([("grid_worker", "core.grid.view"), ("grid_worker", "ss.event.report")], 1)
    subject = Subject(7, (Assignment("grid_worker", "/1/2/3/", 3),))
    for t in range(1, n + 1):
        cache.put(t, 7, 1, subject)
    checks = 100_000
    t0 = time.perf_counter()
    for i in range(checks):
        s_ = cache.get(1 + i % n, 7, 1)
        assert s_ is not None and policy.allows(s_, "core.grid.view", "/1/2/3/4/")
    out["authorization_us"] = round((time.perf_counter() - t0) / checks * 1e6, 2)
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg-url", default=PG_DEFAULT)
    ap.add_argument("--tenants", type=int, nargs="+", default=[2, 3000])
    ap.add_argument("--seconds", type=float, default=20.0, help="idle loop time per size, split over the rounds")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    results: dict[str, Any] = {"db": args.db, "load_before": os.getloadavg(), "sizes": []}
    with tempfile.TemporaryDirectory() as d:
        for n in args.tenants:
            r = await one_size(args.db, args.pg_url, Path(d), n, args.seconds, args.rounds)
            results["sizes"].append(r)
            print(json.dumps(r, ensure_ascii=False))
    results["load_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"tenant_scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"load {results['load_before']} -> {results['load_after']}; written {path}")


if __name__ == "__main__":
    asyncio.run(main())
