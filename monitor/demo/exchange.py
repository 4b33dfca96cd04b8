"""A simulated crypto exchange (aiohttp) whose components can be broken on purpose.

Each endpoint belongs to one component id; ``/_faults`` makes components go down, fail,
slow down or serve stale data, so ``exwatch demo`` has something real to watch.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from monitor.demo.endpoints import component_routes
from monitor.demo.fault_api import fault_routes
from monitor.demo.faults import FaultTable
from monitor.demo.market import PAIRS
from monitor.demo.metrics import metrics_handler
from monitor.demo.state import ASSETS, STALE_BY, ExchangeState

__all__ = [
    "ASSETS",
    "COMPONENT_IDS",
    "PAIRS",
    "STALE_BY",
    "RunningExchange",
    "build_exchange_app",
    "start_exchange",
]

COMPONENT_IDS: tuple[str, ...] = (
    "trading-engine",
    "order-entry",
    *PAIRS.values(),
    "market-data",
    "charts",
    *(f"{asset}-deposits" for asset in ASSETS),
    *(f"{asset}-withdrawals" for asset in ASSETS),
    "website",
    "mobile-app",
    "help-center",
    "public-api",
    "private-api",
    "login",
    "two-factor",
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_exchange_app(
    faults: FaultTable,
    *,
    slow_delay: float = 2.5,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], datetime] = _utc_now,
    rng: random.Random | None = None,
    extra_routes: Iterable[web.RouteDef] = (),
) -> web.Application:
    """Return the simulated exchange's app, with ``faults`` deciding who misbehaves."""
    ex = ExchangeState(faults, slow_delay, sleep, clock, rng or random.Random())
    app = web.Application()
    app.add_routes(
        [
            *component_routes(ex),
            *fault_routes(faults, COMPONENT_IDS),
            web.get("/metrics", metrics_handler(ex, COMPONENT_IDS)),
            *extra_routes,
        ]
    )
    return app


@dataclass
class RunningExchange:
    """An exchange serving on ``url`` until ``stop``."""

    url: str
    runner: web.AppRunner
    faults: FaultTable

    async def stop(self) -> None:
        """Stop serving and release the port."""
        await self.runner.cleanup()


async def start_exchange(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    slow_delay: float = 2.5,
    extra_routes: Iterable[web.RouteDef] = (),
) -> RunningExchange:
    """Serve a fresh exchange on ``host:port`` (port 0 picks a free one)."""
    faults = FaultTable(_utc_now)
    # No access log: the demo's console is for the scenario, not a line per probe.
    runner = web.AppRunner(
        build_exchange_app(faults, slow_delay=slow_delay, extra_routes=extra_routes),
        access_log=None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return RunningExchange(f"http://{host}:{bound_port}", runner, faults)
