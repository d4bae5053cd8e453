"""Prometheus metrics through prometheus-client: per-request series, pool use, queue and lag at scrape.

Several worker processes: ``PROMETHEUS_MULTIPROC_DIR`` (``liuzhi serve --workers N`` sets it) makes
every process write its samples to files there, and a scrape of any worker adds them up
(prometheus-client's multiprocess mode). Without it the app keeps its own registry, so two apps
in one process (the tests) never share a count.

What is counted where:
- requests, latency, SSE connections: the ASGI layer (core/ops/middleware.py), labelled by the
  route *template* (``/grid/{node_id}``), never the raw path; the tenant label is the slug of a
  resolved tenant, at most ``LIUZHI_METRICS_MAX_TENANTS`` distinct ones per process, then "_other";
- database pool connections in use: SQLAlchemy pool events;
- job queue depth and age by job name, periodic job lag (the SLA check is one), tenants, database
  and Redis availability: read from the database and Redis when scraped, so they are right whichever
  process (web worker or `liuzhi jobs run`) does the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event, func, select

from core.ops.settings import LOOPBACK, OpsSettings

log = logging.getLogger("liuzhi.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "_other"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Seconds; pages take tens of milliseconds, exports and imports seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """The app's metric objects; one per app."""

    def __init__(self, settings: OpsSettings) -> None:
        self.enabled = settings.metrics
        self.max_tenants = settings.metrics_max_tenants
        self.multiprocess = multiprocess()
        self.registry = CollectorRegistry()
        # In multiprocess mode values live in the shared files, not in a registry.
        reg = None if self.multiprocess else self.registry
        self.requests = Counter(
            "liuzhi_http_requests",
            "HTTP requests answered, by route template, method, status and tenant.",
            ["route", "method", "status", "tenant"],
            registry=reg,
        )
        self.latency = Histogram(
            "liuzhi_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by route template and method.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=reg,
        )
        self.sse = Gauge(
            "liuzhi_sse_connections",
            "Server-sent event streams open now (live board, notification bell), by route.",
            ["route"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.pool_in_use = Gauge(
            "liuzhi_db_pool_connections_in_use",
            "Database connections checked out of the app's pools.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.pool_capacity = Gauge(
            "liuzhi_db_pool_capacity",
            "Connections the app's pools may open (pool size plus overflow), all processes.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.rate_limited = Counter(
            "liuzhi_rate_limited",
            "Requests refused with 429 by a per-tenant limit, by limit and tenant.",
            ["limit", "tenant"],
            registry=reg,
        )
        self._tenants: set[str] = set()

    def tenant_label(self, slug: str | None) -> str:
        """A bounded label: the first ``max_tenants`` slugs seen keep their name."""
        if not slug:
            return ""
        if slug in self._tenants:
            return slug
        if len(self._tenants) < self.max_tenants:
            self._tenants.add(slug)
            return slug
        return OTHER

    def observe(self, route: str, method: str, status: int, tenant: str, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(route, method, str(status), tenant).inc()
        self.latency.labels(route, method).observe(seconds)

    def watch_pool(self, engine: Any) -> None:
        """Count checkouts and checkins of ``engine``'s pool (an AsyncEngine)."""
        pool = engine.sync_engine.pool
        size = getattr(pool, "size", None)
        overflow = getattr(pool, "_max_overflow", 0)
        if callable(size):
            self.pool_capacity.inc(size() + max(overflow, 0))
        in_use = self.pool_in_use
        event.listen(pool, "checkout", lambda *_: in_use.inc())
        event.listen(pool, "checkin", lambda *_: in_use.dec())

    def release(self) -> None:
        """At shutdown: this process's live gauges stop counting."""
        if self.multiprocess:
            from prometheus_client import multiprocess as mp

            with contextlib.suppress(Exception):
                mp.mark_process_dead(os.getpid())

    def exposition(self, snapshot: Snapshot) -> bytes:
        if self.multiprocess:
            from prometheus_client import multiprocess as mp

            registry = CollectorRegistry()
            mp.MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(_Merged(self.registry))
        registry.register(snapshot)
        return generate_latest(registry)


class _Merged:
    """Re-expose an existing registry's samples inside a per-scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Any:
        return self.source.collect()


# ---- read at scrape time ------------------------------------------------------------------


@dataclass(eq=False)  # hashable by identity: the registry keys collectors by it
class Snapshot:
    """Figures read from the database and Redis for one scrape (a prometheus-client collector)."""

    database_up: int = 0
    redis_up: int | None = None  # None: no Redis configured
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (job, status) → count
    queue_age: dict[str, float] = field(default_factory=dict)  # job → seconds the oldest due job waited
    periodic_lag: dict[str, float] = field(default_factory=dict)  # job → seconds behind schedule
    tenants: dict[str, int] = field(default_factory=dict)  # status → count

    def collect(self) -> Any:
        yield GaugeMetricFamily("liuzhi_database_up", "1 if the database answered this scrape.", self.database_up)
        if self.redis_up is not None:
            yield GaugeMetricFamily("liuzhi_redis_up", "1 if Redis answered a PING in this scrape.", self.redis_up)
        jobs = GaugeMetricFamily(
            "liuzhi_jobs", "Jobs in the queue by name and status (pending = due now).", labels=["job", "status"]
        )
        for (name, status), n in sorted(self.jobs.items()):
            jobs.add_metric([name, status], n)
        yield jobs
        age = GaugeMetricFamily(
            "liuzhi_job_queue_age_seconds", "How long the oldest due, unstarted job has waited.", labels=["job"]
        )
        for name, seconds in sorted(self.queue_age.items()):
            age.add_metric([name], seconds)
        yield age
        lag = GaugeMetricFamily(
            "liuzhi_periodic_job_lag_seconds",
            "How far the most overdue tenant of a periodic job (e.g. the SLA check) is behind its schedule.",
            labels=["job"],
        )
        for name, seconds in sorted(self.periodic_lag.items()):
            lag.add_metric([name], seconds)
        yield lag
        tenants = GaugeMetricFamily("liuzhi_tenants", "Tenants by status.", labels=["status"])
        for status, n in sorted(self.tenants.items()):
            tenants.add_metric([status], n)
        yield tenants


async def snapshot(db: Any, redis_url: str | None, *, timeout: float = 2.0) -> Snapshot:
    from core.services.jobs.models import PENDING, RUNNING, Job, PeriodicRun
    from core.tenancy.models import ACTIVE, Tenant

    snap = Snapshot()
    now = datetime.now(UTC)
    try:
        async with asyncio.timeout(timeout), db.session(None) as s:
            due_now = (Job.run_at <= now).label("due")  # one bound value, grouped by its name
            rows = await s.execute(
                select(Job.name, Job.status, due_now, func.count(), func.min(Job.run_at))
                .where(Job.status.in_((PENDING, RUNNING, "failed")))
                .group_by(Job.name, Job.status, due_now)
            )
            for name, status, due, count, oldest in rows:
                label = status if status != PENDING else ("pending" if due else "scheduled")
                snap.jobs[(name, label)] = snap.jobs.get((name, label), 0) + int(count)
                if status == PENDING and due and oldest is not None:
                    snap.queue_age[name] = max(0.0, (now - _aware(oldest)).total_seconds())
            rows = await s.execute(
                select(PeriodicRun.name, func.min(PeriodicRun.next_run_at))
                .join(Tenant, Tenant.id == PeriodicRun.tenant_id)
                .where(Tenant.status == ACTIVE)
                .group_by(PeriodicRun.name)
            )
            for name, due in rows:
                snap.periodic_lag[name] = max(0.0, (now - _aware(due)).total_seconds()) if due else 0.0
            rows = await s.execute(select(Tenant.status, func.count()).group_by(Tenant.status))
            snap.tenants = {status: int(n) for status, n in rows}
        snap.database_up = 1
    except Exception as exc:  # a scrape must answer while the database is down
        log.warning("metrics: database not readable: %s", exc)
    if redis_url:
        snap.redis_up = await redis_up(redis_url, timeout)
    return snap


async def redis_up(url: str, timeout: float) -> int:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return 1 if await client.ping() else 0
    except Exception:
        return 0
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# ---- who may scrape ------------------------------------------------------------------------


def scrape_allowed(settings: OpsSettings, client_host: str | None, authorization: str) -> int:
    """0 if allowed, else the status to answer: 401 (token missing or wrong), 403 (network)."""
    if settings.metrics_token:
        given = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
            return 401
        if not settings.metrics_networks:
            return 0
    networks = settings.metrics_networks or LOOPBACK
    try:
        address = ipaddress.ip_address(client_host or "")
    except ValueError:
        return 403
    return 0 if any(address in n for n in networks) else 403


CONTENT_TYPE = CONTENT_TYPE_LATEST
