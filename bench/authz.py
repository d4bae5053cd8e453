"""Cost of one authorization check at 1k, 100k and 1M role assignments: our design against a plain
casbin Enforcer holding the same policies.

    .venv/bin/python bench/authz.py                     # PostgreSQL on the default URL
    .venv/bin/python bench/authz.py --sizes 1000 100000 --checks 2000

Ours (core/rbac/enforcer.py): casbin holds only the role → action table (TenantPolicy); a request
loads ONE user's assignments by the indexed query of core.web.context.load_subject (tenant_id,
user_id), in a tenant-bound session as the non-owner app role under RLS, then asks
``policy.allows(subject, action, path)``. Reported: the in-memory check alone, and load + check.

Baseline: a plain ``casbin.Enforcer`` with RBAC-with-domains — ``g = _, _, _`` (user, role,
node-path pattern ``/1/2/*``) with keyMatch as the domain matching function, ``p = role, act``
the same role → action table — holding every assignment as a ``g`` line, timing ``enforce``.
It runs in a child process per size (memory capped at 8 GB, loading given 5 minutes, checks a
time budget); a size that does not fit is reported as such and larger ones are skipped.

Same seed, same checks for both; the answers are compared (``mismatches``). Benchmarks only
report: nothing here asserts on time. Results go to bench/results/authz-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
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

# 1 district, 10 streets, 100 communities, 1,000 grids, 10,000 buildings.
FANOUT = [("street", 10), ("community", 10), ("grid", 10), ("building", 10)]
ROLES_BY_KIND = {
    "district": ["district_admin"],
    "street": ["subdistrict_officer"],
    "community": ["community_secretary", "community_worker", "party_admin", "mediator"],
    "grid": ["grid_worker", "grid_leader"],
    "building": ["building_head", "volunteer", "resident"],
}
KIND_WEIGHTS = {"district": 0.0005, "street": 0.01, "community": 0.1, "grid": 0.45, "building": 0.44}
CASBIN_MODEL = """
[request_definition]
r = sub, dom, act

[policy_definition]
p = role, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.role, r.dom) && keyMatch(r.act, p.act)
"""
LOAD_LIMIT_S = 300.0
MEMORY_LIMIT = 8 * 1024**3


def rules_and_actions() -> tuple[list[tuple[str, str]], list[str]]:
    """The default role → action table of core and every installed plugin, as a tenant gets it."""
    from core.app import load_models
    from core.pluginhost.manager import PluginHost
    from core.rbac.defaults import default_rules
    from core.tenancy.service import all_actions

    host = PluginHost()
    load_models(host)
    actions = all_actions(host)
    return sorted(default_rules(actions)), sorted({a.name for a in actions})


def make_assignments(nodes: list[Node], total: int, rng: random.Random) -> list[tuple[int, str, Node]]:
    """(user, role, node): users get 1–3 assignments each (2 on average) until ``total``."""
    by_kind: dict[str, list[Node]] = {}
    for n in nodes:
        by_kind.setdefault(n.kind, []).append(n)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    out: list[tuple[int, str, Node]] = []
    user = 0
    while len(out) < total:
        user += 1
        seen: set[tuple[str, int]] = set()
        for _ in range(rng.randint(1, 3)):
            kind = rng.choices(kinds, weights)[0]
            node = rng.choice(by_kind[kind])
            role = rng.choice(ROLES_BY_KIND[kind])
            if (role, node.id) not in seen and len(out) < total:
                seen.add((role, node.id))
                out.append((user, role, node))
    return out


def make_checks(
    assignments: list[tuple[int, str, Node]], nodes: list[Node], actions: list[str], n: int, rng: random.Random
) -> list[tuple[int, str, str]]:
    """(user, action, path): half at or below one of the user's nodes, half anywhere in the tree."""
    children: dict[int, list[Node]] = {}
    for node in nodes:
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node)
    out = []
    for _ in range(n):
        user, _role, node = rng.choice(assignments)
        if rng.random() < 0.5:
            while node.id in children and rng.random() < 0.6:
                node = rng.choice(children[node.id])
        else:
            node = rng.choice(nodes)
        out.append((user, rng.choice(actions), node.path))
    return out


def summary(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    return {
        "n": len(s),
        "p50_us": pct(s, 50) / 1000,
        "p99_us": pct(s, 99) / 1000,
        "mean_us": statistics.fmean(s) / 1000 if s else float("nan"),
    }


# ---- ours ----------------------------------------------------------------------------------


async def fill(fresh: Any, nodes: list[Node], assignments: list[tuple[int, str, Node]], start: int, end: int) -> None:
    """Add users and assignments [start, end) (sizes grow in the same database)."""
    from sqlalchemy import text

    from core.db.engine import make_engine
    from core.identity.models import User
    from core.rbac.models import RoleAssignment

    engine = make_engine(fresh.owner_url)
    async with engine.begin() as conn:
        if start == 0:
            await bulk_insert(
                conn, __import__("core.grids.models", fromlist=["GridNode"]).GridNode.__table__, node_rows(nodes)
            )
        new = assignments[start:end]
        known = {u for u, _r, _n in assignments[:start]}
        users = sorted({u for u, _r, _n in new} - known)
        await bulk_insert(
            conn,
            User.__table__,
            [
                {
                    "tenant_id": TENANT_ID,
                    "id": u,
                    "username": f"u{u}",
                    "display_name": f"u{u}",
                    "password_hash": "x",
                    "is_active": True,
                    "locale": None,
                    "created_at": NOW,
                    "last_login_at": None,
                }
                for u in users
            ],
        )
        await bulk_insert(
            conn,
            RoleAssignment.__table__,
            [
                {
                    "tenant_id": TENANT_ID,
                    "id": start + i + 1,
                    "user_id": u,
                    "role_code": r,
                    "node_id": n.id,
                    "node_path": n.path,
                }
                for i, (u, r, n) in enumerate(new)
            ],
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE users"))
        await conn.execute(text("ANALYZE role_assignments"))
    await engine.dispose()


async def measure_ours(
    fresh: Any, rules: list[tuple[str, str]], checks: list[tuple[int, str, str]], warmup: int
) -> dict[str, Any]:
    from sqlalchemy import select, text

    from core.db.engine import Database
    from core.rbac.enforcer import TenantPolicy
    from core.rbac.models import RoleAssignment
    from core.web.context import load_subject

    policy = TenantPolicy(rules, 0)
    db = Database(fresh.app_url)
    load_ns: list[int] = []
    both_ns: list[int] = []
    check_ns: list[int] = []
    answers: list[bool] = []
    try:
        async with db.session(TENANT_ID) as s:
            await s.execute(text("SELECT 1"))  # the request's transaction is open (BEGIN, RLS tenant set)
            for i, (user, action, path) in enumerate([*checks[:warmup], *checks]):
                t0 = time.perf_counter_ns()
                subject = await load_subject(s, user)
                t1 = time.perf_counter_ns()
                ok = policy.allows(subject, action, path)
                t2 = time.perf_counter_ns()
                if i >= warmup:
                    load_ns.append(t1 - t0)
                    both_ns.append(t2 - t0)
                    answers.append(ok)
            # the in-memory check alone, on subjects already loaded (no database in the loop)
            subjects = {}
            for user, _a, _p in checks:
                if user not in subjects:
                    subjects[user] = await load_subject(s, user)
            for user, action, path in checks[:warmup]:
                policy.allows(subjects[user], action, path)
            for user, action, path in checks:
                sub = subjects[user]
                t0 = time.perf_counter_ns()
                policy.allows(sub, action, path)
                check_ns.append(time.perf_counter_ns() - t0)
            stmt = select(RoleAssignment.role_code, RoleAssignment.node_path, RoleAssignment.node_id).where(
                RoleAssignment.user_id == checks[0][0], RoleAssignment.tenant_id == TENANT_ID
            )
            sql = str(stmt.compile(dialect=s.bind.dialect, compile_kwargs={"literal_binds": True}))
            plan = [r[0] for r in (await s.execute(text("EXPLAIN " + sql))).all()]
    finally:
        await db.dispose()
    return {
        "check": summary(check_ns),
        "load": summary(load_ns),
        "load_and_check": summary(both_ns),
        "allowed": sum(answers),
        "answers": answers,
        "plan": plan,
    }


# ---- the casbin baseline (child process) -----------------------------------------------------


def _casbin_child(
    rules: list[tuple[str, str]],
    grouping: list[list[str]],
    checks: list[tuple[int, str, str]],
    warmup: int,
    budget_s: float,
    out: Any,
) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        import casbin
        from casbin.model import Model
        from casbin.persist.adapters import FileAdapter
        from casbin.util import key_match

        rss0 = rss_mb()
        # Loaded as casbin loads policies in production: from an adapter (a CSV file here), in one
        # go (add_named_grouping_policies checks each line for duplicates: quadratic).
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
            fh.writelines(f"p, {role}, {act}\n" for role, act in rules)
            fh.writelines(f"g, {u}, {role}, {dom}\n" for u, role, dom in grouping)
        del grouping[:]
        t0 = time.perf_counter()
        model = Model()
        model.load_model_from_text(CASBIN_MODEL)
        e = casbin.Enforcer(model)
        e.add_named_domain_matching_func("g", key_match)
        e.set_adapter(FileAdapter(fh.name))
        e.load_policy()
        load_s = time.perf_counter() - t0
        Path(fh.name).unlink()
        out.put({"stage": "loaded", "load_s": load_s, "rss_mb": rss_mb(), "rss0_mb": rss0})
        # Warm-up gets a quarter of the budget at most: at 1M a first check in a new domain
        # builds that domain's role manager from every matching link and takes seconds.
        warm_until = time.perf_counter() + budget_s / 4
        for user, action, path in checks[:warmup]:
            e.enforce(f"u{user}", path, action)
            if time.perf_counter() > warm_until:
                break
        deadline = time.perf_counter() + budget_s * 3 / 4
        ns: list[int] = []
        answers: list[bool] = []
        for user, action, path in checks:
            t = time.perf_counter_ns()
            ok = e.enforce(f"u{user}", path, action)
            ns.append(time.perf_counter_ns() - t)
            answers.append(bool(ok))
            if time.perf_counter() > deadline:
                break
        out.put({"stage": "done", "enforce": summary(ns), "answers": answers, "peak_rss_mb": rss_mb()})
    except MemoryError:
        out.put({"stage": "failed", "error": "MemoryError (8 GB cap)"})
    except Exception as exc:  # report, never hide
        out.put({"stage": "failed", "error": repr(exc)})


def measure_casbin(
    rules: list[tuple[str, str]],
    assignments: list[tuple[int, str, Node]],
    checks: list[tuple[int, str, str]],
    warmup: int,
    budget_s: float,
) -> dict[str, Any]:
    grouping = [[f"u{u}", r, n.path + "*"] for u, r, n in assignments]
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_casbin_child, args=(rules, grouping, checks, warmup, budget_s, q))
    proc.start()
    res: dict[str, Any] = {}
    try:
        try:
            res.update(q.get(timeout=LOAD_LIMIT_S))
        except Exception:
            return {"error": f"loading took more than {LOAD_LIMIT_S:.0f} s: stopped"}
        if res.get("stage") == "loaded":
            try:
                res.update(q.get(timeout=budget_s * 3 + 120))
            except Exception:
                res["error"] = "checks did not finish"
        return res
    finally:
        if proc.is_alive():
            proc.kill()  # our own child, by its handle
        proc.join()


# ---- main ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rules, actions = rules_and_actions()
    nodes = make_tree(FANOUT)
    sizes = sorted(args.sizes)
    rng = random.Random(args.seed)
    assignments = make_assignments(nodes, sizes[-1], rng)
    print(f"{len(rules)} role → action rules, {len(actions)} actions, {len(nodes)} nodes", flush=True)
    results: dict[str, Any] = {"sizes": {}, "rules": len(rules), "nodes": len(nodes)}
    casbin_stopped: str | None = None
    with tempfile.TemporaryDirectory() as tmp:
        async with fresh_database("postgresql", args.pg_url, Path(tmp), "authz") as fresh:
            done = 0
            for size in sizes:
                t = time.perf_counter()
                await fill(fresh, nodes, assignments, done, size)
                done = size
                fill_s = time.perf_counter() - t
                part = assignments[:size]
                checks = make_checks(part, nodes, actions, args.checks, random.Random(args.seed + size))
                ours = await measure_ours(fresh, rules, checks, args.warmup)
                row: dict[str, Any] = {
                    "users": len({u for u, _r, _n in part}),
                    "fill_s": round(fill_s, 1),
                    "ours": {k: v for k, v in ours.items() if k != "answers"},
                }
                if casbin_stopped is None:
                    t = time.perf_counter()
                    base = measure_casbin(rules, part, checks, args.warmup, args.budget)
                    base["wall_s"] = round(time.perf_counter() - t, 1)
                    answers = base.pop("answers", None)
                    if answers is not None:
                        base["mismatches"] = sum(a != b for a, b in zip(answers, ours["answers"], strict=False))
                    if "error" in base or base.get("stage") == "failed":
                        casbin_stopped = f"stopped at {size}: {base.get('error')}"
                    row["casbin"] = base
                else:
                    row["casbin"] = {"skipped": casbin_stopped}
                results["sizes"][size] = row
                print(line(size, row), flush=True)
    results["casbin_stopped"] = casbin_stopped
    return results


def line(size: int, row: dict[str, Any]) -> str:
    o, b = row["ours"], row["casbin"]
    text = (
        f"{size:>9,} assignments ({row['users']:,} users): ours check p50 {o['check']['p50_us']:.2f} µs "
        f"p99 {o['check']['p99_us']:.2f} µs; load+check p50 {o['load_and_check']['p50_us']:.0f} µs "
        f"p99 {o['load_and_check']['p99_us']:.0f} µs"
    )
    if "enforce" in b:
        text += (
            f" | casbin load {b['load_s']:.1f} s, rss {b['rss_mb']:.0f} MB, "
            f"enforce p50 {b['enforce']['p50_us']:.0f} µs "
            f"p99 {b['enforce']['p99_us']:.0f} µs (n={b['enforce']['n']}, mismatches {b.get('mismatches')})"
        )
    else:
        text += f" | casbin: {b.get('error') or b.get('skipped')}"
    return text


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    sizes = sorted(results["sizes"])
    lo, hi = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
    out: dict[str, float | None] = {}
    for key in ("check", "load", "load_and_check"):
        for q in ("p50_us", "p99_us"):
            out[f"ours {key} {q}"] = hi["ours"][key][q] / lo["ours"][key][q]
    ok = [s for s in sizes if "enforce" in results["sizes"][s]["casbin"]]
    for q in ("p50_us", "p99_us"):
        out[f"casbin enforce {q} ({ok[-1] if ok else '-'}/{sizes[0]})"] = (
            results["sizes"][ok[-1]]["casbin"]["enforce"][q] / results["sizes"][sizes[0]]["casbin"]["enforce"][q]
            if len(ok) > 1
            else None
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=PG_DEFAULT)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    ap.add_argument("--checks", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20260)
    ap.add_argument("--budget", type=float, default=90.0, help="seconds of casbin checks per size at most")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    results["ratios"] = ratios(results)
    results["runtime_s"] = round(time.perf_counter() - started, 1)
    results["peak_rss_mb_parent"] = round(rss_mb())
    results["machine"] = {"python": platform.python_version(), "cpus": mp.cpu_count()}
    for k, v in results["ratios"].items():
        print(f"ratio {k}: {v:.2f}" if v is not None else f"ratio {k}: n/a")
    print(f"runtime {results['runtime_s']} s")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"authz-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
