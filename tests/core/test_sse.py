"""core.web.sse.messages, what the notification and board streams are made of: a keep-alive tick
while nothing comes, each message as it comes, an end when unsubscribed, and no wait left running
once the stream is closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

from core.web import sse


class Subscriber:
    """Like litestar's channels subscriber: ``iter_events`` yields what is put; ``None`` unsubscribes."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.stopped = asyncio.Event()

    async def iter_events(self) -> AsyncIterator[bytes]:
        try:
            while (item := await self.queue.get()) is not None:
                yield item
        finally:
            self.stopped.set()


async def _next_message(incoming: AsyncIterator[bytes | None]) -> bytes | None:
    while (item := await anext(incoming)) is None:
        pass
    return item


async def test_ticks_while_quiet_passes_each_message_and_ends_when_unsubscribed() -> None:
    sub = Subscriber()
    async with aclosing(sse.messages(sub, keepalive=0.01)) as incoming:
        assert await anext(incoming) is None  # nothing came: time for a keep-alive comment
        sub.queue.put_nowait(b"3")
        sub.queue.put_nowait(b"4")
        assert [await _next_message(incoming), await _next_message(incoming)] == [b"3", b"4"]
        sub.queue.put_nowait(None)
        assert [item async for item in incoming if item is not None] == []  # and it ended


async def test_a_closed_stream_stops_waiting_for_the_next_message() -> None:
    sub = Subscriber()
    async with aclosing(sse.messages(sub, keepalive=0.01)) as incoming:
        assert await anext(incoming) is None
    await asyncio.wait_for(sub.stopped.wait(), 5)
    assert sub.stopped.is_set()
