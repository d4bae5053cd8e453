"""bench/co_governance.py — 社会共治 under load (PostgreSQL, the app role under RLS).

    .venv/bin/python bench/co_governance.py                  # 5 rounds, 200 redemptions per process
    .venv/bin/python bench/co_governance.py --rounds 7 --ops 300 --volunteers 200000

1. **Redemption throughput.** Two worker processes (each its own engine and pool, as two app
   processes would be) redeem ONE 雷锋超市 item at once, each operation its own transaction as a
   different, well-funded volunteer through ``store.redeem`` (stock UPDATE, redemption row, counter,
   ledger posting with its balance UPDATEs). The item's stock is one process's worth, so half of all
   attempts must be refused: after the round the stock is exactly 0, exactly ``ops`` redemptions
   exist and ``ledger.check`` finds nothing. The baseline, **bare insert**, writes the same rows
   (cg_redemptions, ledger_postings, two ledger_entries) by Core INSERTs in the same kind of
   transaction — no stock UPDATE, no locks, no checks.
2. **District hours overview at 200,000 volunteers.** Volunteers spread over 200 communities with
   cumulative minutes across every star level; ``figures.hours_overview`` (volunteers, hours and
   the count at each star level per community, the staff overview's table) and ``figures.headline``
   (the dashboard widget) run as the app role for the district root, ``--queries`` times a round;
   p50/p95 per round. Baseline: the same GROUP BY without the star-level CASE.

Reported: per-round figures, median and spread, app CPU ms per operation (getrusage of the
workers) and database CPU ms per operation (the bench database's backends, /proc), the ratios.
ANALYZE runs before each round. Results: bench/results/co_governance-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench._data import PG_DEFAULT, RESULTS, TENANT_ID, bulk_insert, fresh_database, pct  # noqa: E402
from bench.pages import _backends, _cpu  # noqa: E402

TARGETS = ("redeem", "bare insert")


# ---- redemption workers ------------------------------------------------------------------------


def worker(target: str, app_url: str, job: dict[str, Any], ready: Any, go: Any, done: Any, out: Any) -> None:
    import core.models  # noqa: F401
    import plugins.co_governance.models  # noqa: F401

    try:
        asyncio.run(_work(target, app_url, job, ready, go, done, out))
    except BaseException as exc:
        ready.set()
        out.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


async def _work(target: str, app_url: str, job: dict[str, Any], ready: Any, go: Any, release: Any, out: Any) -> None:
    from core.db.context import Actor
    from core.db.engine import Database
    from core.services import ledger
    from core.services.errors import Conflict
    from plugins.co_governance import store
    from plugins.co_governance.models import Volunteer

    db = Database(app_url)
    actor = Actor("user", job["actor_id"], "bench")
    async with db.transaction(TENANT_ID, actor) as s:
        await s.execute(text("SELECT 1"))
    ready.set()
    go.wait()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    ok = refused = 0
    for i in range(job["ops"]):
        async with db.transaction(TENANT_ID, actor) as s:
            if target == "redeem":
                v = await s.scalar(select(Volunteer).where(Volunteer.id == job["volunteers"][i]))
                try:
                    await store.redeem(s, job["item"], v)
                    ok += 1
                except (Conflict, ledger.InsufficientBalance):
                    refused += 1
                    await s.rollback()
            else:
                await bare(s, job, i)
                ok += 1
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    out.put({"ok": ok, "refused": refused, "elapsed": elapsed, "cpu": cpu})
    release.wait()
    await db.dispose()


async def bare(s: Any, job: dict[str, Any], i: int) -> None:
    from core.db.base import new_id, utcnow
    from core.services.ledger.models import LedgerEntry, LedgerPosting
    from plugins.co_governance.models import Redemption

    rid, pid, now = new_id(), new_id(), utcnow()
    await s.execute(
        Redemption.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": rid,
                "number": f"{job['tag']}-{i}",
                "request_key": f"{job['tag']}-{i}",
                "item_id": job["item"],
                "item_name": "bench",
                "volunteer_id": job["volunteers"][i],
                "quantity": 1,
                "points": 1,
                "node_path": job["path"],
                "state": "reserved",
                "posting_id": None,
                "reserved_at": now,
                "note": "",
            }
        ],
    )
    await s.execute(
        LedgerPosting.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": pid,
                "idempotency_key": f"{job['tag']}:{i}",
                "fingerprint": "0" * 64,
                "kind": "redeem",
                "memo": "",
                "source": "bench",
                "created_at": now,
            }
        ],
    )
    await s.execute(
        LedgerEntry.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": new_id(),
                "posting_id": pid,
                "account_id": job["accounts"][i],
                "amount": -100,
                "balance_after": 0,
                "created_at": now,
            },
            {
                "tenant_id": TENANT_ID,
                "id": new_id(),
                "posting_id": pid,
                "account_id": job["till"],
                "amount": 100,
                "balance_after": 0,
                "created_at": now,
            },
        ],
    )


# ---- parent ------------------------------------------------------------------------------------


async def base_rows(fresh: Any) -> tuple[int, Any]:
    """A user to act as, and a community node (owner writes)."""
    from core.db.base import new_id, utcnow
    from core.db.engine import make_engine
    from core.grids.models import GridNode
    from core.identity.models import User

    engine = make_engine(fresh.owner_url)
    uid, root, community = new_id(), new_id(), new_id()
    async with engine.begin() as conn:
        await conn.execute(
            User.__table__.insert(),
            [
                {
                    "tenant_id": TENANT_ID,
                    "id": uid,
                    "username": "staff",
                    "display_name": "社区工作者",
                    "password_hash": "!",
                    "is_active": True,
                    "created_at": utcnow(),
                }
            ],
        )
        await conn.execute(
            GridNode.__table__.insert(),
            [
                {
                    "tenant_id": TENANT_ID,
                    "id": root,
                    "parent_id": None,
                    "code": "root",
                    "kind": "district",
                    "name": "基准区",
                    "name_en": "",
                    "path": f"/{root}/",
                    "depth": 0,
                },
                {
                    "tenant_id": TENANT_ID,
                    "id": community,
                    "parent_id": root,
                    "code": "c",
                    "kind": "community",
                    "name": "基准社区",
                    "name_en": "",
                    "path": f"/{root}/{community}/",
                    "depth": 1,
                },
            ],
        )
    await engine.dispose()
    return uid, f"/{root}/{community}/"


async def setup_round(fresh: Any, target: str, rnd: int, ops: int, uid: int, path: str) -> list[dict[str, Any]]:
    """2 × ops volunteers with 10 points each and an item with ``ops`` in stock (app role, services)."""
    from core.db.base import new_id
    from core.db.context import Actor
    from core.db.engine import Database
    from core.grids.models import GridNode
    from core.services import ledger
    from plugins.co_governance import store, volunteers
    from plugins.co_governance.models import StoreItem, Volunteer

    db = Database(fresh.app_url)
    tag = f"r{rnd}{target[0]}"
    try:
        async with db.transaction(TENANT_ID, Actor("user", uid, "bench")) as s:
            node = await s.scalar(select(GridNode).where(GridNode.path == path))
            vols = [
                Volunteer(id=new_id(), number=f"B{tag}{k:06d}", name="志愿者", node_id=node.id, node_path=path)
                for k in range(2 * ops)
            ]
            s.add_all(vols)
            item = StoreItem(name=f"bench {tag}", price=1, stock=ops, node_id=node.id, node_path=path)
            s.add(item)
            await s.flush()
            issued = await ledger.open_account(s, volunteers.ISSUED, allow_negative=True)
            accounts = [await ledger.open_account(s, volunteers.points_account_key(v.id)) for v in vols]
            await ledger.post(s, f"bench:{tag}:fund", [(issued, -10 * len(vols)), *[(a, 10) for a in accounts]])
            till = await ledger.open_account(s, store.TILL)
            ids, accs = [v.id for v in vols], [a.id for a in accounts]
            return [
                {
                    "tag": f"{tag}p{p}",
                    "item": item.id,
                    "path": path,
                    "actor_id": uid,
                    "ops": ops,
                    "till": till.id,
                    "volunteers": ids[p::2],
                    "accounts": accs[p::2],
                }
                for p in range(2)
            ]
    finally:
        await db.dispose()


async def verify(fresh: Any, jobs: list[dict[str, Any]], ops: int) -> dict[str, Any]:
    from core.db.engine import Database
    from core.services import ledger
    from plugins.co_governance import volunteers
    from plugins.co_governance.models import Redemption, StoreItem

    db = Database(fresh.app_url)
    try:
        async with db.session(TENANT_ID) as s:
            stock = await s.scalar(select(StoreItem.stock).where(StoreItem.id == jobs[0]["item"]))
            made = await s.scalar(select(func.count(Redemption.id)).where(Redemption.item_id == jobs[0]["item"]))
            # the bare-insert rounds leave their accounts' balances unmoved on purpose: look at this round's
            mine = {volunteers.points_account_key(v) for job in jobs for v in job["volunteers"]}
            problems = [p for p in (await ledger.check(s)).problems if p.split(": ")[0] in mine or ":" not in p]
    finally:
        await db.dispose()
    return {
        "stock": stock,
        "redemptions": made,
        "problems": problems[:5],
        "no_overspend": stock == 0 and made == ops and not problems,
    }


def run_round(fresh: Any, target: str, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    ready = [ctx.Event() for _ in jobs]
    go, release, out = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(target, fresh.app_url, job, r, go, release, out))
        for job, r in zip(jobs, ready, strict=True)
    ]
    for p in procs:
        p.start()
    for r in ready:
        if not r.wait(120):
            raise RuntimeError("a worker did not start")
    backends = _backends(fresh.name)
    db0 = sum(_cpu(b) for b in backends)
    t0 = time.perf_counter()
    go.set()
    results = [out.get(timeout=900) for _ in procs]
    if any("error" in r for r in results):
        release.set()
        raise RuntimeError(f"{target}: {[r.get('error') for r in results]}")
    wall = time.perf_counter() - t0
    db1 = sum(_cpu(b) for b in backends)
    release.set()
    for p in procs:
        p.join(60)
    n = sum(r["ok"] + r["refused"] for r in results)
    return {
        "ops": n,
        "ok": sum(r["ok"] for r in results),
        "refused": sum(r["refused"] for r in results),
        "wall_s": wall,
        "ops_per_s": n / wall,
        "app_cpu_ms_per_op": 1000 * sum(r["cpu"] for r in results) / n,
        "db_cpu_ms_per_op": 1000 * (db1 - db0) / n,
    }


async def analyze(fresh: Any) -> None:
    from core.db.engine import make_engine

    engine = make_engine(fresh.owner_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


# ---- hours overview ----------------------------------------------------------------------------


async def load_volunteers(fresh: Any, n: int) -> str:
    """n volunteers over 10 sub-districts × 20 communities (owner, COPY); returns the root path."""
    from core.db.base import new_id
    from core.db.engine import make_engine
    from core.grids.models import GridNode
    from plugins.co_governance.models import Volunteer

    rnd = random.Random(7)
    root = new_id()
    nodes = [
        {
            "tenant_id": TENANT_ID,
            "id": root,
            "parent_id": None,
            "code": "d",
            "kind": "district",
            "name": "区",
            "name_en": "",
            "path": f"/{root}/",
            "depth": 0,
            "boundary": None,
            "defined": True,
        }
    ]
    communities = []
    for s_ in range(10):
        sid = new_id()
        nodes.append(
            {
                "tenant_id": TENANT_ID,
                "id": sid,
                "parent_id": root,
                "code": f"s{s_}",
                "kind": "subdistrict",
                "name": f"街道{s_}",
                "name_en": "",
                "path": f"/{root}/{sid}/",
                "depth": 1,
                "boundary": None,
                "defined": True,
            }
        )
        for c in range(20):
            cid = new_id()
            path = f"/{root}/{sid}/{cid}/"
            nodes.append(
                {
                    "tenant_id": TENANT_ID,
                    "id": cid,
                    "parent_id": sid,
                    "code": f"s{s_}c{c}",
                    "kind": "community",
                    "name": f"社区{s_}-{c}",
                    "name_en": "",
                    "path": path,
                    "depth": 2,
                    "boundary": None,
                    "defined": True,
                }
            )
            communities.append((cid, path))
    now = datetime.now(UTC)
    rows = []
    for k in range(n):
        cid, path = communities[k % len(communities)]
        hours = rnd.choice((rnd.uniform(0, 99), rnd.uniform(0, 99), rnd.uniform(100, 2000)))
        rows.append(
            {
                "tenant_id": TENANT_ID,
                "id": new_id(),
                "number": f"V{k:08d}",
                "user_id": None,
                "name": "志愿者",
                "phone_enc": None,
                "phone_masked": "",
                "skills": "",
                "availability": "",
                "node_id": cid,
                "node_path": path,
                "status": "active",
                "minutes_total": int(hours * 60),
                "registered_at": now - timedelta(days=k % 1000),
            }
        )
    engine = make_engine(fresh.owner_url)
    async with engine.begin() as conn:
        await bulk_insert(conn, GridNode.__table__, nodes)
        await bulk_insert(conn, Volunteer.__table__, rows)
    await engine.dispose()
    return f"/{root}/"


async def overview_round(fresh: Any, root: str, queries: int) -> dict[str, Any]:
    from core.db.engine import Database
    from core.rbac.scope import in_scope
    from plugins.co_governance import figures
    from plugins.co_governance.models import Volunteer

    db = Database(fresh.app_url)
    out: dict[str, list[float]] = {"hours_overview": [], "headline": [], "bare group by": []}
    try:
        async with db.session(TENANT_ID) as s:
            for _ in range(queries):
                t = time.perf_counter()
                rows = await figures.hours_overview(s, [root])
                out["hours_overview"].append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                await figures.headline(s, [root])
                out["headline"].append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                await s.execute(
                    select(Volunteer.node_path, func.count(), func.sum(Volunteer.minutes_total))
                    .where(in_scope(Volunteer.node_path, [root]))
                    .group_by(Volunteer.node_path)
                )
                out["bare group by"].append(1000 * (time.perf_counter() - t))
            assert sum(r.volunteers for r in rows) > 0
    finally:
        await db.dispose()
    return {k: {"p50_ms": statistics.median(v), "p95_ms": pct(sorted(v), 95)} for k, v in out.items()}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"args": vars(args), "rounds": {t: [] for t in TARGETS}, "checks": [], "overview": []}
    results["loadavg_before"] = Path("/proc/loadavg").read_text().split()[:3]
    async with fresh_database("postgresql", args.pg_url, Path("/tmp"), "cogov") as fresh:
        uid, path = await base_rows(fresh)
        for rnd in range(args.rounds):
            for target in TARGETS:
                jobs = await setup_round(fresh, target, rnd, args.ops, uid, path)
                await analyze(fresh)
                res = run_round(fresh, target, jobs)
                results["rounds"][target].append(res)
                if target == "redeem":
                    check = await verify(fresh, jobs, args.ops)
                    results["checks"].append(check)
                    if not check["no_overspend"]:
                        raise SystemExit(f"overspend in round {rnd}: {check}")
                print(
                    f"round {rnd + 1} {target:12} {res['ops_per_s']:8.1f} ops/s ok {res['ok']:4} refused "
                    f"{res['refused']:4} app {res['app_cpu_ms_per_op']:.2f} ms/op db {res['db_cpu_ms_per_op']:.2f} "
                    "ms/op",
                    flush=True,
                )
        t = time.perf_counter()
        root = await load_volunteers(fresh, args.volunteers)
        print(f"loaded {args.volunteers} volunteers in {time.perf_counter() - t:.1f}s", flush=True)
        for rnd in range(args.rounds):
            await analyze(fresh)
            res = await overview_round(fresh, root, args.queries)
            results["overview"].append(res)
            print(
                f"round {rnd + 1} "
                + "  ".join(f"{k} p50 {v['p50_ms']:.1f} p95 {v['p95_ms']:.1f} ms" for k, v in res.items()),
                flush=True,
            )
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    results["summary"] = summary(results)
    return results


def summary(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, rs in results["rounds"].items():
        rates = [r["ops_per_s"] for r in rs]
        out[target] = {
            "ops_per_s_median": statistics.median(rates),
            "ops_per_s_min": min(rates),
            "ops_per_s_max": max(rates),
            "app_cpu_ms_per_op": statistics.median(r["app_cpu_ms_per_op"] for r in rs),
            "db_cpu_ms_per_op": statistics.median(r["db_cpu_ms_per_op"] for r in rs),
        }
    out["redeem / bare insert"] = {
        "ops_per_s": out["redeem"]["ops_per_s_median"] / out["bare insert"]["ops_per_s_median"],
        "app_cpu": out["redeem"]["app_cpu_ms_per_op"] / out["bare insert"]["app_cpu_ms_per_op"],
        "db_cpu": out["redeem"]["db_cpu_ms_per_op"] / max(out["bare insert"]["db_cpu_ms_per_op"], 1e-9),
    }
    for q in ("hours_overview", "headline", "bare group by"):
        p95s = [r[q]["p95_ms"] for r in results["overview"]]
        out[q] = {
            "p95_ms_median": statistics.median(p95s),
            "p95_ms_min": min(p95s),
            "p95_ms_max": max(p95s),
            "p50_ms_median": statistics.median(r[q]["p50_ms"] for r in results["overview"]),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=200, help="redemption attempts per process and round")
    parser.add_argument("--volunteers", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=20, help="overview queries per round")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"co_governance-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results["summary"], indent=2))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
