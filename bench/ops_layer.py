"""What the operations layer adds to one request, in microseconds of CPU, measured in-process.

    .venv/bin/python bench/ops_layer.py [--requests 20000]

bench/pages.py --ops both compares whole pages with the layer on and off; on a shared machine
those requests/s move by ±10 % between rounds, more than the layer costs. This measures the layer
alone: ``OpsLayer`` (request id, Prometheus counter and histogram with the route, status and tenant
labels, usage count, the JSON access line through python-json-logger and the context filter,
written to a file) around an ASGI app that answers at once, against calling that app directly,
``--requests`` times each (alternating blocks, the minimum of 5 repeats). Compare the difference
with the page's app CPU per request from pages.py.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


async def inner(scope: Any, receive: Any, send: Any) -> None:
    scope["path_template"] = "/grid/{node_id}"
    scope.setdefault("state", {})["ctx"] = SimpleNamespace(
        tenant=SimpleNamespace(slug="shuangluan", id=1), user=SimpleNamespace(id=42), operator=None, token=None
    )
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def noop_send(message: Any) -> None:
    return None


def scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/grid/1", "headers": [], "query_string": b""}


async def timed(call: Any, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        await call(scope(), None, noop_send)
    return (time.process_time() - start) / n * 1e6


async def main(n: int) -> None:
    from core.ops.logging import ContextFilter, json_formatter
    from core.ops.metrics import Metrics
    from core.ops.middleware import OpsLayer
    from core.ops.settings import OpsSettings
    from core.ops.usage import UsageCounter

    with tempfile.TemporaryDirectory() as tmp:
        handler = logging.FileHandler(Path(tmp) / "access.log")
        handler.setFormatter(json_formatter())
        handler.addFilter(ContextFilter())
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        layer = OpsLayer(Metrics(OpsSettings()), UsageCounter(None), access=True)

        async def wrapped(s: Any, r: Any, snd: Any) -> None:
            await layer(s, r, snd, inner)

        metrics_only = OpsLayer(Metrics(OpsSettings()), UsageCounter(None), access=False)

        async def wrapped_metrics(s: Any, r: Any, snd: Any) -> None:
            await metrics_only(s, r, snd, inner)

        results: dict[str, list[float]] = {"bare": [], "metrics + usage": [], "metrics + usage + JSON access log": []}
        for _ in range(5):
            results["bare"].append(await timed(inner, n))
            results["metrics + usage"].append(await timed(wrapped_metrics, n))
            results["metrics + usage + JSON access log"].append(await timed(wrapped, n))
        root.removeHandler(handler)
    base = min(results["bare"])
    print(f"{n} requests x 5 repeats, minimum CPU µs per request (Python {sys.version.split()[0]})")
    for name, values in results.items():
        extra = "" if name == "bare" else f"   (+{min(values) - base:.1f} µs over bare)"
        print(f"  {name:<36} {min(values):7.1f} µs{extra}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20000)
    asyncio.run(main(ap.parse_args().requests))
