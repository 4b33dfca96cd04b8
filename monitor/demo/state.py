"""The exchange's mutable state, and the guard that applies faults around each endpoint."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web

from monitor.demo.faults import FaultMode, FaultTable
from monitor.demo.market import Market
from monitor.demo.responses import failure_response

ASSETS: tuple[str, ...] = ("jpy", "btc", "eth")
STALE_BY = timedelta(minutes=10)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Body = Callable[[web.Request, datetime], web.Response]
Resolver = Callable[[web.Request], str | None]


class ExchangeState:
    """The exchange's state and handlers; faults are applied around every component's body."""

    def __init__(
        self,
        faults: FaultTable,
        slow_delay: float,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.faults = faults
        self._slow_delay = slow_delay
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self.market = Market(rng)
        self.pending = dict.fromkeys(ASSETS, 1)
        self.queue_depth = dict.fromkeys(ASSETS, 3)
        self.matching_latency_ms = 4.0

    def guarded(self, component_of: Resolver, body: Body) -> Handler:
        """Wrap ``body`` so the fault on its component (if any) shapes the response."""

        async def handler(request: web.Request) -> web.StreamResponse:
            component = component_of(request)
            mode = self.faults.mode_for(component) if component else None
            failure = failure_response(mode)
            if failure is not None:
                return failure
            if mode is FaultMode.SLOW:
                await self._sleep(self._slow_delay)
            stale = mode is FaultMode.STALE
            return body(request, self._clock() - (STALE_BY if stale else timedelta(0)))

        return handler

    def walk(self, value: int) -> int:
        """Return a small non-negative random step from ``value`` (queues drift)."""
        return max(0, value + self._rng.choice((-1, 0, 0, 1)))

    def sample_matching_latency(self) -> float:
        """Return a fresh matching latency in milliseconds, remembered for the metrics."""
        self.matching_latency_ms = round(self._rng.uniform(2.0, 6.0), 2)
        return self.matching_latency_ms

    def matching_latency_s(self) -> float:
        """Return the matching latency the metrics report (the slow delay when slowed)."""
        if self.faults.mode_for("trading-engine") is FaultMode.SLOW:
            return self._slow_delay
        return self.matching_latency_ms / 1000
