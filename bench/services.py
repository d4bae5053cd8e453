"""bench/services.py — the shared services under write load from two app processes (PostgreSQL).

    .venv/bin/python bench/services.py                       # 5 rounds, 200 operations per process
    .venv/bin/python bench/services.py --rounds 7 --ops 300 --pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Targets, each run by two worker processes at once (each its own engine and pool, as two app
processes would be), every operation its own transaction as the non-owner app role under RLS:

- **ledger spend**: ``ledger.transfer`` of 1 point from ONE shared account to a store account.
  The account holds as many points as ONE process tries to spend, so half of all attempts must be
  refused: after the round its balance must be exactly 0, the store's exactly the funding, and
  ``ledger.check`` must find nothing (no overdraft, books balance).
- **bare ledger insert**: the same rows (one ledger_postings row, two ledger_entries rows) by Core
  INSERTs in the same kind of transaction — no balance UPDATE, no lock, no checks.
- **ballot cast**: ``ballots.cast`` of a different elector each time (online, one option) on an
  open ballot of 2 × ops electors.
- **bare ballot insert**: the rows a cast writes (ballot_casts, ballot_choices, audit_log) by Core
  INSERTs.

Rounds interleave the targets. Reported per target: operations/s per round (median and spread),
app CPU ms per operation (both workers, from getrusage) and database CPU ms per operation (the
bench database's backends, from /proc), and the ratio to the bare insert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench._data import PG_DEFAULT, RESULTS, TENANT_ID, fresh_database  # noqa: E402
from bench.pages import _backends, _cpu  # noqa: E402

TARGETS = ("ledger spend", "bare ledger insert", "ballot cast", "bare ballot insert")


# ---- worker processes --------------------------------------------------------------------------


def worker(target: str, app_url: str, job: dict[str, Any], ready: Any, go: Any, done: Any, out: Any) -> None:
    import core.models  # noqa: F401  (every table, so foreign keys resolve)

    try:
        asyncio.run(_work(target, app_url, job, ready, go, done, out))
    except BaseException as exc:  # tell the parent instead of leaving it waiting
        ready.set()
        out.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


async def _work(target: str, app_url: str, job: dict[str, Any], ready: Any, go: Any, release: Any, out: Any) -> None:
    from core.db.context import Actor
    from core.db.engine import Database

    db = Database(app_url)
    actor = Actor("user", job["actor_id"], "bench")
    async with db.transaction(TENANT_ID, actor) as s:  # open the pooled connection before the clock starts
        await s.execute(text("SELECT 1"))
    ready.set()
    go.wait()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    ok = refused = 0
    for i in range(job["ops"]):
        async with db.transaction(TENANT_ID, actor) as s:
            try:
                await OPS[target](s, job, i)
                ok += 1
            except Exception as exc:  # the refusals are part of the load; anything else is reported
                if type(exc).__name__ != "InsufficientBalance":
                    raise
                refused += 1
                await s.rollback()
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    out.put({"ok": ok, "refused": refused, "elapsed": elapsed, "cpu": cpu})
    release.wait()  # keep the backend alive until the parent has read its CPU
    await db.dispose()


async def op_ledger(s: Any, job: dict[str, Any], i: int) -> None:
    from core.services import ledger

    await ledger.transfer(s, f"{job['tag']}:{i}", job["spender"], job["store"], 1, kind="redeem", source="bench")


async def op_bare_ledger(s: Any, job: dict[str, Any], i: int) -> None:
    from core.db.base import new_id, utcnow
    from core.services.ledger.models import LedgerEntry, LedgerPosting

    pid, now = new_id(), utcnow()
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
                "account_id": job["spender"],
                "amount": -100,
                "balance_after": 0,
                "created_at": now,
            },
            {
                "tenant_id": TENANT_ID,
                "id": new_id(),
                "posting_id": pid,
                "account_id": job["store"],
                "amount": 100,
                "balance_after": 0,
                "created_at": now,
            },
        ],
    )


async def op_ballot(s: Any, job: dict[str, Any], i: int) -> None:
    from core.services import ballots

    await ballots.cast(s, job["ballot"], job["voters"][i], [job["option"]])


async def op_bare_ballot(s: Any, job: dict[str, Any], i: int) -> None:
    from core.audit.models import AuditEntry
    from core.db.base import new_id, utcnow
    from core.services._schema import random_id
    from core.services.ballots.models import BallotCast, BallotChoice

    cid, now = new_id(), utcnow()
    await s.execute(
        BallotCast.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": cid,
                "ballot_id": job["ballot"],
                "elector_id": job["electors"][i],
                "channel": "online",
                "cast_by": job["voters"][i],
                "weight": 100,
                "heads": 1,
                "cast_at": now,
            }
        ],
    )
    await s.execute(
        BallotChoice.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": random_id(),
                "ballot_id": job["ballot"],
                "option_id": job["option"],
                "cast_id": cid,
                "weight": 100,
                "heads": 1,
            }
        ],
    )
    await s.execute(
        AuditEntry.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": new_id(),
                "at": now,
                "actor_kind": "user",
                "actor_id": job["voters"][i],
                "actor_name": "bench",
                "action": "ballot.cast",
                "object_type": "ballots",
                "object_id": str(job["ballot"]),
                "changes": {"elector": f"user:{job['voters'][i]}", "channel": "online", "options": [job["option"]]},
            }
        ],
    )


OPS = {
    "ledger spend": op_ledger,
    "bare ledger insert": op_bare_ledger,
    "ballot cast": op_ballot,
    "bare ballot insert": op_bare_ballot,
}


# ---- the parent: set up each round, start both workers together, read the figures --------------


async def setup(fresh: Any, target: str, rnd: int, ops: int, users: list[int]) -> list[dict[str, Any]]:
    """The rows a round needs (as the app role, through the services), and each worker's job."""
    from core.db.context import Actor
    from core.db.engine import Database
    from core.grids.models import GridNode
    from core.services import ballots, ledger
    from core.services._common import now

    db = Database(fresh.app_url)
    tag = f"r{rnd}:{target.replace(' ', '-')}"
    actor = Actor("user", users[0], "bench")
    try:
        async with db.transaction(TENANT_ID, actor) as s:
            if target.startswith(("ledger", "bare ledger")):
                issued = await ledger.open_account(s, f"{tag}:issued", allow_negative=True)
                spender = await ledger.open_account(s, f"{tag}:spender")
                store = await ledger.open_account(s, f"{tag}:store")
                await ledger.transfer(s, f"{tag}:fund", issued, spender, ops)  # one process's worth
                base = {"spender": spender.id, "store": store.id, "actor_id": users[0], "ops": ops}
                return [{**base, "tag": f"{tag}:p{p}"} for p in range(2)]
            root = (await s.execute(select(GridNode).limit(1))).scalar_one()
            ballot = await ballots.create(
                s,
                title=f"bench {tag}",
                node=root,
                rule="simple_majority",
                opens_at=now(),
                closes_at=now() + timedelta(hours=1),
            )
            await ballots.add_electors(s, ballot, ballots.electorate.users(users[: 2 * ops]))
            await ballots.open_ballot(s, ballot)
            option = (await ballots.options_of(s, ballot.id))[0].id
            rows = (
                await s.execute(
                    text("SELECT key, id FROM ballot_electors WHERE ballot_id = :b"),
                    {"b": ballot.id},
                )
            ).all()
            by_key = {k: i for k, i in rows}
            jobs = []
            for p in range(2):
                voters = users[p : 2 * ops : 2]
                jobs.append(
                    {
                        "ballot": ballot.id,
                        "option": option,
                        "voters": voters,
                        "actor_id": voters[0],
                        "electors": [by_key[f"user:{u}"] for u in voters],
                        "ops": ops,
                    }
                )
            return jobs
    finally:
        await db.dispose()


async def verify_ledger(fresh: Any, jobs: list[dict[str, Any]], ops: int) -> dict[str, Any]:
    from core.db.engine import Database
    from core.services import ledger

    db = Database(fresh.app_url)
    try:
        async with db.session(TENANT_ID) as s:
            spender = await ledger.balance(s, jobs[0]["spender"])
            store = await ledger.balance(s, jobs[0]["store"])
            # the bare inserts leave their own accounts' balances unmoved on purpose: look at this round's
            prefix = jobs[0]["tag"].rsplit(":p", 1)[0]
            problems = [p for p in (await ledger.check(s)).problems if p.startswith(prefix) or ":" not in p]
    finally:
        await db.dispose()
    return {
        "spender_balance": str(spender),
        "store_balance": str(store),
        "problems": problems,
        "no_overdraft": spender == 0 and store == ops and not problems,
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
    results = [out.get(timeout=600) for _ in procs]
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        release.set()
        raise RuntimeError(f"{target}: {errors}")
    wall = time.perf_counter() - t0
    db1 = sum(_cpu(b) for b in backends)
    release.set()
    for p in procs:
        p.join(60)
    ops = sum(r["ok"] + r["refused"] for r in results)
    return {
        "ops": ops,
        "ok": sum(r["ok"] for r in results),
        "refused": sum(r["refused"] for r in results),
        "wall_s": wall,
        "ops_per_s": ops / wall,
        "app_cpu_ms_per_op": 1000 * sum(r["cpu"] for r in results) / ops,
        "db_cpu_ms_per_op": 1000 * (db1 - db0) / ops,
        "backends": len(backends),
    }


async def make_users(fresh: Any, n: int) -> list[int]:
    from core.db.base import new_id, utcnow
    from core.db.engine import make_engine
    from core.grids.models import GridNode
    from core.identity.models import User

    engine = make_engine(fresh.owner_url)
    ids, created = [new_id() for _ in range(n)], utcnow()
    async with engine.begin() as conn:
        await conn.execute(
            User.__table__.insert(),
            [
                {
                    "tenant_id": TENANT_ID,
                    "id": i,
                    "username": f"u{k}",
                    "display_name": f"居民{k}",
                    "password_hash": "!",
                    "is_active": True,
                    "created_at": created,
                }
                for k, i in enumerate(ids)
            ],
        )
        root = new_id()
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
                }
            ],
        )
    await engine.dispose()
    return ids


async def analyze(fresh: Any) -> None:
    """Fresh statistics before each round, as the bench conventions ask (as the owner: ANALYZE needs it)."""
    from core.db.engine import make_engine

    engine = make_engine(fresh.owner_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"args": vars(args), "rounds": {t: [] for t in TARGETS}, "checks": []}
    results["loadavg_before"] = Path("/proc/loadavg").read_text().split()[:3]
    async with fresh_database("postgresql", args.pg_url, Path("/tmp"), "services") as fresh:
        users = await make_users(fresh, 2 * args.ops)
        for rnd in range(args.rounds):
            for target in TARGETS:
                jobs = await setup(fresh, target, rnd, args.ops, users)
                await analyze(fresh)
                res = run_round(fresh, target, jobs)
                results["rounds"][target].append(res)
                if target == "ledger spend":
                    check = await verify_ledger(fresh, jobs, args.ops)
                    results["checks"].append(check)
                    if not check["no_overdraft"] or res["ok"] != args.ops:
                        raise SystemExit(f"ledger invariant broken in round {rnd}: {check} {res}")
                print(
                    f"round {rnd + 1} {target:20} {res['ops_per_s']:8.1f} ops/s  "
                    f"ok {res['ok']:4} refused {res['refused']:4}  app {res['app_cpu_ms_per_op']:.2f} ms/op  "
                    f"db {res['db_cpu_ms_per_op']:.2f} ms/op",
                    flush=True,
                )
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    results["summary"] = summary(results["rounds"])
    return results


def summary(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, rs in rounds.items():
        rates = [r["ops_per_s"] for r in rs]
        out[target] = {
            "ops_per_s_median": statistics.median(rates),
            "ops_per_s_min": min(rates),
            "ops_per_s_max": max(rates),
            "app_cpu_ms_per_op": statistics.median(r["app_cpu_ms_per_op"] for r in rs),
            "db_cpu_ms_per_op": statistics.median(r["db_cpu_ms_per_op"] for r in rs),
        }
    for real, bare in (("ledger spend", "bare ledger insert"), ("ballot cast", "bare ballot insert")):
        out[f"{real} / {bare}"] = {
            "ops_per_s": out[real]["ops_per_s_median"] / out[bare]["ops_per_s_median"],
            "app_cpu": out[real]["app_cpu_ms_per_op"] / out[bare]["app_cpu_ms_per_op"],
            "db_cpu": out[real]["db_cpu_ms_per_op"] / max(out[bare]["db_cpu_ms_per_op"], 1e-9),
        }
    return out


def table(s: dict[str, Any]) -> str:
    lines = ["| target | ops/s median (min–max) | app CPU ms/op | db CPU ms/op |", "| --- | ---: | ---: | ---: |"]
    for t in TARGETS:
        x = s[t]
        lines.append(
            f"| {t} | {x['ops_per_s_median']:.0f} ({x['ops_per_s_min']:.0f}–{x['ops_per_s_max']:.0f}) | "
            f"{x['app_cpu_ms_per_op']:.2f} | {x['db_cpu_ms_per_op']:.2f} |"
        )
    for k, v in s.items():
        if " / " in k:
            lines.append(
                f"\n{k}: {v['ops_per_s']:.2f} of the ops/s, {v['app_cpu']:.1f}× the app CPU, "
                f"{v['db_cpu']:.1f}× the db CPU per op"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=200, help="operations per process per round")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.ops < 2:
        parser.error("--rounds ≥ 1 and --ops ≥ 2")
    results = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"services-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(table(results["summary"]))
    print(f"\nload average before {results['loadavg_before']}, after {results['loadavg_after']}; {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
