"""``exwatch simulate``: the simulated exchange alone, for docker compose and other setups.

It serves what ``exwatch demo`` serves beside the exchange except the mailbox (a real SMTP
sink such as Mailpit takes its place): the stand-in X API and the console webhook receiver.
"""

from __future__ import annotations

import asyncio
import signal

from monitor.demo.exchange import start_exchange
from monitor.demo.fake_x import FakeX
from monitor.demo.webhook_log import webhook_routes


async def run_simulator(host: str, port: int, *, stop: asyncio.Event | None = None) -> int:
    """Serve the exchange on ``host:port`` until SIGINT/SIGTERM (or ``stop``); return 0."""
    stop = stop or _stop_on_signals()
    exchange = await start_exchange(
        host, port, extra_routes=[*FakeX().routes(), *webhook_routes(_say)]
    )
    _say(f"exwatch: simulated exchange at {exchange.url}/ (faults: {exchange.url}/_faults)")
    try:
        await stop.wait()
    finally:
        await exchange.stop()
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # In a container SIGTERM is the normal way to stop, not an error.
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    return stop


def _say(line: str) -> None:
    print(line, flush=True)
