"""Starting safely: what `liuzhi serve` refuses, says at start-up, and prepares for its workers."""

from __future__ import annotations

import os
import shutil
from typing import Any

from core.ops import logging as ops_logging
from core.ops.metrics import MULTIPROC_ENV


def refusal(settings: Any, workers: int) -> str | None:
    """Why this deployment must not start (None: it may)."""
    if workers < 1:
        return "--workers must be 1 or more"
    replicas = settings.ops.replicas
    if (workers > 1 or replicas > 1) and not settings.redis_url:
        what = f"{workers} workers" if workers > 1 else f"LIUZHI_REPLICAS={replicas}"
        return (
            f"{what} need Redis (LIUZHI_REDIS_URL): without it live updates (dispatch board, notification bell) "
            "stay inside the process that made them, and each process would count logins and rate limits "
            "on its own. Set LIUZHI_REDIS_URL, or run one worker."
        )
    return None


def startup_lines(settings: Any, workers: int, *, jobs: bool) -> list[str]:
    db = "SQLite " + settings.database_url.split(":///", 1)[-1] if settings.is_sqlite else "PostgreSQL"
    lines = [f"liuzhi: {workers} worker(s), database {db}, background jobs {'on' if jobs else 'off'}"]
    if not settings.redis_url:
        lines.append(
            "liuzhi: running without Redis: sessions and login throttling in the database, rate limits and "
            "live updates (board, bell) in this one process — fine for one worker, not for several"
        )
    ops = settings.ops
    if ops.metrics:
        who = (
            "bearer token"
            if ops.metrics_token
            else "networks " + (", ".join(str(n) for n in ops.metrics_networks) or "loopback only")
        )
        lines.append(f"liuzhi: /metrics on ({who}); logs as {ops.log_format}")
    return lines


def prepare_metrics_dir(settings: Any, workers: int) -> None:
    """Several workers write their metrics to files one scrape adds up; start from an empty folder.

    A folder the operator set (``PROMETHEUS_MULTIPROC_DIR``) is theirs to empty between runs.
    """
    if workers <= 1 or os.environ.get(MULTIPROC_ENV) or not settings.ops.metrics:
        return
    folder = settings.data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def log_config(settings: Any) -> dict[str, Any]:
    return ops_logging.dict_config(settings.ops.log_format, otel=settings.ops.otel)
