"""Log lines as JSON (python-json-logger) or text, each carrying the request id, tenant and user id.

The request id, tenant slug and user id come from the request being served (or the job being run)
when the line is written: a filter on the handler reads them from a context variable the ASGI
layer sets, so every logger — ours, Litestar's, uvicorn's, SQLAlchemy's — gets them without
passing them around. Only ids: never a name, phone or ID number (personal data stays out of logs).
With OpenTelemetry on, the current trace and span ids are added too.
"""

from __future__ import annotations

import logging
import logging.config
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from core.db.context import current_tenant_id
from core.ops.tracing import current_trace

REQUEST_ID_HEADER = "x-request-id"
SCOPE_KEY = "liuzhi.request_id"
# An id a proxy sent is kept when it is short and plain (it then matches the proxy's own log).
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


@dataclass
class RequestLog:
    """What a log line may say about the request it was written in."""

    request_id: str
    scope: dict[str, Any]
    trace: tuple[str, str] | None = None  # caught inside the request's span, for lines written after it

    def tenant_and_user(self) -> tuple[str | None, int | None]:
        c = self.scope.get("state", {}).get("ctx")
        if c is None:
            return None, None
        tenant = c.tenant.slug if c.tenant is not None else None
        if c.user is not None:
            return tenant, c.user.id
        if c.operator is not None:
            return tenant, None
        return tenant, None


CURRENT: ContextVar[RequestLog | None] = ContextVar("liuzhi_request_log", default=None)


def new_request_id(incoming: str | None = None) -> str:
    if incoming and _GOOD_ID.match(incoming):
        return incoming
    return secrets.token_hex(8)


def current_request_id() -> str | None:
    r = CURRENT.get()
    return r.request_id if r is not None else None


class ContextFilter(logging.Filter):
    """Adds request_id, tenant, tenant_id, user_id (and trace_id/span_id) to every record."""

    def __init__(self, name: str = "", otel: bool = False) -> None:
        super().__init__(name)
        self.otel = otel

    def filter(self, record: logging.LogRecord) -> bool:
        r = CURRENT.get()
        if r is not None:
            if not hasattr(record, "request_id"):
                record.request_id = r.request_id
            tenant, user_id = r.tenant_and_user()
            if tenant and not hasattr(record, "tenant"):
                record.tenant = tenant
            if user_id is not None and not hasattr(record, "user_id"):
                record.user_id = user_id
        tenant_id = current_tenant_id()
        if tenant_id is not None and not hasattr(record, "tenant_id"):
            record.tenant_id = tenant_id  # jobs carry their tenant's id, not a request
        if self.otel:
            found = current_trace() or (r.trace if r is not None else None)
            if found is not None:
                record.trace_id, record.span_id = found
        return True


class TextFormatter(logging.Formatter):
    """``LEVEL logger [request tenant user]: message`` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [getattr(record, k, None) for k in ("request_id", "tenant", "user_id")]
        tag = " ".join(str(p) for p in parts if p is not None)
        base = f"{record.levelname} {record.name}" + (f" [{tag}]" if tag else "")
        record.message = record.getMessage()
        out = f"{base}: {record.message}"
        if record.exc_info:
            out += "\n" + self.formatException(record.exc_info)
        return out


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def dict_config(fmt: str = "text", level: str = "INFO", otel: bool = False) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process (uvicorn applies it in every worker)."""
    formatter: dict[str, Any] = (
        {"()": "core.ops.logging.json_formatter"} if fmt == "json" else {"()": "core.ops.logging.TextFormatter"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "core.ops.logging.ContextFilter", "otel": otel}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's own handlers would print a second, plain line: everything goes to the root.
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


def configure(fmt: str = "text", level: str = "INFO", otel: bool = False) -> None:
    logging.config.dictConfig(dict_config(fmt, level, otel))
