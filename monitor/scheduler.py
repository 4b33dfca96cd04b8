"""Runs every check at its interval with APScheduler: spread start times, a timeout, no overlap."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.clock import Clock
from monitor.config import CheckConfig
from monitor.config.models import LOCAL_REGION
from monitor.tracing import note_probe, tracer
from probes import Probe, ProbeResult, Registry

log = logging.getLogger(__name__)
_tracer = tracer(__name__)
ResultSink = Callable[[CheckConfig, ProbeResult], Awaitable[None]]
# A probe enforces its own timeout; this margin only catches a probe that fails to.
TIMEOUT_MARGIN_S = 1.0
# Probes in flight at once: keeps the loop under its budget so probes measure targets, not us.
DEFAULT_MAX_CONCURRENT = 1000


class CheckScheduler:
    """Owns one APScheduler job per check and hands each result to ``sink``."""

    def __init__(
        self,
        checks: Sequence[CheckConfig],
        registry: Registry,
        sink: ResultSink,
        clock: Clock,
        *,
        on_lag: Callable[[float], None] | None = None,
        on_skip: Callable[[], None] | None = None,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        probes: Mapping[str, Probe[Any]] | None = None,
        region: str = LOCAL_REGION,
    ) -> None:
        self._checks = list(checks)
        self._region = region  # only for traces: the agent's scheduler probes from its region
        self._sink = sink
        self._clock = clock
        # Probes that need a service of exwatch's (e.g. heartbeats' ledger) come in ready-made.
        self._probes: dict[str, Probe[Any]] = {
            kind.name: kind.factory()
            for kind in registry.kinds()
            if kind.name not in (probes or {})
        }
        self._probes.update(probes or {})
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_concurrent)
        if on_lag is not None:
            self._scheduler.add_listener(_lag_listener(clock, on_lag), EVENT_JOB_SUBMITTED)
        if on_skip is not None:
            # A run skipped because the last one of its check is still going, or missed
            # altogether: counted, where APScheduler would log a warning each time.
            self._scheduler.add_listener(
                lambda _: on_skip(), EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED
            )

    def start(self) -> None:
        """Schedule every check; the first runs are spread over one interval.

        After ``pause`` this resumes the jobs (an engine elected leader again).
        """
        if self._scheduler.running:
            self._scheduler.resume()
            return
        for check in self._checks:
            self._schedule(check)
        self._scheduler.start()

    def reschedule(self, checks: Sequence[CheckConfig]) -> None:
        """Run ``checks`` from now on (a reload): add new jobs, remove old, replace changed.

        A changed check's job is replaced under the same id, so a run in flight finishes (its
        result is judged by the new definition) and the new one never overlaps it. A removed
        check's run in flight finishes too; the engine drops its result.
        """
        before = {c.id: c for c in self._checks}
        after = {c.id: c for c in checks}
        self._checks = list(checks)
        if not self._scheduler.running:
            return  # start() schedules the new list
        for check_id in before.keys() - after.keys():
            self._scheduler.remove_job(check_id)
        for check in checks:
            if before.get(check.id) != check:
                self._schedule(check)

    def intervals(self) -> dict[str, float]:
        """The interval of each scheduled check, by id (what runs now, for reports and tests)."""
        return {job.id: job.trigger.interval.total_seconds() for job in self._scheduler.get_jobs()}

    def _schedule(self, check: CheckConfig) -> None:
        """Add (or replace) the check's job; its first run falls at its stable offset."""
        offset = timedelta(seconds=start_offset(check.id, check.interval))
        self._scheduler.add_job(
            self.run_check,
            IntervalTrigger(
                seconds=check.interval, start_date=self._clock.now() + offset, timezone="UTC"
            ),
            args=[check],
            id=check.id,
            replace_existing=True,
            max_instances=1,  # a check never overlaps itself
            coalesce=True,
            misfire_grace_time=max(1, int(check.interval)),
        )

    async def pause(self) -> None:
        """Start no more runs and wait briefly for those in flight (a deposed engine leader)."""
        if self._scheduler.running:
            self._scheduler.pause()
        if self._running:
            await asyncio.wait(self._running, timeout=5)

    async def stop(self) -> None:
        """Stop scheduling, wait briefly for runs in flight, then close the probes' clients."""
        if self._scheduler.running:
            # Pause first: shutting down cancels the runs in flight, and their results would be
            # lost (and logged as errors). Let them finish, then shut down.
            self._scheduler.pause()
            if self._running:
                await asyncio.wait(self._running, timeout=5)
            self._scheduler.shutdown(wait=False)
        # Runs still going after the grace are cancelled before their clients close: a closed
        # client would turn them into failures exwatch caused itself. Their results are dropped.
        straggling = list(self._running)
        for task in straggling:
            task.cancel()
        if straggling:
            await asyncio.gather(*straggling, return_exceptions=True)
        for probe in self._probes.values():
            close = getattr(probe, "aclose", None)  # probes holding a client session have one
            if close is not None:
                await close()

    async def run_check(self, check: CheckConfig) -> None:
        """Run one check now and pass its result on."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        attributes = {"exwatch.check": check.id, "exwatch.component": check.component,
                      "exwatch.kind": check.kind, "exwatch.region": self._region}  # fmt: skip
        try:
            with _tracer.start_as_current_span("exwatch.probe", attributes=attributes) as span:
                async with self._slots:
                    result = await self._probe(check)
                note_probe(span, result)
                await self._sink(check, result)  # the engine's span is a child of this one
        finally:
            if task is not None:
                self._running.discard(task)

    async def _probe(self, check: CheckConfig) -> ProbeResult:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(check.timeout + TIMEOUT_MARGIN_S):
                return await self._probes[check.kind].run(check)
        except TimeoutError:
            return ProbeResult(
                False, time.perf_counter() - started, error=f"timed out after {check.timeout:g}s"
            )
        except Exception as error:  # a probe must never take the scheduler down
            log.exception("probe %s of check %s raised", check.kind, check.id)
            return ProbeResult(
                False, time.perf_counter() - started, error=f"probe error: {error!r}"
            )


def _lag_listener(clock: Clock, on_lag: Callable[[float], None]) -> Callable[[Any], None]:
    """Report how late each run was handed to the event loop after its scheduled time."""

    def listener(event: Any) -> None:
        if event.scheduled_run_times:
            late = (clock.now() - event.scheduled_run_times[-1]).total_seconds()
            on_lag(max(0.0, late))

    return listener


def start_offset(check_id: str, interval: float) -> float:
    """Return a stable offset in [0, interval) so checks do not all start at once."""
    digest = hashlib.blake2b(check_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64 * interval
