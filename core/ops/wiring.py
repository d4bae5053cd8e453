"""What the app holds for operations (``app.state.ops``), started and stopped with the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.ops.limits import RateLimiter
from core.ops.metrics import Metrics
from core.ops.middleware import OpsLayer
from core.ops.settings import OpsSettings
from core.ops.usage import UsageCounter


@dataclass
class Ops:
    settings: OpsSettings
    metrics: Metrics | None
    usage: UsageCounter
    limiter: RateLimiter
    layer: OpsLayer

    @classmethod
    def build(cls, settings: OpsSettings, db: Any, redis_url: str | None = None) -> Ops:
        metrics = Metrics(settings) if settings.metrics else None
        if metrics is not None:
            metrics.watch_pool(db.engine)
        usage = UsageCounter(db, settings.usage_flush_seconds)
        layer = OpsLayer(metrics, usage, access=settings.access_log, otel=settings.otel)
        return cls(settings, metrics, usage, RateLimiter(redis_url), layer)

    async def start(self) -> None:
        await self.usage.start()

    async def stop(self) -> None:
        await self.usage.stop()
        await self.limiter.close()
        if self.metrics is not None:
            self.metrics.release()
