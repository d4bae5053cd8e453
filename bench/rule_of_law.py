"""平安法治: the district's mediation case list and the pillar's indicators at 1,000 and 100,000 cases.

    .venv/bin/python bench/rule_of_law.py                                  # sizes 1000 100000, 30 runs
    .venv/bin/python bench/rule_of_law.py --sizes 1000 10000 100000 --runs 50

PostgreSQL only. A fresh database is built as bench/pages.py builds it (migrations, tenants/
applied, demo seeded — which holds 69 teams and about 130 cases); rl_cases rows are then added by
COPY up to each size: at shuangluan's 132 grids, created over the last 365 days, states like a
district's year (most concluded, about 6 % still open and some of those overdue), with
days_to_close, due dates and overdue flags. ANALYZE runs after each fill. For the demo users
``admin`` (the district), ``mediator`` (元宝山街道) and ``community`` (双安社区) — their real role
assignments and the tenant's policy — it runs in a tenant-bound session as the non-owner app role
under row-level security, ``--runs`` times after 2 warm-up runs:

- case list   ``cases.listing`` (the route's statement) through ``paginate``: count, then page 1 of 50;
- case list, overdue only   the same with the overdue filter;
- indicators  ``indicators.figures`` (dispute count, one aggregate over cases, the teams' composition).

p50/p95 per size and the p95 ratio of the largest size to the smallest are printed and written to
bench/results/rule_of_law-<time>.json. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import RESULTS, bulk_insert
from bench.smart_service import limit, stats, timed

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PERSONAS = {"district": "admin", "sub-district mediator": "mediator", "community": "community"}
ID_BASE = 10**9
STATES = (
    ("followed_up", 52),
    ("agreed", 14),
    ("terminated", 16),
    ("refused", 6),
    ("pending", 2),
    ("accepted", 2),
    ("investigating", 3),
    ("mediating", 5),
)
OPEN = {"pending", "accepted", "investigating", "mediating"}


async def fill(prep: Any, start: int, count: int, seed: int, now: datetime) -> None:
    from sqlalchemy import select

    from core.db.engine import make_engine
    from core.grids.models import GridNode
    from plugins.rule_of_law.models import Case

    rng = random.Random(seed + start)
    engine = make_engine(prep.owner_url)
    async with engine.begin() as conn:
        grids = (
            await conn.execute(
                select(GridNode.id, GridNode.path).where(GridNode.tenant_id == prep.tenant_id, GridNode.kind == "grid")
            )
        ).all()
        states = [s for s, _ in STATES]
        weights = [w for _, w in STATES]
        rows = []
        for i in range(start, start + count):
            node_id, path = rng.choice(grids)
            created = now - timedelta(days=rng.random() * 365, minutes=rng.randint(0, 600))
            state = rng.choices(states, weights)[0]
            accepted = None if state in ("pending", "refused") else created + timedelta(days=rng.randint(0, 3))
            due = (accepted + timedelta(days=30)).date() if accepted else None
            concluded = None if state in OPEN else (accepted or created) + timedelta(days=rng.randint(1, 40))
            rows.append(
                {
                    "tenant_id": prep.tenant_id,
                    "id": ID_BASE + i,
                    "number": f"BENCH-{i:07d}",
                    "node_id": node_id,
                    "node_path": path,
                    "dispute_id": None,
                    "title": "楼上漏水致楼下顶棚受损",
                    "kind": rng.choice(("neighbour", "family", "property", "labour", "other")),
                    "state": state,
                    "origin": None if accepted is None else "application",
                    "created_at": created,
                    "accepted_at": accepted,
                    "due_on": due,
                    "overdue_at": now if state in OPEN and due and due < now.date() else None,
                    "concluded_at": concluded,
                    "days_to_close": (concluded - (accepted or created)).days if concluded else None,
                    "parties": json.dumps([{"name": "甲"}, {"name": "乙"}], ensure_ascii=False),
                    "facts": "",
                    "matters": "",
                    "terms": "",
                    "performance": "",
                    "effective_on": None,
                    "confirmation_due_on": None,
                    "routes": "[]",
                    "agreement_document_id": None,
                    "version": 1,
                }
            )
        await bulk_insert(conn, Case.__table__, rows)
        await conn.exec_driver_sql("ANALYZE rl_cases")
    await engine.dispose()


async def measure(prep: Any, runs: int, warmup: int, budget_s: float, timeout_s: float) -> dict[str, Any]:
    from sqlalchemy import func, select

    from core.db.engine import Database
    from core.identity.models import User
    from core.rbac.enforcer import TenantPolicy
    from core.rbac.models import RolePermission
    from core.web.context import RequestContext, load_subject
    from core.web.pagination import paginate
    from plugins.rule_of_law import cases, indicators
    from plugins.rule_of_law.plugin import CASE_ACCEPT, CASE_READ, VIEW

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
                prefixes = sorted({p for a in (VIEW, CASE_ACCEPT, CASE_READ) for p in c.scope_prefixes(a)})
                view = c.scope_prefixes(VIEW) or prefixes
                res: dict[str, Any] = {"prefixes": len(prefixes), "queries": {}}
                await limit(s, timeout_s)
                listing = cases.listing(prefixes, user.id)
                overdue = cases.listing(prefixes, user.id, overdue=True)
                res["cases_in_view"] = await s.scalar(
                    select(func.count()).select_from(listing.order_by(None).subquery())
                )

                async def case_list(stmt: Any = listing) -> None:
                    await paginate(s, stmt, 1)
                    s.expunge_all()

                async def overdue_list(stmt: Any = overdue) -> None:
                    await case_list(stmt)

                async def figures(view: list[str] = view) -> None:
                    await indicators.figures(s, view, {})
                    s.expunge_all()

                for name, fn in {
                    "case list": case_list,
                    "case list, overdue": overdue_list,
                    "indicators": figures,
                }.items():
                    ns, timeouts = await timed(s, fn, runs, warmup, budget_s, timeout_s)
                    res["queries"][name] = {**stats(ns), "timeouts": timeouts}
                    await s.rollback()
                    await limit(s, timeout_s)
            out[who] = res
    finally:
        await db.dispose()
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from bench.pages import prepared_database

    results: dict[str, Any] = {"benchmark": "rule_of_law queries", "database": "postgresql", "sizes": {}}
    results["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="liuzhi-bench-") as tmp:
        async with prepared_database("postgresql", args.pg_url, Path(tmp)) as prep:
            from sqlalchemy import func, select

            from core.db.engine import make_engine
            from plugins.rule_of_law.models import Case

            engine = make_engine(prep.owner_url)
            async with engine.connect() as conn:
                have = int(await conn.scalar(select(func.count(Case.id)).where(Case.tenant_id == prep.tenant_id)) or 0)
            await engine.dispose()
            results["demo_cases"] = have
            done = 0
            for size in sorted(args.sizes):
                t = time.perf_counter()
                target = max(0, size - have)
                await fill(prep, done, target - done, args.seed, now)
                done = target
                print(f"{size:>9,} cases: filled in {time.perf_counter() - t:.1f} s; measuring", flush=True)
                res = await measure(prep, args.runs, 2, args.budget, args.timeout)
                results["sizes"][size] = {"loadavg_after": os.getloadavg()[0], "users": res}
                for who, r in res.items():
                    print(f"  {who:<22} cases in view {r['cases_in_view']:>7,}")
                    for name, q in r["queries"].items():
                        print(
                            f"    {name:<20} n {q['n']:>2}  p50 {q['p50_ms']:8.1f}  p95 {q['p95_ms']:8.1f} ms",
                            flush=True,
                        )
    sizes = sorted(results["sizes"])
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        results["ratios_p95"] = {
            who: {
                name: round(q["p95_ms"] / max(results["sizes"][lo]["users"][who]["queries"][name]["p95_ms"], 0.01), 1)
                for name, q in results["sizes"][hi]["users"][who]["queries"].items()
            }
            for who in results["sizes"][hi]["users"]
        }
        print(f"p95 ratio {hi:,}/{lo:,}:")
        for who, r in results["ratios_p95"].items():
            print(f"  {who:<22} " + "  ".join(f"{k}: {v}x" for k, v in r.items()))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per query before it stops at 5 runs")
    parser.add_argument("--timeout", type=float, default=20.0, help="statement timeout (s)")
    parser.add_argument("--seed", type=int, default=13)
    out = asyncio.run(main(parser.parse_args()))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"rule_of_law-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    print(f"written {path}")
