"""Operator settings (LIUZHI_*): metrics, logs, tracing, default per-tenant limits, replicas."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

MB = 1024 * 1024


def _env(name: str, default: str = "") -> str:
    value = os.environ.get(f"LIUZHI_{name}")
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"LIUZHI_{name} must be a whole number, not {raw!r}") from exc


def _flag(name: str, default: bool) -> bool:
    raw = _env(name)
    return default if not raw else raw.lower() in ("1", "true", "yes", "on")


def parse_networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks; a bad entry is an error at start-up, not a silent hole."""
    out = []
    for part in raw.split(","):
        part = part.strip()
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(f"not an address or network: {part!r}") from exc
    return tuple(out)


LOOPBACK = parse_networks("127.0.0.0/8,::1/128")


@dataclass(frozen=True)
class OpsSettings:
    # /metrics: on by default; a bearer token, and/or the networks allowed to scrape (loopback
    # only when neither is set).
    metrics: bool = True
    metrics_token: str = ""
    metrics_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    metrics_max_tenants: int = 100  # distinct tenant label values per process; the rest are "_other"
    # "json" (production) or "text" (a terminal); the access log is one line per request.
    log_format: str = "text"
    access_log: bool = True
    otel: bool = False  # OpenTelemetry traces (needs the `otel` extra)
    # Several app processes behind one address (containers, hosts): like --workers, needs Redis.
    replicas: int = 1
    # Deployment defaults for the per-tenant limits (an operator overrides them per tenant).
    api_per_minute: int = 120  # per API token; 0 = no limit
    open311_per_minute: int = 60  # per Open311 API key; 0 = no limit
    upload_bytes: int = 20 * MB
    storage_quota_bytes: int = 0  # 0 = no quota
    usage_flush_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> OpsSettings:
        log_format = _env("LOG_FORMAT", "text").lower()
        if log_format not in ("json", "text"):
            raise ValueError(f"LIUZHI_LOG_FORMAT must be json or text, not {log_format!r}")
        return cls(
            metrics=_flag("METRICS", True),
            metrics_token=_env("METRICS_TOKEN"),
            metrics_networks=parse_networks(_env("METRICS_NETWORKS")),
            metrics_max_tenants=_int("METRICS_MAX_TENANTS", 100),
            log_format=log_format,
            access_log=_flag("ACCESS_LOG", True),
            otel=_flag("OTEL", False),
            replicas=_int("REPLICAS", 1),
            api_per_minute=_int("API_PER_MINUTE", 120),
            open311_per_minute=_int("OPEN311_PER_MINUTE", 60),
            upload_bytes=_int("UPLOAD_MB", 20) * MB,
            storage_quota_bytes=_int("STORAGE_QUOTA_MB", 0) * MB,
        )
