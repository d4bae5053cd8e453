"""bench/civic_virtue.py — 10,000 residents voting in a burst in a 评选's public vote (PostgreSQL).

    .venv/bin/python bench/civic_virtue.py                          # 5 rounds × 10,000 voters
    .venv/bin/python bench/civic_virtue.py --voters 2000 --rounds 5 --workers 2 --concurrency 10

A fresh database is built by the migrations (``bench/_data.fresh_database``, dropped afterwards)
with one tenant, a community of 2,500 households and ``--voters`` residents: each a user with a
resident account linked to a register record in a household (the campaign's voters are
"residents", the default rule, so every vote runs the real eligibility check).

Each round, two targets one after the other, each a burst of every voter voting once:

- **vote**: ``voting.vote`` — the campaign's stage, the candidates still consenting
  (``core.services.consent``), then ``ballots.cast`` on the category's ballot with an open
  electorate (eligibility, the voter's elector row made on first cast, one cast per elector as a
  unique key, the choice, the audit entry, the event) — a fresh campaign per round;
- **bare insert**: the same rows (``ballot_electors``, ``ballot_elector_members``,
  ``ballot_casts``, ``ballot_choices``, ``audit_log``) by Core INSERTs on a second ballot.

Load: ``--workers`` processes (spawn: each its own engine and pool, as app processes would be), each
running ``--concurrency`` asyncio tasks that take the next voter from the process's share; every
vote is its own transaction as the non-owner app role under row-level security. ``ANALYZE`` runs
before each burst. Reported per target: votes/s per round (median, min–max), latency p50/p95 of
one vote, app CPU ms per vote (getrusage of the workers) and database CPU ms per vote (the bench
database's backends, /proc), and the ratios vote ÷ bare. After each vote burst the script checks
the ballot holds exactly one cast per voter and that the count recounts to the same digest.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench._data import PG_DEFAULT, RESULTS, TENANT_ID, fresh_database, pct  # noqa: E402
from bench.pages import _backends, _cpu  # noqa: E402

TARGETS = ("vote", "bare insert")


# ---- worker processes --------------------------------------------------------------------------


def worker(target: str, app_url: str, job: dict[str, Any], ready: Any, go: Any, done: Any, out: Any) -> None:
    import core.models  # noqa: F401  (every table, so foreign keys resolve)

    try:
        asyncio.run(_work(target, app_url, job, ready, go, done, out))
    except BaseException as exc:
        ready.set()
        out.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


async def _work(target: str, app_url: str, job: dict[str, Any], ready: Any, go: Any, release: Any, out: Any) -> None:
    from core.db.context import Actor
    from core.db.engine import Database

    db = Database(app_url)

    async def hold() -> None:  # open every connection the burst will use before the clock starts
        async with db.transaction(TENANT_ID) as s:
            await s.execute(text("SELECT 1"))
            await asyncio.sleep(0.5)

    for attempt in range(5):  # a loaded machine may miss the driver's 5 s connect timeout once
        try:
            await asyncio.gather(*(hold() for _ in range(job["concurrency"])))
            break
        except (TimeoutError, OSError):
            if attempt == 4:
                raise
    ready.set()
    go.wait()
    queue = list(reversed(job["voters"]))
    latencies: list[float] = []
    refused = 0
    op = OPS[target]

    async def one_task() -> None:
        nonlocal refused
        while queue:
            voter = queue.pop()
            t = time.perf_counter()
            try:
                async with db.transaction(TENANT_ID, Actor("user", voter, "bench")) as s:
                    await op(s, job, voter)
            except Exception as exc:  # a refusal is reported, not hidden
                if type(exc).__name__ not in ("Conflict",):
                    raise
                refused += 1
            latencies.append(time.perf_counter() - t)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await asyncio.gather(*(one_task() for _ in range(job["concurrency"])))
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    out.put({"ok": len(latencies) - refused, "refused": refused, "elapsed": elapsed, "cpu": cpu, "lat": latencies})
    release.wait()
    await db.dispose()


async def op_vote(s: Any, job: dict[str, Any], voter: int) -> None:
    from plugins.civic_virtue import campaigns, voting

    campaign = await campaigns.get(s, job["campaign"])
    await voting.vote(s, campaign, job["category"], voter, [job["nomination"]])


async def op_bare(s: Any, job: dict[str, Any], voter: int) -> None:
    from core.audit.models import AuditEntry
    from core.db.base import new_id, utcnow
    from core.services._schema import random_id
    from core.services.ballots.models import BallotCast, BallotChoice, BallotElector, BallotElectorMember

    now = utcnow()
    eid, cid = random_id(), new_id()
    row = {"tenant_id": TENANT_ID, "ballot_id": job["ballot"]}
    await s.execute(
        BallotElector.__table__.insert(),
        [{**row, "id": eid, "key": f"user:{voter}", "label": "", "weight": 100, "heads": 1}],
    )
    await s.execute(
        BallotElectorMember.__table__.insert(), [{**row, "id": random_id(), "elector_id": eid, "user_id": voter}]
    )
    await s.execute(
        BallotCast.__table__.insert(),
        [
            {
                **row,
                "id": cid,
                "elector_id": eid,
                "channel": "online",
                "cast_by": voter,
                "weight": 100,
                "heads": 1,
                "cast_at": now,
            }
        ],
    )
    await s.execute(
        BallotChoice.__table__.insert(),
        [{**row, "id": random_id(), "option_id": job["option"], "cast_id": cid, "weight": 100, "heads": 1}],
    )
    await s.execute(
        AuditEntry.__table__.insert(),
        [
            {
                "tenant_id": TENANT_ID,
                "id": new_id(),
                "at": now,
                "actor_kind": "user",
                "actor_id": voter,
                "actor_name": "bench",
                "action": "ballot.cast",
                "object_type": "ballots",
                "object_id": str(job["ballot"]),
                "changes": {"elector": f"user:{voter}", "channel": "online", "options": [job["option"]]},
            }
        ],
    )


OPS = {"vote": op_vote, "bare insert": op_bare}


# ---- the parent ----------------------------------------------------------------------------------


async def make_people(fresh: Any, n: int) -> tuple[list[int], int]:
    """``n`` residents: users with resident accounts linked to register records in 2,500 households."""
    from core.db.base import new_id, utcnow
    from core.db.engine import make_engine
    from core.grids.basedata import Resident
    from core.grids.models import GridNode
    from core.identity.models import User
    from core.rbac.models import RoleAssignment
    from core.services.accounts.models import ResidentAccount

    engine = make_engine(fresh.owner_url)
    created = utcnow()
    root, community = new_id(), new_id()
    nodes = [
        {
            "id": root,
            "parent_id": None,
            "code": "root",
            "kind": "district",
            "name": "基准区",
            "path": f"/{root}/",
            "depth": 0,
        },
        {
            "id": community,
            "parent_id": root,
            "code": "c",
            "kind": "community",
            "name": "基准社区",
            "path": f"/{root}/{community}/",
            "depth": 1,
        },
    ]
    households = []
    for k in range(2500):
        hid = new_id()
        households.append(hid)
        nodes.append(
            {
                "id": hid,
                "parent_id": community,
                "code": f"h{k}",
                "kind": "household",
                "name": f"{k // 40 + 1}号楼{k % 40 + 101}",
                "path": f"/{root}/{community}/{hid}/",
                "depth": 2,
            }
        )
    users, residents, accounts, roles = [], [], [], []
    for k in range(n):
        uid, rid, hid = new_id(), new_id(), households[k % len(households)]
        users.append(
            {
                "id": uid,
                "username": f"r{k}",
                "display_name": f"居民{k}",
                "password_hash": "!",
                "is_active": True,
                "created_at": created,
            }
        )
        residents.append(
            {
                "id": rid,
                "name": f"居民{k}",
                "node_id": hid,
                "node_path": f"/{root}/{community}/{hid}/",
                "status": "active",
                "ethnicity": "",
                "registration": "",
                "note": "",
                "created_at": created,
                "updated_at": created,
            }
        )
        accounts.append(
            {
                "id": new_id(),
                "user_id": uid,
                "phone_enc": b"-",
                "phone_hash": f"h{k}",
                "phone_masked": "139****0000",
                "resident_id": rid,
                "created_at": created,
                "linked_at": created,
            }
        )
        roles.append(
            {"id": new_id(), "user_id": uid, "role_code": "resident", "node_id": root, "node_path": f"/{root}/"}
        )
    async with engine.begin() as conn:
        for table, rows in (
            (GridNode.__table__, nodes),
            (User.__table__, users),
            (Resident.__table__, residents),
            (ResidentAccount.__table__, accounts),
            (RoleAssignment.__table__, roles),
        ):
            for chunk in range(0, len(rows), 2000):
                await conn.execute(table.insert(), [{"tenant_id": TENANT_ID, **r} for r in rows[chunk : chunk + 2000]])
    await engine.dispose()
    return [u["id"] for u in users], community


async def setup(fresh: Any, target: str, rnd: int, voters: list[int], community_id: int) -> dict[str, Any]:
    """A campaign in its vote with two consenting candidates (vote), or a bare ballot (bare insert)."""
    from core.db.engine import Database
    from core.grids.models import GridNode
    from core.services import ballots, consent
    from plugins.civic_virtue import campaigns, nominations, review
    from plugins.civic_virtue.models import SHORTLISTED, Nomination
    from plugins.civic_virtue.stages import Periods

    db = Database(fresh.app_url)
    now = datetime.now(UTC)
    try:
        async with db.transaction(TENANT_ID) as s:
            node = (await s.execute(select(GridNode).where(GridNode.id == community_id))).scalar_one()
            if target == "bare insert":
                ballot = await ballots.create(
                    s,
                    title=f"bare {rnd}",
                    node=node,
                    rule="plurality",
                    opens_at=now - timedelta(minutes=1),
                    closes_at=now + timedelta(hours=2),
                    options=["1号候选人", "2号候选人"],
                    kind="election",
                    open_electorate=True,
                    eligibility_rule="residents",
                )
                await ballots.open_ballot(s, ballot)
                option = (await ballots.options_of(s, ballot.id))[0].id
                return {"ballot": ballot.id, "option": option}
            opens = now - timedelta(minutes=1)
            periods = Periods(
                opens - timedelta(days=30),
                opens - timedelta(days=20),
                opens - timedelta(days=10),
                opens,
                now + timedelta(hours=2),
            )
            campaign = await campaigns.create(
                s,
                campaigns.CampaignInput(
                    title=f"基准评选 {rnd}", kind="role_model", node=node, periods=periods, voter_rule="residents"
                ),
            )
            category = (await campaigns.categories(s, campaign.id))[0]
            noms = []
            for k in range(2):
                n = Nomination(
                    campaign_id=campaign.id,
                    category_id=category.id,
                    nominee_name=f"候选人{k}",
                    nominee_user_id=voters[k],
                    node_id=node.id,
                    node_path=node.path,
                    headline="事迹",
                    story="事迹" * 20,
                    nominator_kind="staff",
                    status=SHORTLISTED,
                )
                s.add(n)
                noms.append(n)
                await consent.give(s, ("user", voters[k]), nominations.PURPOSE, "同意公开", channel="in_person")
            await s.flush()
            await review.publish_shortlist(s, campaign, at=periods.review_closes_at + timedelta(hours=1))
            return {
                "campaign": campaign.id,
                "category": category.id,
                "nomination": noms[0].id,
                "ballot": category.ballot_id,
            }
    finally:
        await db.dispose()


async def check_vote(fresh: Any, job: dict[str, Any], expected: int) -> dict[str, Any]:
    """One cast per voter, and the count recounts to the stored digest once closed."""
    from core.db.engine import Database
    from core.services import ballots
    from core.services.ballots.models import BallotCast

    db = Database(fresh.app_url)
    try:
        async with db.transaction(TENANT_ID) as s:
            casts = await s.scalar(
                select(func.count()).select_from(BallotCast).where(BallotCast.ballot_id == job["ballot"])
            )
            ballot = await ballots.get(s, job["ballot"])
            t0 = time.perf_counter()
            result = await ballots.close(s, ballot, early="bench")
            close_s = time.perf_counter() - t0
            verified = await ballots.verify(s, ballot)
    finally:
        await db.dispose()
    return {
        "casts": casts,
        "expected": expected,
        "counted": result.counts.cast_heads,
        "verified": verified,
        "close_and_tally_s": close_s,
    }


def run_burst(
    fresh: Any, target: str, job: dict[str, Any], voters: list[int], workers: int, concurrency: int
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    jobs = [{**job, "voters": voters[w::workers], "concurrency": concurrency} for w in range(workers)]
    ready = [ctx.Event() for _ in jobs]
    go, release, out = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(target, fresh.app_url, j, r, go, release, out))
        for j, r in zip(jobs, ready, strict=True)
    ]
    for p in procs:
        p.start()
    for r in ready:
        if not r.wait(600):  # spawn, imports and the held connections take long on a loaded machine
            raise RuntimeError("a worker did not start")
    backends = _backends(fresh.name)
    db0 = sum(_cpu(b) for b in backends)
    t0 = time.perf_counter()
    go.set()
    results = [out.get(timeout=1800) for _ in procs]
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        release.set()
        raise RuntimeError(f"{target}: {errors}")
    wall = time.perf_counter() - t0
    db1 = sum(_cpu(b) for b in backends)
    release.set()
    for p in procs:
        p.join(60)
    lat = sorted(x for r in results for x in r["lat"])
    n = len(lat)
    return {
        "votes": n,
        "refused": sum(r["refused"] for r in results),
        "wall_s": wall,
        "votes_per_s": n / wall,
        "p50_ms": 1000 * pct(lat, 0.50),
        "p95_ms": 1000 * pct(lat, 0.95),
        "app_cpu_ms_per_vote": 1000 * sum(r["cpu"] for r in results) / n,
        "db_cpu_ms_per_vote": 1000 * (db1 - db0) / n,
        "backends": len(backends),
    }


async def analyze(fresh: Any) -> None:
    from core.db.engine import make_engine

    engine = make_engine(fresh.owner_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"args": vars(args), "rounds": {t: [] for t in TARGETS}, "checks": []}
    results["loadavg_before"] = Path("/proc/loadavg").read_text().split()[:3]
    async with fresh_database("postgresql", args.pg_url, Path("/tmp"), "civic") as fresh:
        voters, community = await make_people(fresh, args.voters)
        for rnd in range(args.rounds):
            for target in TARGETS:
                job = await setup(fresh, target, rnd, voters, community)
                await analyze(fresh)
                res = run_burst(fresh, target, job, voters, args.workers, args.concurrency)
                results["rounds"][target].append(res)
                if target == "vote":
                    check = await check_vote(fresh, job, len(voters))
                    results["checks"].append(check)
                    if not (check["casts"] == check["counted"] == len(voters) and check["verified"]):
                        raise SystemExit(f"round {rnd}: the ballot does not hold one vote per voter: {check}")
                print(
                    f"round {rnd + 1} {target:12} {res['votes_per_s']:8.1f} votes/s  p50 {res['p50_ms']:6.1f} ms  "
                    f"p95 {res['p95_ms']:6.1f} ms  app {res['app_cpu_ms_per_vote']:.2f} ms/vote  "
                    f"db {res['db_cpu_ms_per_vote']:.2f} ms/vote  refused {res['refused']}",
                    flush=True,
                )
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    results["summary"] = summary(results["rounds"])
    return results


def summary(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, rs in rounds.items():
        rates = [r["votes_per_s"] for r in rs]
        out[target] = {
            "votes_per_s_median": statistics.median(rates),
            "votes_per_s_min": min(rates),
            "votes_per_s_max": max(rates),
            "p95_ms_median": statistics.median(r["p95_ms"] for r in rs),
            "p50_ms_median": statistics.median(r["p50_ms"] for r in rs),
            "app_cpu_ms_per_vote": statistics.median(r["app_cpu_ms_per_vote"] for r in rs),
            "db_cpu_ms_per_vote": statistics.median(r["db_cpu_ms_per_vote"] for r in rs),
        }
    v, b = out["vote"], out["bare insert"]
    out["vote / bare insert"] = {
        "votes_per_s": v["votes_per_s_median"] / b["votes_per_s_median"],
        "p95": v["p95_ms_median"] / b["p95_ms_median"],
        "app_cpu": v["app_cpu_ms_per_vote"] / b["app_cpu_ms_per_vote"],
        "db_cpu": v["db_cpu_ms_per_vote"] / max(b["db_cpu_ms_per_vote"], 1e-9),
    }
    return out


def table(s: dict[str, Any]) -> str:
    lines = [
        "| target | votes/s median (min–max) | p50 ms | p95 ms | app CPU ms/vote | db CPU ms/vote |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in TARGETS:
        x = s[t]
        lines.append(
            f"| {t} | {x['votes_per_s_median']:.0f} ({x['votes_per_s_min']:.0f}–{x['votes_per_s_max']:.0f}) | "
            f"{x['p50_ms_median']:.1f} | {x['p95_ms_median']:.1f} | {x['app_cpu_ms_per_vote']:.2f} | "
            f"{x['db_cpu_ms_per_vote']:.2f} |"
        )
    r = s["vote / bare insert"]
    lines.append(
        f"\nvote / bare insert: {r['votes_per_s']:.2f} of the votes/s, {r['p95']:.1f}× the p95, "
        f"{r['app_cpu']:.1f}× the app CPU, {r['db_cpu']:.1f}× the db CPU per vote"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="processes voting at once")
    parser.add_argument("--concurrency", type=int, default=10, help="votes in flight per process (≤ the pool's 10)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.voters < 10 or args.workers < 1 or args.concurrency < 1:
        parser.error("--rounds ≥ 1, --voters ≥ 10, --workers ≥ 1, --concurrency ≥ 1")
    results = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"civic_virtue-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(table(results["summary"]))
    print(f"\nload average before {results['loadavg_before']}, after {results['loadavg_after']}; {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
