"""The demo's scripted scenario: faults injected into the simulated exchange over time.

The scenario is data (a tuple of Steps); ``run_scenario`` plays it through the fault API,
so it exercises the same HTTP surface a person would use with curl.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from monitor.demo.faults import FaultMode


@dataclass(frozen=True, slots=True)
class InjectFault:
    """Break ``target`` in ``mode`` for ``seconds``."""

    target: str
    mode: FaultMode
    seconds: float

    def describe(self) -> str:
        """Return e.g. ``eth-withdrawals: slow``."""
        return f"{self.target}: {self.mode.value}"

    async def perform(self, client: httpx.AsyncClient) -> None:
        """POST the fault; raises httpx.HTTPError when the exchange refuses or is unreachable."""
        payload = {"target": self.target, "mode": self.mode.value, "seconds": self.seconds}
        response = await client.post("/_faults", json=payload)
        response.raise_for_status()


@dataclass(frozen=True, slots=True)
class ClearFaults:
    """Clear every fault, so everything recovers."""

    def describe(self) -> str:
        """Return ``all faults cleared``."""
        return "all faults cleared"

    async def perform(self, client: httpx.AsyncClient) -> None:
        """DELETE all faults; raises httpx.HTTPError when the exchange is unreachable."""
        response = await client.delete("/_faults")
        response.raise_for_status()


Action = InjectFault | ClearFaults


@dataclass(frozen=True, slots=True)
class Step:
    """Do ``action`` ``at_seconds`` after the scenario starts."""

    at_seconds: float
    description: str
    action: Action


SCENARIO: tuple[Step, ...] = (
    Step(30, "ETH withdrawals become slow", InjectFault("eth-withdrawals", FaultMode.SLOW, 120)),
    Step(75, "The trading engine goes down", InjectFault("trading-engine", FaultMode.DOWN, 60)),
    Step(150, "Everything recovers", ClearFaults()),
)


async def run_scenario(
    exchange_url: str,
    steps: Sequence[Step] = SCENARIO,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] = print,
) -> None:
    """Play ``steps`` against the exchange at ``exchange_url``, logging a line per step."""
    started = clock()
    async with httpx.AsyncClient(base_url=exchange_url, timeout=5.0) as client:
        for step in steps:
            # Measure from the start, not the previous step, so slow requests don't add drift.
            delay = started + step.at_seconds - clock()
            if delay > 0:
                await sleep(delay)
            log(await _perform(step, client))


async def _perform(step: Step, client: httpx.AsyncClient) -> str:
    """Perform ``step`` and return its log line; a failure is reported, never raised."""
    line = f"[scenario +{step.at_seconds:g}s] {step.description} ({step.action.describe()})"
    try:
        await step.action.perform(client)
    except httpx.HTTPError as error:
        # The demo must keep running if the exchange is briefly unreachable.
        return f"{line} failed: {type(error).__name__}: {error}"
    return line
