"""Server-sent events from a channels subscription, for core's streams and plugins' alike: the
messages as they come, a keep-alive comment while none does, an end when the app unsubscribes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar.response import ServerSentEventMessage

KEEPALIVE_SECONDS = 25.0  # a comment line now and then keeps proxies from closing an idle stream
RETRY_MS = 5000  # how long a browser waits before reconnecting a dropped stream


def keep_alive() -> ServerSentEventMessage:
    return ServerSentEventMessage(comment="keep-alive", data=None)


async def messages(subscriber: Any, keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[bytes | None]:
    """Each message of ``subscriber`` (litestar channels); ``None`` when ``keepalive`` seconds pass
    without one (send ``keep_alive()`` then). Ends when unsubscribed: the app is shutting down.
    Use it in ``contextlib.aclosing`` so that a closed stream stops waiting at once."""
    events = subscriber.iter_events()
    pending: asyncio.Future[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=keepalive)
            if not done:
                yield None
                continue
            try:
                data = pending.result()
            except StopAsyncIteration:  # unsubscribed
                return
            pending = None
            yield data
    finally:
        if pending is not None:
            pending.cancel()
