"""What the app holds for operations (``app.state.ops``), started and stopped with the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.ops.metrics import Metrics
from core.ops.middleware import OpsLayer
from core.ops.settings import OpsSettings


@dataclass
class Ops:
    settings: OpsSettings
    metrics: Metrics | None
    layer: OpsLayer

    @classmethod
    def build(cls, settings: OpsSettings, db: Any) -> Ops:
        metrics = Metrics(settings) if settings.metrics else None
        if metrics is not None:
            metrics.watch_pool(db.engine)
        return cls(settings, metrics, OpsLayer(metrics, access=settings.access_log, otel=settings.otel))

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        if self.metrics is not None:
            self.metrics.release()
