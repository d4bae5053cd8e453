"""Optional OpenTelemetry traces (``LIUZHI_OTEL=1``, the ``otel`` extra): Litestar's plugin.

Off by default, and nothing of OpenTelemetry is imported then. When on, spans go to the OTLP
endpoint of the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` variable (none set: spans are made, so log
lines carry trace ids, but not exported); ``OTEL_SERVICE_NAME`` names the service ("liuzhi").
A tracer provider the process set up before (an agent, a test) is used as it is.
"""

from __future__ import annotations

import os
from typing import Any

from core.ops.settings import OpsSettings

MISSING = "LIUZHI_OTEL=1 needs OpenTelemetry: pip install 'liuzhi[otel]'"


def plugins(settings: OpsSettings) -> list[Any]:
    if not settings.otel:
        return []
    try:
        from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(MISSING) from exc
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider(
            resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "liuzhi")})
        )
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    return [OpenTelemetryPlugin(OpenTelemetryConfig(tracer_provider=provider))]


def current_trace() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, when OpenTelemetry is installed and one is active."""
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return None
    return format(span.trace_id, "032x"), format(span.span_id, "016x")
