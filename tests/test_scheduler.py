"""The scheduler: every check runs at its interval, never overlapping itself, start times spread."""

from __future__ import annotations

import asyncio
import time
from itertools import pairwise
from typing import ClassVar, Literal

import pytest

from monitor.clock import SystemClock
from monitor.config import CheckConfig
from monitor.config.schema import config_model
from monitor.scheduler import CheckScheduler, start_offset
from probes import ProbeResult, ProbeSpec, Registry


class SleepySpec(ProbeSpec):
    kind: Literal["sleepy"] = "sleepy"
    seconds: float = 0.0


class SleepyProbe:
    """Sleeps, and records how many runs of a check were in flight at once."""

    in_flight: ClassVar[dict[str, int]] = {}
    most_in_flight: ClassVar[dict[str, int]] = {}

    async def run(self, spec: SleepySpec) -> ProbeResult:
        key = str(spec.seconds)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.most_in_flight[key] = max(self.most_in_flight.get(key, 0), self.in_flight[key])
        try:
            await asyncio.sleep(spec.seconds)
        finally:
            self.in_flight[key] -= 1
        return ProbeResult(ok=True, duration_s=spec.seconds)


class BrokenProbe:
    async def run(self, spec: ProbeSpec) -> ProbeResult:
        raise RuntimeError("bug in a probe")


class BrokenSpec(ProbeSpec):
    kind: Literal["broken"] = "broken"


def checks(registry: Registry, *entries: dict[str, object]) -> tuple[CheckConfig, ...]:
    document = {
        "site": {"name": "t"},
        "components": [{"id": "c", "names": {"ja": "c", "en": "c"}, "impact_class": "trading"}],
        "checks": [{"component": "c", "interval": "1s", **entry} for entry in entries],
    }
    return config_model(registry).model_validate(document).checks


@pytest.fixture
def registry() -> Registry:
    fresh = Registry()
    fresh.register("sleepy", SleepySpec, SleepyProbe)
    fresh.register("broken", BrokenSpec, BrokenProbe)
    return fresh


async def test_checks_run_at_their_interval_without_overlapping(registry: Registry) -> None:
    results: list[tuple[str, float]] = []

    async def sink(check: CheckConfig, result: ProbeResult) -> None:
        results.append((check.id, time.monotonic()))

    configured = checks(
        registry,
        {"id": "fast", "kind": "sleepy", "seconds": 0.01},
        {"id": "slow", "kind": "sleepy", "seconds": 1.5, "timeout": "1s"},
        {"id": "crash", "kind": "broken"},
    )
    lags: list[float] = []
    skipped: list[None] = []
    scheduler = CheckScheduler(
        configured, registry, sink, SystemClock(), on_lag=lags.append,
        on_skip=lambda: skipped.append(None),
    )  # fmt: skip
    scheduler.start()
    await asyncio.sleep(3.2)
    await scheduler.stop()
    assert len(lags) >= 5 and all(0 <= lag < 1 for lag in lags)  # every submitted run measured
    assert skipped  # the slow check's runs that would have overlapped were counted
    fast_runs = [t for cid, t in results if cid == "fast"]
    assert 2 <= len(fast_runs) <= 4
    assert all(b - a > 0.8 for a, b in pairwise(fast_runs))
    assert SleepyProbe.most_in_flight["1.5"] == 1  # the slow check never overlapped itself
    assert any(cid == "crash" for cid, _ in results)  # a crashing probe still yields a result


async def test_a_probe_that_ignores_its_timeout_is_cut_off(registry: Registry) -> None:
    seen: list[ProbeResult] = []

    async def sink(check: CheckConfig, result: ProbeResult) -> None:
        seen.append(result)

    [check] = checks(registry, {"id": "stuck", "kind": "sleepy", "seconds": 30, "timeout": "200ms"})
    scheduler = CheckScheduler([check], registry, sink, SystemClock())
    started = time.monotonic()
    await scheduler.run_check(check)
    assert time.monotonic() - started < 2
    assert seen[0].error == "timed out after 0.2s"


def test_start_offsets_are_stable_and_spread() -> None:
    offsets = [start_offset(f"check-{i}", 10.0) for i in range(200)]
    assert offsets == [start_offset(f"check-{i}", 10.0) for i in range(200)]
    assert all(0 <= o < 10 for o in offsets)
    assert len({int(o) for o in offsets}) == 10  # every second of the interval gets some


async def test_concurrency_is_bounded(registry: Registry) -> None:
    configured = checks(
        registry, *({"id": f"c{i}", "kind": "sleepy", "seconds": 0.05} for i in range(6))
    )
    done: list[str] = []

    async def sink(check: CheckConfig, result: ProbeResult) -> None:
        done.append(check.id)

    SleepyProbe.most_in_flight.pop("0.05", None)
    scheduler = CheckScheduler(configured, registry, sink, SystemClock(), max_concurrent=2)
    await asyncio.gather(*(scheduler.run_check(check) for check in configured))
    assert sorted(done) == [f"c{i}" for i in range(6)]
    assert SleepyProbe.most_in_flight["0.05"] == 2


async def test_stop_cancels_runs_that_outlive_the_grace(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    async def sink(check: CheckConfig, result: ProbeResult) -> None:
        seen.append(check.id)

    [check] = checks(
        registry,
        {"id": "endless", "kind": "sleepy", "seconds": 60, "timeout": "1s", "interval": "2s"},
    )
    scheduler = CheckScheduler([check], registry, sink, SystemClock())
    running = asyncio.create_task(scheduler.run_check(check))
    await asyncio.sleep(0.05)
    await scheduler.stop()  # not started by APScheduler: nothing to wait for, the run is cancelled
    assert running.cancelled() or running.done()
    assert seen == []  # a cancelled run reports nothing
