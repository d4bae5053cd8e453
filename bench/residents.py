"""The scoped resident list (/residents/, first page) at 10k and 1M residents, for three users.

    .venv/bin/python bench/residents.py                       # PostgreSQL 10k and 1M, SQLite 10k
    .venv/bin/python bench/residents.py --pg-sizes 10000 --sqlite-sizes 10000 --runs 20

The statement is the route's own: ``core.grids.residents.resident_query`` (scope predicate
``in_scope(Resident.node_path, prefixes)``, ORDER BY name, id) run through
``core.web.pagination.paginate`` with the route's ``cap`` (a count over the statement that stops
at 10,001 rows, then LIMIT 50), in a tenant-bound
session — on PostgreSQL as the non-owner app role under RLS — with the prefixes the real
TenantPolicy gives each user:

- grid worker         grid_worker at one grid (≈ 1/384 of the residents)
- community secretary community_secretary at one community (8 grids, ≈ 1/48)
- district admin      district_admin at the root (everything, plus rows without a node)

Each is run ``--runs`` times after warm-up; p50/p95 of the whole list (count + page) and of the
count and the page statement alone (keys first, as ``core.db.paging`` reads a page). EXPLAIN
ANALYZE of both statements is kept in the JSON (with
the tenant filter the ORM adds written out). Rows go in by COPY (PostgreSQL) or executemany
(SQLite) into a fresh database made by the migrations; encrypted columns hold a constant dummy
blob, hashes are distinct. Benchmarks only report: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import (
    NOW,
    PG_DEFAULT,
    RESULTS,
    TENANT_ID,
    Node,
    bulk_insert,
    fresh_database,
    make_tree,
    node_rows,
    pct,
    rss_mb,
)

# 1 district, 8 streets, 48 communities, 384 grids, 3,840 buildings; residents live in buildings.
FANOUT = [("street", 8), ("community", 6), ("grid", 8), ("building", 10)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏建华红梅宇浩然子涵欣怡梓轩雨"
BLOB = bytes(60)  # stands for an AES-GCM ciphertext: encryption is not what is measured


def resident_rows(start: int, end: int, buildings: list[Node], rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, end):
        b = rng.choice(buildings)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        rows.append(
            {
                "tenant_id": TENANT_ID,
                "id": i + 1,
                "name": name,
                "gender": rng.choice(("male", "female")),
                "birth_date": None,
                "id_number_enc": BLOB,
                "id_number_hash": f"{i:064x}",
                "id_number_masked": "110***********001X",
                "phone_enc": BLOB,
                "phone_hash": f"{i + 10**12:064x}",
                "phone_masked": "138****1234",
                "ethnicity": "汉族",
                "registration": "户籍",
                "status": "active",
                "node_id": b.id,
                "node_path": b.path,
                "note": "",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    return rows


async def fill(fresh: Any, nodes: list[Node], start: int, end: int, seed: int) -> None:
    from sqlalchemy import text

    from core.db.engine import make_engine
    from core.grids.basedata import Resident
    from core.grids.models import GridNode

    buildings = [n for n in nodes if n.kind == "building"]
    rng = random.Random(seed + start)
    engine = make_engine(fresh.owner_url)
    async with engine.begin() as conn:
        if start == 0:
            await bulk_insert(conn, GridNode.__table__, node_rows(nodes))
        for i in range(start, end, 100_000):
            await bulk_insert(conn, Resident.__table__, resident_rows(i, min(end, i + 100_000), buildings, rng))
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        if fresh.kind == "postgresql":
            await conn.execute(text("VACUUM ANALYZE residents"))
            await conn.execute(text("VACUUM ANALYZE grid_nodes"))
        else:
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


def personas(nodes: list[Node]) -> dict[str, tuple[str, Node]]:
    community = next(n for n in nodes if n.kind == "community")
    grid = next(n for n in nodes if n.kind == "grid" and n.parent_id == community.id)
    return {
        "grid worker": ("grid_worker", grid),
        "community secretary": ("community_secretary", community),
        "district admin": ("district_admin", nodes[0]),
    }


def stats(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    return {"p50_ms": pct(s, 50) / 1e6, "p95_ms": pct(s, 95) / 1e6, "n": len(s)}


async def measure(fresh: Any, nodes: list[Node], runs: int, warmup: int) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from core.app import load_models
    from core.db.engine import Database
    from core.db.paging import page_statement
    from core.grids.residents import resident_query
    from core.pluginhost.manager import PluginHost
    from core.rbac.defaults import default_rules
    from core.rbac.enforcer import Assignment, Subject, TenantPolicy
    from core.tenancy.service import all_actions
    from core.web.context import RequestContext
    from core.web.pagination import COUNT_CAP, paginate

    host = PluginHost()
    load_models(host)
    policy = TenantPolicy(default_rules(all_actions(host)), 0)
    db = Database(fresh.app_url)
    out: dict[str, Any] = {}
    try:
        for who, (role, node) in personas(nodes).items():
            async with db.session(TENANT_ID) as s:
                c = RequestContext(
                    user=SimpleNamespace(id=1),  # type: ignore[arg-type]
                    subject=Subject(1, (Assignment(role, node.path, node.id),)),
                    policy=policy,
                    db=s,
                )
                # No search term: neither the vault nor the searcher is consulted.
                listing = await resident_query(s, None, c, None, "", "", "")  # type: ignore[arg-type]
                stmt = listing.stmt
                assert not listing.errors
                # The route's count stops at COUNT_CAP (the page says "10,000+").
                count_stmt = select(func.count()).select_from(stmt.order_by(None).limit(COUNT_CAP + 1).subquery())
                page_stmt = page_statement(stmt, 50, 0)  # the route's page: keys first, then the 50 rows
                whole, count_ns, page_ns = [], [], []
                total = 0
                for i in range(warmup + runs):
                    t0 = time.perf_counter_ns()
                    page = await paginate(s, stmt, 1, cap=COUNT_CAP)
                    t1 = time.perf_counter_ns()
                    await s.scalar(count_stmt)
                    t2 = time.perf_counter_ns()
                    (await s.execute(page_stmt)).scalars().all()
                    t3 = time.perf_counter_ns()
                    if i >= warmup:
                        whole.append(t1 - t0)
                        count_ns.append(t2 - t1)
                        page_ns.append(t3 - t2)
                    total = page.total
                    s.expunge_all()
                plans = {}
                for label in ("count", "page"):
                    sql = _literal(label, stmt, s)
                    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if fresh.kind == "postgresql" else "EXPLAIN QUERY PLAN "
                    rows = (await s.execute(text(prefix + sql))).all()
                    plans[label] = [" ".join(str(x) for x in r) if fresh.kind == "sqlite" else r[0] for r in rows]
            out[who] = {
                "prefixes": c.scope_prefixes("core.resident.view"),
                "total": total,
                "list": stats(whole),
                "count": stats(count_ns),
                "page": stats(page_ns),
                "ns": {"list": whole, "count": count_ns, "page": page_ns},
                "plans": plans,
                "path_index_used": {k: uses_path_index(v) for k, v in plans.items()},
                "prefix_in_index_cond": {k: path_bounds_index(v) for k, v in plans.items()},
            }
    finally:
        await db.dispose()
    return out


def _literal(label: str, stmt: Any, s: Any) -> str:
    """The statement as the ORM sends it (tenant filter written out), with literal values."""
    from sqlalchemy import func, select

    from core.db.paging import page_statement
    from core.grids.basedata import Resident
    from core.web.pagination import COUNT_CAP

    base = stmt.where(Resident.tenant_id == TENANT_ID)
    capped = base.order_by(None).limit(COUNT_CAP + 1)
    if label == "count":
        q = select(func.count()).select_from(capped.subquery())
    else:  # the inner key query gets the tenant term written out; the outer one reads 50 ids by key
        q = page_statement(base, 50, 0).where(Resident.tenant_id == TENANT_ID)
    return str(q.compile(dialect=s.bind.dialect, compile_kwargs={"literal_binds": True}))


def uses_path_index(plan: list[str]) -> bool:
    return any("ix_residents_tenant_path" in line for line in plan)


def path_bounds_index(plan: list[str]) -> bool:
    """Does the prefix narrow the index range, or is it only a filter on every row of the tenant?"""
    return any(("Index Cond" in ln or "SEARCH" in ln) and "node_path" in ln for ln in plan)


def _pooled(rounds: list[dict[str, Any]], who: str) -> dict[str, Any]:
    """The rounds' raw timings pooled (p50/p95) and the spread of the rounds' p95 of the list."""
    first = rounds[0][who]
    out = {k: v for k, v in first.items() if k not in ("list", "count", "page", "ns")}
    for k in ("list", "count", "page"):
        out[k] = stats([n for r in rounds for n in r[who]["ns"][k]])
    per = sorted(r[who]["list"]["p95_ms"] for r in rounds)
    out["list_round_p95_ms"] = {"median": per[len(per) // 2], "min": per[0], "max": per[-1]}
    return out


async def run_postgresql(args: argparse.Namespace, nodes: list[Node], tmp: Path) -> dict[str, Any]:
    """A database per size, then ``--rounds`` rounds each measuring every size in turn (a slow
    spell of the shared machine hits both sides of a ratio)."""
    import contextlib

    out: dict[str, Any] = {}
    sizes = sorted(args.pg_sizes)
    async with contextlib.AsyncExitStack() as stack:
        fresh = {}
        for size in sizes:
            fresh[size] = await stack.enter_async_context(
                fresh_database("postgresql", args.pg_url, tmp, f"residents{size}")
            )
            t = time.perf_counter()
            await fill(fresh[size], nodes, 0, size, args.seed)
            out[size] = {"fill_s": round(time.perf_counter() - t, 1)}
        rounds: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        loads = []
        for i in range(args.rounds):
            for size in sizes:
                rounds[size].append(await measure(fresh[size], nodes, args.runs, args.warmup))
            loads.append(round(os.getloadavg()[0], 2))
            print(f"round {i + 1}/{args.rounds}, load average {loads[-1]}", flush=True)
    for size in sizes:
        out[size]["users"] = {who: _pooled(rounds[size], who) for who in rounds[size][0]}
        out[size]["loadavg_rounds"] = loads
        for who, r in out[size]["users"].items():
            print(
                f"postgresql {size:>9,} {who:20} rows {r['total']:>9,}  list p50 {r['list']['p50_ms']:8.2f}"
                f" p95 {r['list']['p95_ms']:8.2f} ms (rounds' p95 {r['list_round_p95_ms']['min']:.2f}–"
                f"{r['list_round_p95_ms']['max']:.2f}) | count p95 {r['count']['p95_ms']:8.2f} | page p95"
                f" {r['page']['p95_ms']:8.2f} ms",
                flush=True,
            )
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for who in out[lo]["users"]:
            per = sorted(
                a[who]["list"]["p95_ms"] / max(b[who]["list"]["p95_ms"], 1e-6)
                for a, b in zip(rounds[hi], rounds[lo], strict=True)
            )
            ratio = {
                k: round(out[hi]["users"][who][k]["p95_ms"] / out[lo]["users"][who][k]["p95_ms"], 2)
                for k in ("list", "count", "page")
            }
            ratio["list_rounds"] = {"median": round(per[len(per) // 2], 2), "min": round(per[0], 2)}
            ratio["list_rounds"]["max"] = round(per[-1], 2)
            out.setdefault("ratios_p95", {})[who] = ratio
            print(
                f"ratio {hi}/{lo} p95 {who}: list {ratio['list']:.2f}× (rounds {ratio['list_rounds']['median']:.2f},"
                f" {ratio['list_rounds']['min']:.2f}–{ratio['list_rounds']['max']:.2f}) count {ratio['count']:.2f}×"
                f" page {ratio['page']:.2f}×"
            )
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    nodes = make_tree(FANOUT)
    results: dict[str, Any] = {"nodes": len(nodes), "postgresql": {}, "sqlite": {}}
    results["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    results["rounds"], results["runs_per_round"] = args.rounds, args.runs
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg_sizes:
            results["postgresql"] = await run_postgresql(args, nodes, Path(tmp))
        if args.sqlite_sizes:
            async with fresh_database("sqlite", args.pg_url, Path(tmp), "residents") as fresh:
                done = 0
                for size in sorted(args.sqlite_sizes):
                    t = time.perf_counter()
                    await fill(fresh, nodes, done, size, args.seed)
                    done = size
                    fill_s = time.perf_counter() - t
                    res = await measure(fresh, nodes, args.runs, args.warmup)
                    results["sqlite"][size] = {"fill_s": round(fill_s, 1), "users": res}
                    for who, r in res.items():
                        r.pop("ns", None)
                        print(
                            f"sqlite     {size:>9,} {who:20} rows {r['total']:>9,}  list p50 {r['list']['p50_ms']:8.2f}"
                            f" p95 {r['list']['p95_ms']:8.2f} ms | count p50 {r['count']['p50_ms']:8.2f} | page p50 "
                            f"{r['page']['p50_ms']:8.2f} ms",
                            flush=True,
                        )
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=PG_DEFAULT)
    ap.add_argument("--pg-sizes", type=int, nargs="*", default=[10_000, 1_000_000])
    ap.add_argument("--sqlite-sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5, help="PostgreSQL: rounds, each measuring every size in turn")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20260)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    results["peak_rss_mb"] = round(rss_mb())
    results["python"] = platform.python_version()
    print(f"runtime {results['runtime_s']} s, peak RSS {results['peak_rss_mb']} MB")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"residents-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
