"""One district's page with 2 districts against the same page with 3,000, the job loop running; and
the app's start-up time at each size.

    .venv/bin/python bench/tenant_pages.py                                # 2 vs 3000 on PostgreSQL
    .venv/bin/python bench/tenant_pages.py --sizes 2 3000 --rounds 5 --seconds 10 --concurrency 4

Both databases are built side by side the way bench/pages.py builds one (migrations, tenants/ with
their demo data loaded through the vault, ANALYZE), the larger one topped up with active districts
that have every plugin on (``pages.add_tenants``). The fleet is in its steady state: each added
district's periodic slots are spread over the longest its job waits (the handler module's ``IDLE``
when the job moves its own slot, else its ``every_seconds``), as they are once districts were
created at different times, so the loop does the runs a real fleet of that size does meanwhile.

Then, interleaved so a slow spell of the machine hits both:

- ``start-up``: ``--starts`` times per size, seconds from launching uvicorn (one worker, the job
  loop on as in production) to the first answered sign-in page;
- ``page``: ``--rounds`` rounds of ``--seconds`` each of GET /t/shuangluan/grid/<双安社区> as the
  demo community secretary on one server per size: p50/p95, requests/s, CPU per request of the app
  process and of the database's backends (the job loop's share included: it is what the page pays).

The ratio is the median of the per-round ratios of p50 (3,000 / 2) with its range. Only reports;
results go to bench/results/tenant_pages-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench import pages  # noqa: E402


async def spread_slots(prep: pages.Prepared) -> dict[str, float]:
    """The added districts' periodic slots as a running fleet has them; returns each job's horizon (s)."""
    from sqlalchemy import select

    from bench._data import bulk_insert
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
    engine = make_engine(prep.owner_url)
    rng = random.Random(17)
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
    await pages._analyze(prep.owner_url)
    return horizon


def app_env(prep: pages.Prepared, workdir: Path) -> dict[str, str]:
    return pages.server_env(
        {
            "LIUZHI_DATABASE_URL": prep.app_url,
            "LIUZHI_MIGRATE_DATABASE_URL": prep.owner_url,
            "LIUZHI_DATA_DIR": str(workdir),
            "LIUZHI_SECRET_KEY": prep.secret,
            "LIUZHI_RUN_JOBS": "1",
            **pages.OPS_OFF,
        }
    )


async def time_start(name: str, env: dict[str, str], workdir: Path) -> float:
    """Seconds from launch to the first answered sign-in page."""
    t0 = time.perf_counter()
    with pages.serve(name, "bench._server:real", env, workdir) as server:
        async with httpx.AsyncClient(timeout=30) as c:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await c.get(f"{server.base}/t/{pages.TENANT}/login")).status_code == 200:
                        return time.perf_counter() - t0
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{name}: the sign-in page never answered")


async def jobs_done(prep: pages.Prepared) -> tuple[int, int]:
    """(runs finished, runs pending) in the database so far."""
    from sqlalchemy import func, select

    from core.db.engine import make_engine
    from core.services.jobs.models import DONE, PENDING, Job

    engine = make_engine(prep.owner_url)
    async with engine.connect() as conn:
        done = await conn.scalar(select(func.count()).select_from(Job).where(Job.status == DONE))
        pending = await conn.scalar(select(func.count()).select_from(Job).where(Job.status == PENDING))
    await engine.dispose()
    return int(done or 0), int(pending or 0)


def _spread(values: list[float], digits: int = 2) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": args.sizes, "load_before": [round(x, 2) for x in os.getloadavg()]}
    tool = "wrk" if args.load == "wrk" else "python"
    with tempfile.TemporaryDirectory(prefix="liuzhi-tenant-pages-") as tmp, contextlib.ExitStack() as stack:
        astack = contextlib.AsyncExitStack()
        preps: dict[int, pages.Prepared] = {}
        dirs: dict[int, Path] = {}
        try:
            for n in args.sizes:
                dirs[n] = Path(tmp) / f"n{n}"
                dirs[n].mkdir()
                preps[n] = await astack.enter_async_context(pages.prepared_database("postgresql", args.pg_url, dirs[n]))
                await pages.add_tenants(preps[n], n)
                out.setdefault("horizon_s", {})[n] = await spread_slots(preps[n])
            starts: dict[int, list[float]] = {n: [] for n in args.sizes}
            for _ in range(args.starts):
                for n in args.sizes:
                    starts[n].append(await time_start(f"start{n}", app_env(preps[n], dirs[n]), dirs[n]))
            out["startup_s"] = {n: _spread(v) for n, v in starts.items()}
            print(f"start-up: {out['startup_s']}", file=sys.stderr)

            servers = {
                n: stack.enter_context(pages.serve(f"real{n}", "bench._server:real", app_env(p, dirs[n]), dirs[n]))
                for n, p in preps.items()
            }
            targets = {}
            for n, server in servers.items():
                cookie = await pages.sign_in(server.base)
                url = f"{server.base}/t/{pages.TENANT}/grid/{preps[n].node_id}"
                body = await pages.check(url, {"Cookie": cookie}, partial=False)
                targets[n] = (server, url, {"Cookie": cookie})
                out.setdefault("page_bytes", {})[n] = len(body.encode())
                await pages.measure(tool, url, {"Cookie": cookie}, args.warmup, args, server.proc.pid, None)
            before = {n: await jobs_done(p) for n, p in preps.items()}
            runs: dict[int, list[pages.Load]] = {n: [] for n in args.sizes}
            for rnd in range(args.rounds):
                for n, (server, url, headers) in targets.items():
                    r = await pages.measure(tool, url, headers, args.seconds, args, server.proc.pid, preps[n].database)
                    runs[n].append(r)
                    print(
                        f"  round {rnd + 1}: {n:>5} districts p50 {r.p50_ms:6.1f} ms {r.rps:6.1f} req/s",
                        file=sys.stderr,
                    )
            after = {n: await jobs_done(p) for n, p in preps.items()}
        finally:
            await astack.aclose()
    base = args.sizes[0]
    out["page"] = {
        n: {
            "p50_ms": _spread([r.p50_ms for r in rs]),
            "p95_ms": _spread([r.p95_ms for r in rs]),
            "rps": _spread([r.rps for r in rs], 1),
            "cpu_app_ms_per_req": _spread([1000 * r.cpu_app_s / max(r.requests, 1) for r in rs]),
            "cpu_db_ms_per_req": _spread([1000 * r.cpu_db_s / max(r.requests, 1) for r in rs]),
            "errors": sum(r.errors for r in rs),
            "job_runs_meanwhile": after[n][0] - before[n][0],
            "jobs_pending_after": after[n][1],
        }
        for n, rs in runs.items()
    }
    for n in args.sizes[1:]:
        out.setdefault("p50_ratio", {})[f"{n}/{base}"] = _spread(
            [a.p50_ms / b.p50_ms for a, b in zip(runs[n], runs[base], strict=True) if b.p50_ms], 3
        )
        out.setdefault("startup_ratio", {})[f"{n}/{base}"] = round(
            out["startup_s"][n]["median"] / out["startup_s"][base]["median"], 3
        )
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out["conditions"] = {
        "tool": tool,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "starts": args.starts,
        "cpus": os.cpu_count(),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=pages.PG_DEFAULT)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 3000], help="districts per database; first: baseline")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0, help="per round and size")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--starts", type=int, default=3, help="start-up timings per size")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-requests", type=int, default=200_000)
    ap.add_argument("--load", choices=("wrk", "python"), default="wrk")
    args = ap.parse_args(argv)
    res = asyncio.run(run(args))
    pages.RESULTS.mkdir(parents=True, exist_ok=True)
    path = pages.RESULTS / f"tenant_pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(res, ensure_ascii=False, indent=2))
    print(json.dumps({k: res[k] for k in ("startup_s", "p50_ratio", "startup_ratio", "load_before", "load_after")}))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
