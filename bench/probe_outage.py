"""The two-process probe: PostgreSQL (row-level security) + Redis, two `liuzhi serve` processes,
writes under load, a database restart in the middle.

What it checks and reports:
- every write a process acknowledged (201 with an event number) is in the database afterwards;
- during the outage the processes answer 503 (pages, API) and never 500;
- /readyz goes 503 and back to 200, /healthz names the database while it is down;
- both processes recover without being restarted (time from the database's return to the first
  acknowledged write on each).

  LIUZHI_PROBE_PG=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
  LIUZHI_PROBE_REDIS=redis://127.0.0.1:6379/13 \\
  python bench/probe_outage.py --ports 8013 8023 --seconds 30 --restart-at 10

The restart runs ``pg_ctlcluster --skip-systemctl-redirect 15 main restart`` (``--restart-cmd``);
the database server is shared, so the outage is one restart, a few seconds. Loops are bounded in
count and time, and talk only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP_ROLE = "liuzhi_probe_app"


async def prepare(pg: str, name: str, data_dir: Path) -> dict[str, str]:
    """A fresh database with the schema, the demo districts and an API token for 双滦区's resident."""
    from core.app import load_models
    from core.config import Settings
    from core.crypto import Vault
    from core.db.engine import Database, make_engine
    from core.db.migrate import upgrade
    from core.identity.models import ApiToken, User
    from core.pluginhost.manager import PluginHost
    from core.services.files.storage import LocalStorage
    from core.tenancy.definitions import read_all
    from core.tenancy.demo import seed_demo
    from core.tenancy.service import apply_definition, get_tenant
    from core.web.context import hash_token

    admin = make_engine(pg, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    owner = make_url(pg).set(database=name)
    app_url = owner.set(username=APP_ROLE, password=None)
    env = {
        "LIUZHI_DATABASE_URL": app_url.render_as_string(hide_password=False),
        "LIUZHI_MIGRATE_DATABASE_URL": owner.render_as_string(hide_password=False),
        "LIUZHI_DATA_DIR": str(data_dir),
        "LIUZHI_SECRET_KEY": secrets.token_urlsafe(32),
    }
    os.environ.update(env)
    settings = Settings.from_env()
    host = PluginHost()
    load_models(host)
    await upgrade(settings, host)
    db = Database(settings.database_url)
    for d in read_all(settings.tenants_dir):
        await apply_definition(db, host, d)
        await seed_demo(
            db, host, d, vault=Vault(settings.data_keys, settings.hash_key), storage=LocalStorage(data_dir / "files")
        )
    tenant = await get_tenant(db, "shuangluan")
    raw = "lz_" + secrets.token_urlsafe(24)
    async with db.transaction(tenant.id) as s:
        from sqlalchemy import select

        uid = (await s.execute(select(User.id).where(User.username == "resident"))).scalar_one()
        s.add(ApiToken(user_id=uid, name="probe", prefix=raw[:8], token_hash=hash_token(raw)))
    await db.dispose()
    return {**env, "token": raw, "owner": owner.render_as_string(hide_password=False)}


def start_servers(ports: list[int], env: dict[str, str], redis: str, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i, port in enumerate(ports):
        child_env = {
            **os.environ,
            **{k: v for k, v in env.items() if k.startswith("LIUZHI_")},
            "LIUZHI_REDIS_URL": redis,
        }
        # The probe measures durability through an outage, not the per-token API limit (#19).
        child_env["LIUZHI_API_PER_MINUTE"] = "0"
        args = [str(ROOT / ".venv" / "bin" / "liuzhi"), "serve", "--port", str(port)]
        if i:
            args.append("--no-jobs")
        log = (log_dir / f"serve-{port}.log").open("wb")
        procs.append(subprocess.Popen(args, env=child_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))
    return procs


async def wait_ready(client: httpx.AsyncClient, ports: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {port} not ready")
            await asyncio.sleep(0.3)


async def run_load(args: argparse.Namespace, token: str) -> dict[str, Any]:
    ports: list[int] = args.ports
    acked: list[tuple[float, int, str]] = []
    statuses: dict[int, Counter[int]] = {p: Counter() for p in ports}
    errors: Counter[str] = Counter()
    monitor: list[tuple[float, int, int, str]] = []  # (t, port, readyz status, healthz down)
    pages: list[tuple[float, int, int, str]] = []
    restart: dict[str, float] = {}
    start = time.monotonic()
    stop_at = start + args.seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=15, limits=limits) as client:
        await wait_ready(client, ports)
        start = time.monotonic()
        stop_at = start + args.seconds

        async def writer(n: int) -> None:
            i = 0
            while time.monotonic() < stop_at and i < 100_000:
                port = ports[(n + i) % len(ports)]
                i += 1
                body = {
                    "category": args.category,
                    "description": f"探针 {n}-{i}: 楼道灯坏了",
                    "lon": "117.79",
                    "lat": "40.97",
                }
                try:
                    r = await client.post(
                        f"http://127.0.0.1:{port}/t/shuangluan/api/v1/smart-service/reports", json=body, headers=headers
                    )
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.2)
                    continue
                statuses[port][r.status_code] += 1
                if r.status_code == 201:
                    acked.append((time.monotonic() - start, port, r.json()["number"]))
                elif r.status_code == 503:
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")) / 5)

        async def watcher() -> None:
            while time.monotonic() < stop_at + 2:
                for port in ports:
                    t = time.monotonic() - start
                    try:
                        ready = (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code
                        health = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
                        page = await client.get(f"http://127.0.0.1:{port}/t/shuangluan/login")
                        monitor.append((t, port, ready, ",".join(health.get("down", []))))
                        pages.append((t, port, page.status_code, page.headers.get("retry-after", "")))
                    except httpx.HTTPError as exc:
                        monitor.append((t, port, 0, type(exc).__name__))
                await asyncio.sleep(0.25)

        async def restarter() -> None:
            await asyncio.sleep(args.restart_at)
            restart["begin"] = time.monotonic() - start
            proc = await asyncio.create_subprocess_exec(*shlex.split(args.restart_cmd))
            await proc.wait()
            restart["end"] = time.monotonic() - start
            restart["rc"] = proc.returncode

        await asyncio.gather(*(writer(n) for n in range(args.writers)), watcher(), restarter())
    return {
        "acked": acked,
        "statuses": statuses,
        "errors": errors,
        "monitor": monitor,
        "pages": pages,
        "restart": restart,
    }


async def verify(owner: str, numbers: list[str]) -> list[str]:
    from core.db.engine import make_engine

    engine = make_engine(owner)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT e.number FROM ss_events e JOIN tenants t ON t.id = e.tenant_id WHERE t.slug = 'shuangluan'")
        )
        found = set(rows.scalars())
    await engine.dispose()
    return [n for n in numbers if n not in found]


def summarise(result: dict[str, Any], missing: list[str]) -> dict[str, Any]:
    restart = result["restart"]
    back = restart.get("end", 0)
    recovered = {}
    for port in {p for _t, p, _n in result["acked"]}:
        after = [t for t, p, _n in result["acked"] if p == port and t >= back]
        recovered[port] = round(min(after) - back, 2) if after else None
    down_ready = sorted({(p, s) for t, p, s, _d in result["monitor"] if restart.get("begin", 0) <= t <= back + 10})
    named = sorted({d for _t, _p, _s, d in result["monitor"] if d})
    page_codes = Counter(s for _t, _p, s, _r in result["pages"])
    return {
        "acknowledged_writes": len(result["acked"]),
        "missing_after_restart": len(missing),
        "status_by_port": {p: dict(c) for p, c in result["statuses"].items()},
        "transport_errors": dict(result["errors"]),
        "restart_seconds": [round(restart.get("begin", 0), 2), round(back, 2)],
        "restart_rc": restart.get("rc"),
        "seconds_to_first_ack_after_restart": recovered,
        "readyz_seen_around_restart": down_ready,
        "healthz_named_down": named,
        "login_page_statuses": dict(page_codes),
        "login_page_503_retry_after": sorted({r for _t, _p, s, r in result["pages"] if s == 503}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ports", type=int, nargs=2, default=[8013, 8023])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--restart-at", type=float, default=10)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--category", default="SR-01")
    parser.add_argument("--restart-cmd", default="pg_ctlcluster --skip-systemctl-redirect 15 main restart")
    parser.add_argument("--database", default="liuzhi_probe_security")
    args = parser.parse_args()
    pg = os.environ.get("LIUZHI_PROBE_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    redis = os.environ.get("LIUZHI_PROBE_REDIS", "redis://127.0.0.1:6379/13")
    work = HERE / "results" / "probe"
    work.mkdir(parents=True, exist_ok=True)
    env = asyncio.run(prepare(pg, args.database, work / "data"))
    procs = start_servers(args.ports, env, redis, work)
    try:
        result = asyncio.run(run_load(args, env["token"]))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
    missing = asyncio.run(verify(env["owner"], [n for _t, _p, n in result["acked"]]))
    summary = summarise(result, missing)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    (HERE / "results" / f"probe_outage-{int(time.time())}.json").write_text(
        json.dumps({"summary": summary, "monitor": result["monitor"]}, indent=1, ensure_ascii=False)
    )
    sys.exit(1 if missing or any(500 in c for c in result["statuses"].values()) else 0)


if __name__ == "__main__":
    main()
