"""A dispatcher's sends, one lane per channel, each worked by as many senders as the channel allows.

A fixed set of workers per channel pulls deliveries from the lane's queue, rather than a task per
delivery waiting on the channel's concurrency: a 100,000-subscriber fan-out no longer creates
(and schedules, and collects) 100,000 tasks, and a channel held back by its pace (X at 429)
never keeps another channel's deliveries waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from notifiers.channel import Delivery

log = logging.getLogger(__name__)
DEFAULT_WIDTH = 16  # senders of a channel that has no pace (no configured limits)


class Lanes:
    """Per-channel queues of deliveries, sent as they are added; ``drain`` waits for the last."""

    def __init__(
        self, send: Callable[[Delivery], Awaitable[None]], widths: Mapping[str, int]
    ) -> None:
        self._send = send
        self._widths = widths
        self._queues: dict[str, asyncio.Queue[Delivery | None]] = {}
        self._workers: dict[str, list[asyncio.Task[None]]] = {}
        self._low_mark: int | None = None
        self._low = asyncio.Event()

    def add(self, delivery: Delivery) -> None:
        """Queue ``delivery`` on its channel's lane, opening the lane on first use."""
        channel = delivery.channel
        queue = self._queues.get(channel)
        if queue is None:
            queue = self._queues[channel] = asyncio.Queue()
            width = max(1, self._widths.get(channel, DEFAULT_WIDTH))
            self._workers[channel] = [
                asyncio.ensure_future(self._work(queue)) for _ in range(width)
            ]
        queue.put_nowait(delivery)

    def waiting(self) -> int:
        """Deliveries queued and not yet taken by a sender."""
        return sum(queue.qsize() for queue in self._queues.values())

    async def wait_until_waiting(self, limit: int) -> None:
        """Return once at most ``limit`` deliveries are queued and not yet taken by a sender."""
        self._low_mark = limit
        try:
            while self.waiting() > limit:
                self._low.clear()
                await self._low.wait()
        finally:
            self._low_mark = None

    async def drain(self) -> None:
        """Close every lane and wait until all that was queued has been sent."""
        for channel, queue in self._queues.items():
            for _ in self._workers[channel]:
                queue.put_nowait(None)  # one stop mark per worker, after everything queued
        await asyncio.gather(*(w for workers in self._workers.values() for w in workers))

    async def _work(self, queue: asyncio.Queue[Delivery | None]) -> None:
        while (delivery := await queue.get()) is not None:
            if self._low_mark is not None and self.waiting() <= self._low_mark:
                self._low.set()
            try:
                await self._send(delivery)
            except Exception:  # a bug in one send must not stop the lane: the rest still go
                log.exception("sending delivery %s failed", delivery.id)
