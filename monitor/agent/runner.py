"""run_agent: fetch this region's checks, run them, buffer each result on disk, push in batches.

Three activities share one event loop: the scheduler runs checks and appends results to the disk
buffer; a push loop sends the buffer's oldest results every push interval (draining a backlog
batch after batch); a refetch loop asks for the check set and reschedules when its version
changes or the region's live agents share it out differently (``monitor.agent.rendezvous``).
Delivery is at least once: a push whose answer is lost is sent again.

Only a 422 (the server refusing a batch's content) drops results, and as few as it can; any
other failure, of the server, of a proxy or of the disk, keeps them for the next push interval.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from monitor.agent.api import (
    AgentApi,
    AgentApiError,
    CheckSet,
    PayloadTooLargeError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
    UnexpectedStatusError,
)
from monitor.agent.buffer import DiskBuffer
from monitor.agent.identity import stored_agent_id
from monitor.agent.rendezvous import owned
from monitor.agent.settings import AgentSettings
from monitor.clock import Clock, SystemClock
from monitor.config import CheckConfig
from monitor.scheduler import CheckScheduler
from probes import REGISTRY, ProbeResult

log = logging.getLogger(__name__)
# Kinds only the central server can judge: a heartbeat is a push that arrives there, not here.
SERVER_SIDE_KINDS = frozenset({"heartbeat"})
# An unchanged failure is logged again after this long, so a long outage stays visible.
RELOG_AFTER_S = 60.0
# Why a 422 dropped what it dropped.
_GONE = "results of checks no longer in this region"
_NAMED = "the results it named"
_WHOLE_BATCH = "a batch of results"
# Failures of the push that are not the server's answer: the disk, or httpx itself.
_LOCAL_FAILURES = (sqlite3.Error, httpx.HTTPError)


async def run_agent(settings: AgentSettings, *, stop: asyncio.Event | None = None) -> None:
    """Run the probe agent until ``stop`` is set (or the task is cancelled)."""
    buffer = await asyncio.to_thread(DiskBuffer, settings.buffer_path, settings.max_buffered)
    try:
        # After the buffer: its lock keeps a second agent from taking the same directory's id.
        settings = await asyncio.to_thread(with_agent_id, settings)
        async with AgentApi(settings) as api:
            await Agent(settings, api, buffer).run(stop or asyncio.Event())
    finally:
        buffer.close()


def with_agent_id(settings: AgentSettings) -> AgentSettings:
    """Return ``settings`` with an agent id: the one given, or the one kept beside the buffer."""
    if settings.agent_id is not None:
        return settings
    return replace(settings, agent_id=stored_agent_id(settings.buffer_directory))


@dataclass
class AgentStats:
    """What the agent did with its results since it started, and what it runs now."""

    buffered: int = 0
    """Results put in the disk buffer."""
    pushed: int = 0
    """Results the server accepted."""
    rejected_batches: int = 0
    """Batches dropped whole after a 422 that named nothing the agent could weed out."""
    rejected_results: int = 0
    """Results dropped after a 422, in whole batches or not."""
    owned_checks: int = 0
    """Checks this agent runs now: its share of the region's (a gauge)."""
    region_checks: int = 0
    """Checks the region's agents run between them now (a gauge)."""


class Agent:
    """One region's agent: the scheduler, the disk buffer and the server, tied together."""

    def __init__(
        self,
        settings: AgentSettings,
        api: AgentApi,
        buffer: DiskBuffer,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._api = api
        self._buffer = buffer
        self._clock = clock or SystemClock()
        self._scheduler: CheckScheduler | None = None
        self._check_set: CheckSet | None = None
        self._owned: frozenset[str] = frozenset()
        self._refetching = asyncio.Lock()
        self._fetch_log = _FailureLog("fetching checks")
        self._push_log = _FailureLog("pushing results")
        self._batch_size = settings.batch_size  # halved at each 413
        self.stats = AgentStats()

    @property
    def batch_size(self) -> int:
        """Results sent in one request at most: the setting's, or less after a 413."""
        return self._batch_size

    @property
    def check_ids(self) -> frozenset[str]:
        """The ids of the checks in the current check set (empty before the first fetch)."""
        checks = self._check_set.checks if self._check_set else ()
        return frozenset(check.id for check in checks)

    @property
    def owned_ids(self) -> frozenset[str]:
        """The ids of the checks this agent runs now: its share among the region's agents."""
        return self._owned

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch, run and push until ``stop`` is set; then send what is left, briefly."""
        log.info(
            "agent for region %s of %s starting; %d results buffered from before",
            self._settings.region, self._settings.server_url, await self._buffer.count(),
        )  # fmt: skip
        if self._settings.sends_token_in_clear:
            log.warning(
                "the server URL %s is plain http:// to another machine: the agent's token "
                "travels in clear text; use https://", self._settings.server_url,
            )  # fmt: skip
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._refetch_loop(stop))
                tasks.create_task(self._push_loop(stop))
        finally:
            await self._stop_scheduler()
        await self._final_push()

    async def _refetch_loop(self, stop: asyncio.Event) -> None:
        while True:
            await self.refetch()
            # Until a first check set arrives there is nothing to run: ask again sooner.
            delay = self._settings.refetch_interval
            if self._check_set is None:
                delay = min(delay, self._settings.push_interval)
            if not await _sleep_unless(stop, delay):
                return

    async def refetch(self) -> bool:
        """Fetch the check set now, reschedule if its version changed; return whether it came."""
        async with self._refetching:  # the push loop may refetch too, after a rejection
            try:
                check_set = await self._api.fetch_checks()
            except AgentApiError as error:
                self._fetch_log.failed(error)
                return False
            self._fetch_log.succeeded()
            changed = self._check_set is None or check_set.version != self._check_set.version
            # A new check set, or an agent of the region came or went: share the checks anew.
            if changed or self._share(check_set) != self._owned:
                await self._reschedule(check_set)
            return True

    def _share(self, check_set: CheckSet) -> frozenset[str]:
        """The ids of the runnable checks of ``check_set`` this agent owns among the live agents."""
        ids = [c.id for c in check_set.checks if c.kind not in SERVER_SIDE_KINDS]
        me = self._settings.agent_id
        if me is None or check_set.agents is None:  # no sharing: a server (or agent) without it
            return frozenset(ids)
        return owned(ids, check_set.agents, me)

    async def _reschedule(self, check_set: CheckSet) -> None:
        skipped = sorted(c.id for c in check_set.checks if c.kind in SERVER_SIDE_KINDS)
        if skipped:
            log.warning("not running server-side checks here: %s", ", ".join(skipped))
        share = self._share(check_set)
        runnable = [c for c in check_set.checks if c.id in share]
        await self._stop_scheduler()
        scheduler = CheckScheduler(
            runnable, REGISTRY, self._record, self._clock, region=self._settings.region
        )
        scheduler.start()
        self._scheduler, self._check_set, self._owned = scheduler, check_set, share
        self._note_share(check_set)

    def _note_share(self, check_set: CheckSet) -> None:
        """Log and count this agent's share of the region's checks."""
        region_checks = sum(1 for c in check_set.checks if c.kind not in SERVER_SIDE_KINDS)
        self.stats.owned_checks, self.stats.region_checks = len(self._owned), region_checks
        me = self._settings.agent_id
        live = (
            "not shared"
            if check_set.agents is None
            else len({*check_set.agents, *([me] if me else [])})
        )
        log.info(
            "agent %s runs %d of the region's %d checks (live agents: %s; check set version %s)",
            me or "-", len(self._owned), region_checks, live, check_set.version,
        )  # fmt: skip

    async def _stop_scheduler(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            await scheduler.stop()

    async def _record(self, check: CheckConfig, result: ProbeResult) -> None:
        payload = result_payload(check.id, self._clock.now(), result)
        try:
            await self._buffer.append([payload])
        except Exception:  # a full or broken disk must not stop the checks
            log.exception("could not buffer a result of check %s; it is lost", check.id)
            return
        self.stats.buffered += 1

    async def _push_loop(self, stop: asyncio.Event) -> None:
        while await _sleep_unless(stop, self._settings.push_interval):
            await self.push_backlog(stop)

    async def _final_push(self) -> None:
        # What does not go out in time stays on disk for the next start.
        try:
            async with asyncio.timeout(self._settings.request_timeout):
                await self.push_backlog(asyncio.Event())
        except TimeoutError:
            log.info("stopping with %d results still buffered", await self._buffer.count())

    async def push_backlog(self, stop: asyncio.Event) -> None:
        """Push the buffer's results batch after batch until it is empty or a push fails.

        A failing disk or an unexpected error of httpx is logged like a failed push, and the
        next call tries again: neither may stop the agent.
        """
        try:
            await self._drain(stop)
        except _LOCAL_FAILURES as error:
            self._push_log.failed(error, f"; {await self._buffer.count()} results buffered")

    async def _drain(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = await self._buffer.peek(self._batch_size)
            if not batch or not await self._push(batch):
                return

    async def _push(self, batch: list[tuple[int, str]]) -> bool:
        """Push one batch; return whether to go on with the next."""
        try:
            accepted = await self._api.push([payload for _, payload in batch])
        except RejectedError as error:
            return await self._handle_rejection(batch, error)
        except RetryableError as error:
            if isinstance(error, PayloadTooLargeError):
                self._shrink_batches(len(batch))
            self._push_log.failed(error, f"; {await self._buffer.count()} results buffered")
            return False
        self._push_log.succeeded()
        self.stats.pushed += accepted
        await self._buffer.remove([id_ for id_, _ in batch])
        return True

    def _shrink_batches(self, refused: int) -> None:
        """Send at most half of a batch of ``refused`` results from now on (at least one)."""
        smaller = max(1, min(refused, self._batch_size) // 2)
        if smaller < self._batch_size:
            self._batch_size = smaller
            log.warning(
                "the server found a batch of %d results too large: sending at most %d per "
                "request from now on", refused, smaller,
            )  # fmt: skip

    async def _handle_rejection(self, batch: list[tuple[int, str]], error: RejectedError) -> bool:
        """Drop what the server will never take (a 422); return whether to go on."""
        # The usual cause is a check set changed on the server: refetch it to tell which
        # results no longer belong. Without it the agent cannot tell: keep the batch for later.
        if not await self.refetch():
            self._push_log.failed(error, "; kept until the check set can be fetched again")
            return False
        doomed, why = self._rejected_ids(batch, error.indices)
        await self._buffer.remove(doomed)
        self.stats.rejected_batches += 1 if why == _WHOLE_BATCH else 0
        self.stats.rejected_results += len(doomed)
        log.error(
            "the server rejected %s: dropped %d of %d (%d rejected in all): %s",
            why, len(doomed), len(batch), self.stats.rejected_results, error,
        )  # fmt: skip
        return True

    def _rejected_ids(
        self, batch: list[tuple[int, str]], named: tuple[int, ...]
    ) -> tuple[list[int], str]:
        """Return the ids of a rejected batch's results to drop, and why those.

        As few as can explain the rejection: the results of checks gone from the fresh check
        set (the next push sends the rest); else the results the server named; else, with
        nothing to weed out, the whole batch, so one bad batch never blocks the buffer.
        """
        known = self.check_ids
        gone = [id_ for id_, payload in batch if _check_id(payload) not in known]
        if gone:
            return gone, _GONE
        ids = [batch[index][0] for index in named if index < len(batch)]
        if ids:
            return ids, _NAMED
        return [id_ for id_, _ in batch], _WHOLE_BATCH


def result_payload(check_id: str, at: datetime, result: ProbeResult) -> str:
    """Return one result as the JSON object the server's results endpoint takes."""
    return json.dumps(
        {
            "check_id": check_id,
            "observed_at": at.isoformat(),
            "ok": result.ok,
            "duration_s": round(result.duration_s, 6),
            "error": result.error,
            **result.to_json(),  # observed, conditions and phases, JSON-safe
        },
        separators=(",", ":"),
    )


def _check_id(payload: str) -> str | None:
    try:
        check_id = json.loads(payload).get("check_id")
    except (ValueError, AttributeError):
        return None
    return check_id if isinstance(check_id, str) else None


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; return whether to carry on."""
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return True
    return False


class _FailureLog:
    """Logs when a call starts failing, changes failure, or recovers, not at every retry."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._failures = 0
        self._last: tuple[str, float] | None = None  # message, when logged

    def failed(self, error: Exception, detail: str = "") -> None:
        """Note a failed attempt; log it if it is news (or the same failure, a while later)."""
        self._failures += 1
        message, now = _message(error), time.monotonic()
        last = self._last
        if last is not None and last[0] == message and now - last[1] < RELOG_AFTER_S:
            return
        self._last = (message, now)
        level, hint = _level_and_hint(error)
        log.log(
            level, "%s failed (attempt %d), will retry: %s%s%s",
            self._what, self._failures, message, hint, detail,
        )  # fmt: skip

    def succeeded(self) -> None:
        """Note a success; log the recovery after failures."""
        if self._failures:
            log.info("%s works again after %d failed attempts", self._what, self._failures)
        self._failures, self._last = 0, None


def _message(error: Exception) -> str:
    """The API's errors say what failed; others (the disk's, httpx's) need their type too."""
    return str(error) if isinstance(error, AgentApiError) else f"{type(error).__name__}: {error}"


def _level_and_hint(error: Exception) -> tuple[int, str]:
    """How loud a failure is logged, and what to check: errors need an operator."""
    if isinstance(error, UnauthorizedError):
        return logging.ERROR, " (check the agent's --token)"
    if isinstance(error, UnexpectedStatusError):
        return logging.ERROR, " (check the agent's --server URL and any proxy on the way)"
    if isinstance(error, AgentApiError):
        return logging.WARNING, ""
    return logging.ERROR, ""  # the disk or httpx
