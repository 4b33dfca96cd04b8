"""Per-channel pace: a token bucket for sends per second and a cap on sends at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class Pace:
    """At most ``rate`` sends per second (bursts up to one second's worth), ``concurrency`` at once."""

    def __init__(
        self, rate: float, concurrency: int, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = max(1.0, rate)
        self._tokens = self._burst
        self._monotonic = monotonic
        self._last = monotonic()
        self._slots = asyncio.Semaphore(concurrency)
        self._bucket = asyncio.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and a token, then hold the slot for one send."""
        async with self._slots:
            await self._take_token()
            yield

    async def _take_token(self) -> None:
        async with self._bucket:
            while True:
                now = self._monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)
