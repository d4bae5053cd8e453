"""Real server processes: metrics added up across two processes, JSON log lines, and what
`liuzhi serve` refuses or says at start-up.

The processes are ``liuzhi serve`` on free ports against the session's database (SQLite file or
PostgreSQL as the app role), sharing one ``PROMETHEUS_MULTIPROC_DIR`` as the workers of
``liuzhi serve --workers N`` do; a request goes to the process chosen by its port, so the count of
each is known.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from core.cli import cli
from tests.ops.test_metrics import value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Any, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIUZHI_", "PROMETHEUS_"))}
    env.update(
        LIUZHI_DATABASE_URL=settings.database_url,
        LIUZHI_DATA_DIR=str(settings.data_dir),
        LIUZHI_TENANTS_DIR=str(settings.tenants_dir),
        LIUZHI_SECRET_KEY=settings.secret_key,
        LIUZHI_PASSWORD_HASHING="fast",
        **extra,
    )
    if settings.migrate_database_url:
        env["LIUZHI_MIGRATE_DATABASE_URL"] = settings.migrate_database_url
    return env


class Server:
    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.port = free_port()
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "serve", "--port", str(self.port), "--no-jobs", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/t/shuangluan/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise AssertionError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def two_servers(migrated: Any, tmp_path: Path) -> Iterator[list[Server]]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = server_env(migrated, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), LIUZHI_LOG_FORMAT="json")
    servers = [Server(env, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        for s in servers:
            s.wait()
        yield servers
    finally:
        for s in servers:
            s.stop()


def test_metrics_are_added_up_across_two_worker_processes(two_servers: list[Server]) -> None:
    a, b = two_servers
    labels = {"route": "/login", "method": "GET", "status": "200", "tenant": "luanping"}
    before = value(httpx.get(a.url + "/metrics").text, "liuzhi_http_requests_total", **labels)
    for _ in range(3):
        assert httpx.get(a.url + "/t/luanping/login").status_code == 200
    for _ in range(4):
        assert httpx.get(b.url + "/t/luanping/login").status_code == 200
    # Either process answers for both.
    for server in (a, b):
        text = httpx.get(server.url + "/metrics").text
        assert value(text, "liuzhi_http_requests_total", **labels) - before == 7
        assert value(text, "liuzhi_db_pool_capacity") >= 2


def test_log_lines_are_json_with_request_id_tenant_and_route(two_servers: list[Server]) -> None:
    a, _b = two_servers
    r = httpx.get(a.url + "/t/shuangluan/login", headers={"X-Request-ID": "probe-0123456789"})
    assert r.headers["x-request-id"] == "probe-0123456789"
    missing = httpx.get(a.url + "/t/shuangluan/grid/99999", follow_redirects=False)
    rid = missing.headers["x-request-id"]
    a.stop()
    lines = [line for line in a.log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]  # every JSON-looking line parses
    assert records
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    access = [r for r in records if r["logger"] == "liuzhi.access"]
    probe = next(r for r in access if r.get("request_id") == "probe-0123456789")
    assert probe["tenant"] == "shuangluan"
    assert probe["status"] == 200
    assert probe["route"] == "/login"
    assert probe["method"] == "GET"
    assert isinstance(probe["duration_ms"], float | int)
    assert next(r for r in access if r.get("request_id") == rid)["tenant"] == "shuangluan"
    # Start-up says what the process runs without.
    text = a.log.read_text(encoding="utf-8")
    assert "running without Redis" in text


def test_serve_refuses_several_workers_without_redis(migrated: Any) -> None:
    env = {
        "LIUZHI_DATABASE_URL": migrated.database_url,
        "LIUZHI_REDIS_URL": None,
        "LIUZHI_DATA_DIR": str(migrated.data_dir),
    }
    r = CliRunner(env=env).invoke(cli, ["serve", "--workers", "2"])
    assert r.exit_code == 1
    assert "need Redis (LIUZHI_REDIS_URL)" in r.output
    assert "live updates" in r.output
    r = CliRunner(env={**env, "LIUZHI_REPLICAS": "3"}).invoke(cli, ["serve"])
    assert r.exit_code == 1
    assert "LIUZHI_REPLICAS=3 need Redis" in r.output
