"""Requests/s of a tenant page and its htmx partial against a bare Litestar handler, as ratios.

    .venv/bin/python bench/pages.py --db both --seconds 10 --concurrency 16

For each database it builds a fresh schema through the migrations, applies tenants/ and the demo
accounts, serves the real app and the bare baseline (bench/_server.py) with uvicorn (one worker
each, loopback, log level warning, no access log), signs in once as ``community`` and loads, one
target after another with the same client settings and duration:

- page          GET /t/shuangluan/grid/<双安社区>      session, tenant, guard, scope check, ORM, layout
- partial       the same with ``HX-Request: true``    … only the content block
- bare page     GET /grid/<双安社区> on the bare app   the ORM queries and the template alone
- bare partial  the same with ``HX-Request: true``    … only the content block

The real app runs as in production, with the operations layer on: Prometheus metrics, JSON logs
at INFO with one access line per request (to the server's log file). ``--ops both`` serves a
second real app with metrics, the access log and JSON off and adds its page and partial
("page ops off", "partial ops off"): the ratios "ops page" and "ops partial" are what the
operations layer costs (``--ops off`` measures only that one).

Load comes from wrk when it is installed (``apt-get install wrk``), else from an asyncio + httpx
generator in this process; both keep HTTP/1.1 connections alive, stop after ``--seconds`` or
``--max-requests``, and talk to 127.0.0.1 only. Besides requests/s and latency it reads from /proc
the CPU the server process (and, on PostgreSQL, the database's backends) spent per request. The
table is printed and written to bench/results/pages-<db>-<timestamp>.json. Benchmarks only
report: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: bench/ is sys.path[0], not the repo
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402

from bench._server import BARE_MENU, BARE_TENANT, BARE_URL, BARE_USER  # noqa: E402

RESULTS = HERE / "results"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
APP_ROLE = "liuzhi_app_bench"
TENANT = "shuangluan"
USERNAME = "community"
NODE_CODE = "sl-ybs-sa"  # 双安社区: a community with four grids below it
DEMO_PASSWORD = "liuzhi-demo"
RATIOS = {"page/bare": ("page", "bare page"), "partial/bare": ("partial", "bare partial")}
OPS_RATIOS = {"ops page": ("page", "page ops off"), "ops partial": ("partial", "partial ops off")}
OPS_ON = {"LIUZHI_METRICS": "1", "LIUZHI_ACCESS_LOG": "1", "LIUZHI_LOG_FORMAT": "json"}
OPS_OFF = {"LIUZHI_METRICS": "0", "LIUZHI_ACCESS_LOG": "0", "LIUZHI_LOG_FORMAT": "text"}


# ---- database ------------------------------------------------------------------------------


@dataclass
class Prepared:
    kind: str
    app_url: str  # what the real app connects with (a non-owner role on PostgreSQL)
    owner_url: str  # migrations; the bare app on PostgreSQL (superuser: RLS is kernel work)
    database: str | None = None  # the PostgreSQL database's name (for its backends' CPU)
    # The deployment secret the demo's residents were encrypted under: the real app gets the same.
    secret: str = field(default_factory=lambda: "bench-" + secrets.token_hex(8))
    tenant_id: int = 0
    node_id: int = 0


@contextlib.asynccontextmanager
async def prepared_database(kind: str, pg_url: str, workdir: Path) -> AsyncIterator[Prepared]:
    """A fresh database with the schema, the demo tenants and accounts; dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from core.db.engine import make_engine

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
        prep = Prepared(kind, url, url)
        await _seed(prep, workdir)
        yield prep
        return

    base = make_url(pg_url)
    name = f"liuzhi_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}):
            await conn.execute(text(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    await admin.dispose()
    owner = base.set(database=name)
    app = owner.set(username=APP_ROLE, password=None)
    prep = Prepared(kind, app.render_as_string(hide_password=False), owner.render_as_string(hide_password=False), name)
    try:
        await _seed(prep, workdir)
        yield prep
    finally:
        admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _seed(prep: Prepared, workdir: Path) -> None:
    """Schema through the migrations, then tenants/ with their demo data as ``liuzhi demo`` loads it:
    the base data (boundaries, residents, households) comes from files that need the deployment's
    vault, so the page measured shows what it shows in the demo."""
    from sqlalchemy import select

    from core.app import load_models
    from core.config import Settings
    from core.crypto import Vault
    from core.db.engine import Database
    from core.db.migrate import upgrade
    from core.grids.models import GridNode
    from core.pluginhost.manager import PluginHost
    from core.services.demo import seed_services_demo
    from core.services.files.storage import LocalStorage
    from core.tenancy.definitions import read_all
    from core.tenancy.demo import seed_demo
    from core.tenancy.models import Tenant
    from core.tenancy.service import apply_definition

    settings = Settings(
        database_url=prep.app_url,
        migrate_database_url=None if prep.kind == "sqlite" else prep.owner_url,
        data_dir=workdir,
        secret_key=prep.secret,
        data_keys=(prep.secret,),
        hash_key=prep.secret,
    )
    vault = Vault(settings.data_keys, settings.hash_key)
    host = PluginHost()
    load_models(host)
    await upgrade(settings, host)
    db = Database(settings.database_url)
    try:
        for d in read_all(settings.tenants_dir):
            await apply_definition(db, host, d)
            await seed_demo(db, host, d, vault=vault, storage=LocalStorage(workdir / "files"))
            await seed_services_demo(db, d.slug, d.demo_community)
        async with db.session(None) as s:
            prep.tenant_id = (await s.execute(select(Tenant.id).where(Tenant.slug == TENANT))).scalar_one()
        async with db.session(prep.tenant_id) as s:
            prep.node_id = (await s.execute(select(GridNode.id).where(GridNode.code == NODE_CODE))).scalar_one()
    finally:
        await db.dispose()
    if prep.kind == "postgresql":  # the planner sees the filled tables, as after any bench fill
        await _analyze(prep.owner_url)


async def _analyze(owner_url: str) -> None:
    from sqlalchemy import text

    from core.db.engine import make_engine

    engine = make_engine(owner_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def add_tenants(prep: Prepared, total: int) -> None:
    """Active districts up to ``total`` (every plugin on, no data), written by the owner: what a
    page of one district pays for the others (``--tenants 2`` vs ``--tenants 3000``)."""
    from sqlalchemy import func, select

    from bench._data import bulk_insert
    from core.app import load_models
    from core.db.engine import make_engine
    from core.pluginhost.manager import PluginHost
    from core.tenancy.models import Tenant, TenantPlugin
    from core.tenancy.plugins_on import encode

    if not total:
        return
    host = PluginHost()
    load_models(host)
    plugins = sorted(host.manifests)
    engine = make_engine(prep.owner_url)
    pg = prep.kind == "postgresql"
    async with engine.begin() as conn:
        have = int(await conn.scalar(select(func.count()).select_from(Tenant)) or 0)
        now = datetime.now().astimezone()
        ids = range(1, max(0, total - have) + 1)
        blank = "{}" if pg else {}
        await bulk_insert(
            conn,
            Tenant.__table__,
            [
                {
                    "id": i,
                    "slug": f"x{i}",
                    "name_zh": f"区{i}",
                    "name_en": f"District {i}",
                    "locale": "zh_Hans",
                    "status": "active",
                    "terminology": blank,
                    "branding": blank,
                    "policy_version": 0,
                    "require_second_factor": False,
                    "limits": blank,
                    "plugins_on": encode(plugins),
                    "created_at": now,
                }
                for i in ids
            ],
        )
        await bulk_insert(
            conn,
            TenantPlugin.__table__,
            [
                {"tenant_id": i, "id": i * 100 + k, "plugin": p, "enabled": True, "settings": blank, "updated_at": now}
                for i in ids
                for k, p in enumerate(plugins)
            ],
        )
    await engine.dispose()
    if pg:
        await _analyze(prep.owner_url)


# ---- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serve(name: str, factory: str, env: dict[str, str], workdir: Path) -> Iterator[Server]:
    """uvicorn, one worker, loopback; ready once it accepts connections (after its startup hooks)."""
    port = free_port()
    log = workdir / f"{name}.log"
    cmd = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", "1", "--log-level", "warning", "--no-access-log"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, proc, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} server exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        try:
            yield server
        except BaseException:
            print(f"--- {name} server log (tail) ---\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIUZHI_", "BENCH_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


# ---- the pages -----------------------------------------------------------------------------


async def sign_in(base: str) -> str:
    """Sign in once as the demo community secretary; the Cookie header every request reuses."""
    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as c:
        await c.get(f"/t/{TENANT}/login")
        r = await c.post(
            f"/t/{TENANT}/login",
            data={"username": USERNAME, "password": DEMO_PASSWORD, "_csrf_token": c.cookies.get("liuzhi_csrf") or ""},
        )
        if r.status_code != 303:
            raise RuntimeError(f"login failed: {r.status_code} {r.text[:300]}")
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


def menu_of(page: str) -> list[dict[str, str]]:
    """The navigation the real page shows, so the bare one renders the same layout."""
    nav = re.search(r'<nav id="lz-nav".*?</nav>', page, re.S)
    items = re.findall(
        r'<li><a href="([^"]+)"\s*(aria-current="page")?\s*><span class="lz-icon">(.*?)</span> (.*?)</a></li>',
        nav.group(0) if nav else "",
    )
    return [
        {"href": html.unescape(h), "active": "1" if cur else "", "icon": html.unescape(i), "title": html.unescape(t)}
        for h, cur, i, t in items
    ]


async def check(url: str, headers: dict[str, str], partial: bool) -> str:
    """One request before loading: the right page, or the figures would mean nothing."""
    async with httpx.AsyncClient(follow_redirects=False) as c:
        r = await c.get(url, headers=headers)
    body = r.text
    if r.status_code != 200 or "双安社区" not in body or ("<html" in body) == partial:
        raise RuntimeError(f"{url} ({'partial' if partial else 'page'}): {r.status_code} {body[:300]}")
    return body


_TOKEN = re.compile(r"\b(?:[0-9a-f]{64,}|x{64,})\b")


def first_difference(real: str, bare: str) -> str | None:
    """Where the bare HTML departs from the real page's, CSRF tokens aside (None: the same)."""
    a, b = _TOKEN.sub("<csrf>", real).splitlines(), _TOKEN.sub("<csrf>", bare).splitlines()
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"line {i + 1}: real {x.strip()[:160]!r} / bare {y.strip()[:160]!r}"
    return None if len(a) == len(b) else f"real has {len(a)} lines, bare {len(b)}"


# ---- load ----------------------------------------------------------------------------------

WRK_SCRIPT = """
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local count = 0
response = function(status, headers, body)
  count = count + 1
  if max_requests > 0 and count >= max_requests then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_app_s: float = 0.0  # CPU the app process spent meanwhile (its driver threads included)
    cpu_db_s: float = 0.0  # … and the PostgreSQL backends of the bench database

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(url: str, headers: dict[str, str], seconds: float, concurrency: int, max_requests: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT)
        script = fh.name
    try:
        # One thread: plenty for a Python server, and it leaves the other core to the server.
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", script]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        env = {**os.environ, "BENCH_MAX_REQUESTS": str(max_requests)}
        out = subprocess.run([*cmd, url], capture_output=True, text=True, env=env, timeout=seconds + 60, check=True)
    finally:
        os.unlink(script)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON "))
    d = json.loads(line.removeprefix("BENCH_JSON "))
    return Load(
        requests=d["requests"],
        seconds=d["duration_us"] / 1e6,
        errors=d["errors"],
        p50_ms=d["p50_us"] / 1000,
        p95_ms=d["p95_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))]


async def run_python(url: str, headers: dict[str, str], seconds: float, concurrency: int, max_requests: int) -> Load:
    """N workers on one keep-alive pool; each request is timed from send to the last body byte."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and len(latencies) < max_requests:
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Load(
        requests=len(latencies),
        seconds=elapsed,
        errors=errors,
        p50_ms=_percentile(latencies, 50) * 1000,
        p95_ms=_percentile(latencies, 95) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
    )


# CPU seconds per process from /proc: on a shared machine the server's own CPU per request is a
# steadier figure than requests/s, which also moves with whatever else runs.
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _backends(database: str | None) -> list[int]:
    """PostgreSQL backends serving ``database`` (their process title names it)."""
    if not database:
        return []
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres:") and f" {database} " in title:
                pids.append(int(proc.name))
    return pids


async def measure(
    tool: str, url: str, headers: dict[str, str], seconds: float, args: argparse.Namespace, pid: int, db: str | None
) -> Load:
    before = {p: _cpu(p) for p in [pid, *_backends(db)]}
    if tool == "wrk":
        result = await asyncio.to_thread(run_wrk, url, headers, seconds, args.concurrency, args.max_requests)
    else:
        result = await run_python(url, headers, seconds, args.concurrency, args.max_requests)
    result.cpu_app_s = _cpu(pid) - before[pid]
    result.cpu_db_s = sum(_cpu(p) - before.get(p, 0.0) for p in _backends(db))
    return result


# ---- profile (optional) --------------------------------------------------------------------


# Frames every sample passes through (interpreter start, event loop, threads): not informative.
_BOILERPLATE = (
    "runpy",
    "click/",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "asyncio/",
    "threading.py",
)

# Leaf frames of threads that wait on a queue (the wait itself is C code py-spy does not see as idle).
_IDLE_LEAVES = ("_connection_worker_thread (aiosqlite/", "_worker (concurrent/futures/thread.py")


def profile_summary(raw: Path, top: int = 30) -> list[tuple[str, float]]:
    """Share of samples whose stack passes through each function (inclusive), from py-spy's raw output."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(_IDLE_LEAVES):
            continue  # a driver or pool thread waiting for work
        total += int(n)
        for frame in set(frames):
            if not any(b in frame for b in _BOILERPLATE):
                inclusive[frame] += int(n)
    return [(frame, count / total) for frame, count in inclusive.most_common(top)] if total else []


async def profiled(pid: int, run: Any, seconds: float, out: Path) -> list[tuple[str, float]]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy is not installed (pip install py-spy): no profile", file=sys.stderr)
        return []
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "200"]
    cmd += ["--nonblocking", "--format", "raw", "--output", str(out)]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await run()
    await proc.wait()
    return profile_summary(out) if out.exists() else []


# ---- one database --------------------------------------------------------------------------


async def bench_database(kind: str, args: argparse.Namespace, tool: str) -> dict[str, Any]:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="liuzhi-bench-") as tmp:
        workdir = Path(tmp)
        async with prepared_database(kind, args.pg_url, workdir) as prep:
            await add_tenants(prep, args.tenants)
            real_env = {
                "LIUZHI_DATABASE_URL": prep.app_url,
                "LIUZHI_DATA_DIR": str(workdir),
                "LIUZHI_SECRET_KEY": prep.secret,
            }
            if kind == "postgresql":
                real_env["LIUZHI_MIGRATE_DATABASE_URL"] = prep.owner_url
            if args.redis_url:
                real_env["LIUZHI_REDIS_URL"] = args.redis_url
            real_env["LIUZHI_RUN_JOBS"] = "1" if args.jobs else "0"
            path = f"/t/{TENANT}/grid/{prep.node_id}"
            main_ops = OPS_OFF if args.ops == "off" else OPS_ON
            with (
                serve("real", "bench._server:real", server_env({**real_env, **main_ops}), workdir) as real,
                contextlib.ExitStack() as more,
            ):
                off = None
                if args.ops == "both":
                    off = more.enter_context(
                        serve("real-ops-off", "bench._server:real", server_env({**real_env, **OPS_OFF}), workdir)
                    )
                cookie = await sign_in(real.base)
                page = (await _get(real.base + path, {"Cookie": cookie})).text
                bare_env = {
                    BARE_URL: prep.owner_url,
                    BARE_TENANT: str(prep.tenant_id),
                    BARE_USER: USERNAME,
                    BARE_MENU: json.dumps(menu_of(page), ensure_ascii=False),
                }
                with serve("bare", "bench._server:bare", server_env(bare_env), workdir) as bare:
                    hx = {"HX-Request": "true"}
                    # The bare handler sits at the path the real one sees once /t/<slug> is taken off.
                    bare_url = f"{bare.base}/grid/{prep.node_id}"
                    targets: dict[str, tuple[Server, str, dict[str, str]]] = {
                        "page": (real, real.base + path, {"Cookie": cookie}),
                        "partial": (real, real.base + path, {"Cookie": cookie, **hx}),
                        "bare page": (bare, bare_url, {}),
                        "bare partial": (bare, bare_url, hx),
                    }
                    if off is not None:  # the same cookie: one database, one secret
                        targets["page ops off"] = (off, off.base + path, {"Cookie": cookie})
                        targets["partial ops off"] = (off, off.base + path, {"Cookie": cookie, **hx})
                    sizes, bodies = {}, {}
                    for name, (server, url, headers) in targets.items():
                        bodies[name] = await check(url, headers, partial="partial" in name)
                        sizes[name] = len(bodies[name].encode())
                        await measure(tool, url, headers, args.warmup, args, server.proc.pid, prep.database)
                    # The baseline means something only while it renders what the page renders.
                    differences = {k: first_difference(bodies[a], bodies[b]) for k, (a, b) in RATIOS.items()}
                    if off is not None:
                        differences.update(
                            {k: first_difference(bodies[a], bodies[b]) for k, (a, b) in OPS_RATIOS.items()}
                        )
                    for k, diff in differences.items():
                        if diff:
                            print(f"  warning: {k}: the bare HTML differs from the real one at {diff}", file=sys.stderr)
                    # Rounds interleave the targets, so a slow spell of the machine hits all of them.
                    runs: dict[str, list[Load]] = {name: [] for name in targets}
                    for rnd in range(args.rounds):
                        for name, (server, url, headers) in targets.items():
                            r = await measure(tool, url, headers, args.seconds, args, server.proc.pid, prep.database)
                            runs[name].append(r)
                            print(f"  {kind} round {rnd + 1}: {name:<13} {r.rps:8.1f} req/s", file=sys.stderr)
                    if any(r.errors for rs in runs.values() for r in rs):
                        RESULTS.mkdir(parents=True, exist_ok=True)
                        for server in (real, bare, *([off] if off else [])):
                            kept = RESULTS / f"pages-{kind}-{stamp}-{server.name}.log"
                            shutil.copyfile(server.log, kept)
                            print(f"  errors: {server.name} server log kept in {kept}", file=sys.stderr)
                    profile: list[tuple[str, float]] = []
                    if args.profile:
                        RESULTS.mkdir(parents=True, exist_ok=True)
                        _, url, headers = targets["page"]

                        async def page_load() -> None:
                            await measure(tool, url, headers, args.seconds, args, real.proc.pid, None)

                        raw = RESULTS / f"profile-page-{kind}-{stamp}.txt"
                        profile = await profiled(real.proc.pid, page_load, args.seconds, raw)
    meta = {
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    return report(kind, args, tool, stamp, path, runs, sizes, profile, meta, differences)


async def _get(url: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(follow_redirects=False) as c:
        r = await c.get(url, headers=headers)
    r.raise_for_status()
    return r


def _summary(runs: list[Load], size: int) -> dict[str, Any]:
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        # wrk gives percentiles, not samples: across rounds, the median of each
        "p50_ms": round(statistics.median(r.p50_ms for r in runs), 2),
        "p95_ms": round(statistics.median(r.p95_ms for r in runs), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in runs), 2),
        "errors": sum(r.errors for r in runs),
        "bytes": size,
        "app_cpu_ms_per_request": round(1000 * sum(r.cpu_app_s for r in runs) / requests, 3) if requests else None,
        "db_cpu_ms_per_request": round(1000 * sum(r.cpu_db_s for r in runs) / requests, 3) if requests else None,
        "rounds_rps": [round(r.rps, 1) for r in runs],
    }


def report(
    kind: str,
    args: argparse.Namespace,
    tool: str,
    stamp: str,
    path: str,
    runs: dict[str, list[Load]],
    sizes: dict[str, int],
    profile: list[tuple[str, float]],
    meta: dict[str, Any],
    differences: dict[str, str | None],
) -> dict[str, Any]:
    targets = {name: _summary(rs, sizes[name]) for name, rs in runs.items()}
    pairs = {**RATIOS, **(OPS_RATIOS if "page ops off" in targets else {})}

    def ratio(key: str, a: str, b: str) -> float | None:
        x, y = targets[a][key], targets[b][key]
        return round(x / y, 3) if x is not None and y else None

    out = {
        "benchmark": "pages",
        "database": kind,
        "session_store": "redis" if args.redis_url else "database",
        "timestamp": stamp,
        "url_path": path,
        "user": USERNAME,
        "load": {
            "tool": tool,
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "max_requests": args.max_requests,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            **meta,
        },
        # None: the bare HTML is the real page's, CSRF token aside; else where it first departs
        "bare_html_differs": differences,
        "targets": targets,
        # requests/s of the page over the bare handler's: 1.0 = the kernel costs nothing
        "ops": args.ops,
        "ratios": {k: ratio("rps", a, b) for k, (a, b) in pairs.items()},
        # the inverse view, steadier on a busy machine: app CPU per request, page over bare
        "cpu_ratios": {k: ratio("app_cpu_ms_per_request", a, b) for k, (a, b) in pairs.items()},
        "profile_page_inclusive": [{"frame": f, "share": round(s, 3)} for f, s in profile],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"pages-{kind}-{stamp}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return out


def table(res: dict[str, Any]) -> str:
    ld, m = res["load"], res["machine"]
    lines = [
        f"{res['database']} (sessions in the {res['session_store']}): GET {res['url_path']} as {res['user']}",
        f"{ld['tool']}, {ld['concurrency']} connections, {ld['rounds']} x {ld['seconds_per_round']:g} s per target "
        f"after {ld['warmup']:g} s warm-up; {m['cpus']} CPUs, load average {m['loadavg_before'][0]:.1f} before",
        f"{'target':<14}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>7}{'bytes':>7}"
        f"{'app CPU ms/req':>16}{'db CPU ms/req':>15}",
    ]
    for name, t in res["targets"].items():
        db_cpu = f"{t['db_cpu_ms_per_request']:.2f}" if res["database"] == "postgresql" else "-"
        lines.append(
            f"{name:<14}{t['rps']:>8.1f}{t['p50_ms']:>9.2f}{t['p95_ms']:>9.2f}{t['p99_ms']:>9.2f}"
            f"{t['errors']:>7}{t['bytes']:>7}{t['app_cpu_ms_per_request']:>16.2f}{db_cpu:>15}"
        )
    for k, v in res["ratios"].items():
        cpu = res["cpu_ratios"][k]
        base = "ops off" if k.startswith("ops") else "bare"
        line = f"{k}: {v:.2f} of the {base} requests/s" if v else f"{k}: n/a"
        if cpu:
            line += f"; {cpu:.2f}x the {base} app CPU per request"
        lines.append(line)
    if res["profile_page_inclusive"]:
        lines.append("page profile (share of samples through each frame, inclusive):")
        lines += [f"  {p['share']:6.1%}  {p['frame']}" for p in res["profile_page_inclusive"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target and round")
    ap.add_argument("--rounds", type=int, default=1, help="rounds over all targets (interleaved)")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per target before measuring")
    ap.add_argument("--concurrency", type=int, default=16, help="concurrent keep-alive connections")
    ap.add_argument("--max-requests", type=int, default=200_000, help="upper bound of requests per run")
    ap.add_argument("--load", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk when installed")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT), help="a PostgreSQL superuser URL")
    ap.add_argument("--redis-url", default=None, help="keep sessions in Redis instead of the database")
    ap.add_argument("--profile", action="store_true", help="py-spy the real page for one more run")
    ap.add_argument(
        "--ops", choices=("on", "off", "both"), default="on", help="metrics + JSON access log on the real app"
    )
    ap.add_argument("--tenants", type=int, default=0, help="add active districts up to this many (0: the seeded ones)")
    ap.add_argument("--jobs", action="store_true", help="run the job loop in the real app's worker, as production does")
    args = ap.parse_args(argv)
    tool = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if tool == "wrk" and not shutil.which("wrk"):
        ap.error("wrk is not installed (apt-get install wrk), use --load python")
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        res = asyncio.run(bench_database(kind, args, tool))
        print(table(res), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
