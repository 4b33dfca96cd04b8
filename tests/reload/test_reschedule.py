"""CheckScheduler.reschedule: new intervals take effect, added checks run, removed ones stop."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml

from monitor.clock import SystemClock
from monitor.config import CheckConfig, parse_config
from monitor.scheduler import CheckScheduler, start_offset
from probes import ProbeResult
from tests.reload.support import TEST_REGISTRY, base_document, check


def checks(*documents: dict[str, Any]) -> tuple[CheckConfig, ...]:
    document = base_document()
    document["checks"] = list(documents)
    return parse_config(yaml.safe_dump(document), registry=TEST_REGISTRY).checks


class Runs:
    """The sink: which checks ran, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, check: CheckConfig, result: ProbeResult) -> None:
        self.seen.append(check.id)


async def test_a_shorter_interval_runs_the_check_at_the_new_pace() -> None:
    slow = check("pace", "spot", interval="60s")
    assert start_offset("pace", 60) > 5  # the first run at the old pace is far away
    runs = Runs()
    scheduler = CheckScheduler(checks(slow), TEST_REGISTRY, runs, SystemClock())
    scheduler.start()
    try:
        await asyncio.sleep(0.3)
        assert runs.seen == []
        scheduler.reschedule(checks({**slow, "interval": "1s", "timeout": "1s"}))
        assert scheduler.intervals() == {"pace": 1.0}
        await asyncio.sleep(2.6)
    finally:
        await scheduler.stop()
    assert 2 <= runs.seen.count("pace") <= 4


async def test_added_checks_run_and_removed_checks_stop() -> None:
    runs = Runs()
    kept, dropped = (
        check("kept", "spot", interval="1s", timeout="1s"),
        check("dropped", "api", interval="1s", timeout="1s"),
    )
    scheduler = CheckScheduler(checks(kept, dropped), TEST_REGISTRY, runs, SystemClock())
    scheduler.start()
    try:
        scheduler.reschedule(checks(kept, check("added", "api", interval="1s", timeout="1s")))
        assert set(scheduler.intervals()) == {"kept", "added"}
        await asyncio.sleep(1.3)
    finally:
        await scheduler.stop()
    assert "added" in runs.seen and "kept" in runs.seen
    assert "dropped" not in runs.seen


async def test_before_start_the_new_list_is_what_start_schedules() -> None:
    scheduler = CheckScheduler(checks(check("a", "spot")), TEST_REGISTRY, Runs(), SystemClock())
    scheduler.reschedule(checks(check("b", "spot")))
    assert scheduler.intervals() == {}  # nothing is scheduled before start
    scheduler.start()
    try:
        assert scheduler.intervals() == {"b": 300.0}
    finally:
        await scheduler.stop()
