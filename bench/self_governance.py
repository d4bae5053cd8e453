"""bench/self_governance.py — counting owners' votes: the ballots service's tally against one SQL
aggregate over the same ballots (PostgreSQL, as the non-owner app role under RLS, after ANALYZE).

    .venv/bin/python bench/self_governance.py                      # 7 rounds
    .venv/bin/python bench/self_governance.py --rounds 9 --pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Two ballots, loaded in bulk into a fresh database:

- **estate**: an owners' assembly item under 民法典 第278条 (``owners_278``, item 6) of an estate of
  5,000 households — 4,700 owners (one owns three units, the developer's 240 unsold units are one
  owner), 80 % of them cast a ballot;
- **district**: a 居民代表 vote across the district (``majority_present``): 28 communities ×
  100 representatives, 85 % present.

Targets per ballot, each round interleaved:

- ``ballots.tally`` — participation, the per-option sums, the rule, and the digest (a SHA-256 over
  every electorate, cast and choice row in a fixed order: what makes the result reproducible);
- ``digest`` alone — the part of the tally that reads every row;
- **aggregate** — the baseline: ``SELECT option_id, sum(weight), sum(heads) … GROUP BY option_id``.

Reported: ms per call (median, min–max over rounds), app CPU ms per call (getrusage), database
CPU ms per call (the bench database's backends, /proc), and the ratio of each to the aggregate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench._data import PG_DEFAULT, RESULTS, TENANT_ID, fresh_database  # noqa: E402
from bench.pages import _backends, _cpu  # noqa: E402

CALLS = 5  # calls per target per round


async def load(owner_url: str, app_url: str) -> dict[str, int]:
    """The two ballots through the service (create, bulk electorate, open), the casts and choices
    by Core INSERTs as the owner. Returns {name: ballot id}."""
    import core.models  # noqa: F401
    from core.db.base import new_id
    from core.db.context import Actor
    from core.db.engine import Database, make_engine
    from core.grids.models import GridNode
    from core.services import ballots
    from core.services._common import now
    from core.services._schema import random_id
    from core.services.ballots.electorate import ElectorSpec
    from core.services.ballots.models import BallotCast, BallotChoice

    rnd = random.Random(278)
    db = Database(app_url)
    ids: dict[str, int] = {}
    async with db.transaction(TENANT_ID, Actor("user", 1, "bench")) as s:
        root = GridNode(id=new_id(), code="d", kind="district", name="基准区", path="", depth=0)
        root.path = f"/{root.id}/"
        estate = GridNode(id=new_id(), code="e", kind="estate", name="大型小区", parent_id=root.id, depth=1, path="")
        estate.path = f"{root.path}{estate.id}/"
        s.add_all([root, estate])
        await s.flush()
        owners = [ElectorSpec(f"owners:{i}", f"业主{i}", weight=rnd.randint(6000, 15000)) for i in range(4699)]
        owners[0] = ElectorSpec("owners:0", "三套房业主", weight=3 * 9000)
        owners.append(ElectorSpec("developer", "开发商", weight=240 * 9000))
        reps = [ElectorSpec(f"user:{i}", f"代表{i}", weight=100) for i in range(2800)]
        for name, node, rule, params, electors in (
            ("estate", estate, "owners_278", {"item": 6}, owners),
            ("district", root, "majority_present", {}, reps),
        ):
            b = await ballots.create(
                s,
                title=name,
                node=node,
                rule=rule,
                rule_params=params,
                opens_at=now(),
                closes_at=now().replace(year=now().year + 1),
            )
            await ballots.add_electors(s, b, electors)
            await ballots.open_ballot(s, b)
            ids[name] = b.id
    await db.dispose()
    engine = make_engine(owner_url)
    async with engine.begin() as conn:
        for name, share in (("estate", 0.80), ("district", 0.85)):
            options = [
                r[0]
                for r in await conn.execute(
                    text("SELECT id FROM ballot_options WHERE ballot_id = :b ORDER BY position"), {"b": ids[name]}
                )
            ]
            electors = list(
                await conn.execute(
                    text("SELECT id, weight, heads FROM ballot_electors WHERE ballot_id = :b"), {"b": ids[name]}
                )
            )
            casts, choices = [], []
            for eid, weight, heads in electors:
                if rnd.random() > share:
                    continue
                cid = new_id()
                casts.append(
                    {
                        "tenant_id": TENANT_ID,
                        "id": cid,
                        "ballot_id": ids[name],
                        "elector_id": eid,
                        "channel": "online",
                        "weight": weight,
                        "heads": heads,
                        "cast_at": now(),
                    }
                )
                option = options[0] if rnd.random() < 0.78 else rnd.choice(options[1:])
                choices.append(
                    {
                        "tenant_id": TENANT_ID,
                        "id": random_id(),
                        "ballot_id": ids[name],
                        "option_id": option,
                        "cast_id": cid,
                        "weight": weight,
                        "heads": heads,
                    }
                )
            for i in range(0, len(casts), 5000):
                await conn.execute(BallotCast.__table__.insert(), casts[i : i + 5000])
                await conn.execute(BallotChoice.__table__.insert(), choices[i : i + 5000])
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return ids


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import core.models  # noqa: F401
    from core.db.engine import Database
    from core.services import ballots
    from core.services.ballots import service

    work = Path(tempfile.mkdtemp(prefix="liuzhi-bench-sg-"))
    async with fresh_database("postgresql", args.pg_url, work, "sg") as fresh:
        ids = await load(fresh.owner_url, fresh.app_url)
        db = Database(fresh.app_url)
        aggregate = text(
            "SELECT option_id, sum(weight), sum(heads) FROM ballot_choices WHERE ballot_id = :b GROUP BY option_id"
        )

        async def t_tally(s: Any, b: Any) -> Any:
            return (await ballots.tally(s, b)).outcome

        async def t_digest(s: Any, b: Any) -> Any:
            return await service._digest(s, b)

        async def t_aggregate(s: Any, b: Any) -> Any:
            return (await s.execute(aggregate, {"b": b.id})).all()

        targets = {"tally": t_tally, "digest": t_digest, "aggregate": t_aggregate}
        samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        outcomes: dict[str, Any] = {}
        for _round in range(args.rounds):
            for name, bid in ids.items():
                for tname, fn in targets.items():
                    async with db.transaction(TENANT_ID) as s:
                        b = await ballots.get(s, bid)
                        await fn(s, b)  # warm: plan cache, pages in memory
                        backends = _backends(fresh.name)
                        db0 = sum(_cpu(p) for p in backends)
                        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
                        t0 = time.perf_counter()
                        for _ in range(CALLS):
                            out = await fn(s, b)
                        wall = (time.perf_counter() - t0) / CALLS
                        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
                        db1 = sum(_cpu(p) for p in _backends(fresh.name))
                    app_cpu = ((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)) / CALLS
                    samples.setdefault((name, tname), []).append((wall, app_cpu, (db1 - db0) / CALLS))
                    if tname == "tally":
                        outcomes[name] = {"valid": out.valid, "passed": out.passed, "figures": out.figures}
        await db.dispose()
    report: dict[str, Any] = {"rounds": args.rounds, "calls_per_round": CALLS, "ballots": {}}
    for name in ids:
        base = statistics.median(w for w, _a, _d in samples[(name, "aggregate")])
        rows = {}
        for tname in targets:
            walls = [w for w, _a, _d in samples[(name, tname)]]
            med = statistics.median(walls)
            rows[tname] = {
                "ms_median": round(1000 * med, 2),
                "ms_min": round(1000 * min(walls), 2),
                "ms_max": round(1000 * max(walls), 2),
                "app_cpu_ms": round(1000 * statistics.median(a for _w, a, _d in samples[(name, tname)]), 2),
                "db_cpu_ms": round(1000 * statistics.median(d for _w, _a, d in samples[(name, tname)]), 2),
                "ratio_to_aggregate": round(med / base, 1),
            }
        report["ballots"][name] = {"targets": rows, "outcome": outcomes.get(name)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "self_governance.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
