"""Per-channel pace: a token bucket for sends per second and a cap on sends at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType


class Pace:
    """At most ``rate`` sends per second (bursts up to one second's worth), ``concurrency`` at once.

    ``async with pace.slot():`` holds one of the slots for one send. A class, not a generator
    context manager: it is entered once per delivery, and a fan-out makes 100,000 of them.
    """

    def __init__(
        self, rate: float, concurrency: int, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.concurrency = concurrency
        self._rate = rate
        self._burst = max(1.0, rate)
        self._tokens = self._burst
        self._monotonic = monotonic
        self._last = monotonic()
        self._slots = asyncio.Semaphore(concurrency)
        self._bucket = asyncio.Lock()  # waiters for a token queue here, first come first served

    def slot(self) -> Pace:
        """Wait for a free slot and a token, then hold the slot for one send."""
        return self

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        try:
            await self._take_token()
        except BaseException:
            self._slots.release()
            raise

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._slots.release()

    async def _take_token(self) -> None:
        if not self._bucket.locked() and self._refill() >= 1:
            self._tokens -= 1  # nobody is waiting and a token is there: no lock to take
            return
        async with self._bucket:
            while True:
                if self._refill() >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)

    def _refill(self) -> float:
        now = self._monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        return self._tokens
