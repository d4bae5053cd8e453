"""Per-tenant limits: storage quota, upload size, API requests per minute per token, Open311
requests per minute per key. An operator sets them per tenant (``tenants.limits``); a missing one
is the deployment's default (``LIUZHI_API_PER_MINUTE`` …, core/ops/settings.py); 0 means none.

Rate limits count in fixed one-minute windows: in Redis (``INCR``, shared by every process) when
it is configured, else in the process (``liuzhi serve`` refuses several workers without Redis).
A refused request answers 429 with ``Retry-After`` (seconds to the next window) and never reaches
its handler; a full quota or too large a file is refused before a byte is written (413).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.i18n import gettext as _
from core.ops.settings import MB, OpsSettings
from core.services.files.storage import UploadError

log = logging.getLogger("liuzhi.limits")
WINDOW = 60
# Form field → (tenants.limits key, unit in bytes or 1).
FIELDS = {
    "storage_quota_mb": MB,
    "upload_mb": MB,
    "api_per_minute": 1,
    "open311_per_minute": 1,
}
MAX_VALUE = 10**9


@dataclass(frozen=True)
class TenantLimits:
    storage_quota_bytes: int
    upload_bytes: int
    api_per_minute: int
    open311_per_minute: int


def limits_of(tenant: Any, defaults: OpsSettings) -> TenantLimits:
    own = dict(getattr(tenant, "limits", None) or {})

    def pick(key: str, default: int) -> int:
        value = own.get(key)
        return int(value) * FIELDS[key] if isinstance(value, int) else default

    return TenantLimits(
        storage_quota_bytes=pick("storage_quota_mb", defaults.storage_quota_bytes),
        upload_bytes=pick("upload_mb", defaults.upload_bytes),
        api_per_minute=pick("api_per_minute", defaults.api_per_minute),
        open311_per_minute=pick("open311_per_minute", defaults.open311_per_minute),
    )


def parse_limits(form: dict[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """The operator's form → (limits to store, errors by field). Empty = the deployment default."""
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key in FIELDS:
        raw = str(form.get(key, "")).strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) > MAX_VALUE:
            errors[key] = _("A whole number from 0 to %(max)s, or empty for the default.", max=MAX_VALUE)
            continue
        values[key] = int(raw)
    return values, errors


# ---- storage --------------------------------------------------------------------------------


class QuotaExceeded(UploadError):
    status = 413

    def __init__(self, quota: int, used: int) -> None:
        self.quota, self.used = quota, used
        super().__init__(
            _(
                "The district's file storage is full (%(used)s of %(quota)s MB used): nothing was saved. "
                "Ask the platform operator for more room, or remove old files.",
                used=_mb(used),
                quota=_mb(quota),
            )
        )


def _mb(n: int) -> str:
    return f"{n / MB:.1f}".rstrip("0").rstrip(".")


class StorageLimits:
    """Checks a tenant's room before bytes are written (``LocalStorage`` calls it)."""

    def __init__(self, defaults: OpsSettings) -> None:
        self.defaults = defaults

    async def of(self, session: Any, tenant_id: int) -> TenantLimits:
        from core.tenancy.models import Tenant

        return limits_of(await session.get(Tenant, tenant_id), self.defaults)

    async def used(self, session: Any) -> int:
        from core.services.files.models import StoredFile

        return int(await session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0))) or 0)

    async def check(self, session: Any, tenant_id: int, size: int) -> int:
        """Raise ``QuotaExceeded`` if ``size`` more bytes do not fit; returns the upload limit."""
        limits = await self.of(session, tenant_id)
        if limits.storage_quota_bytes:
            used = await self.used(session)
            if used + size > limits.storage_quota_bytes:
                raise QuotaExceeded(limits.storage_quota_bytes, used)
        return limits.upload_bytes

    async def state(self, session: Any, tenant_id: int) -> dict[str, Any]:
        """For upload forms: the largest file, and whether the quota is full."""
        limits = await self.of(session, tenant_id)
        used = await self.used(session) if limits.storage_quota_bytes else 0
        full = bool(limits.storage_quota_bytes) and used >= limits.storage_quota_bytes
        message = _(
            "The district's file storage is full (%(used)s MB used): files cannot be uploaded until the "
            "platform operator adds room or old files are removed.",
            used=_mb(used),
        )
        return {"upload_mb": _mb(limits.upload_bytes), "full": full, "used_mb": _mb(used), "message": message}


# ---- rate limits ----------------------------------------------------------------------------


class RateLimiter:
    def __init__(self, redis_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # seconds since the epoch; tests move it instead of waiting for a minute
        self._redis: Any = None
        if redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(redis_url)
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int) -> int:
        """Count one request under ``key``; 0 if allowed, else seconds until it may try again."""
        if limit <= 0:
            return 0
        now = self.clock()
        window = int(now // WINDOW)
        retry = max(1, int((window + 1) * WINDOW - now + 0.999))
        count = None
        if self._redis is not None:
            name = f"liuzhi:rate:{key}:{window}"
            try:
                pipe = self._redis.pipeline()
                pipe.incr(name)
                pipe.expire(name, WINDOW * 2)
                count, _expiry = await pipe.execute()
            except Exception as exc:  # Redis away: count in this process rather than refuse everyone
                log.warning("rate limit counted in this process only: Redis: %s", exc)
        if count is None:
            start, count = self._windows.get(key, (window, 0))
            count = count + 1 if start == window else 1
            self._windows[key] = (window, count)
            if len(self._windows) > 100_000:  # old windows of idle keys
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return 0 if int(count) <= limit else retry

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def too_many(limit: int, retry_after: int, what: str) -> str:
    return _(
        "Too many requests: at most %(limit)s per minute for this %(what)s. Try again in %(seconds)s seconds.",
        limit=limit,
        what=what,
        seconds=retry_after,
    )


async def check_rate(request: Any, kind: str, key: Any, limit: int, tenant_slug: str | None = None) -> int:
    """For plugins with their own clients (Open311 keys): count one request of ``kind`` by ``key``;
    0 if allowed, else seconds to wait (answer 429 with ``Retry-After`` in your own format)."""
    ops = request.app.state.ops
    retry = await ops.limiter.hit(f"{kind}:{key}", limit)
    if retry and ops.metrics is not None:
        ops.metrics.rate_limited.labels(kind, ops.metrics.tenant_label(tenant_slug)).inc()
    return retry
