"""Start and stop one process's background parts, per role.

``all`` runs everything. ``api`` renders its own snapshot, re-rendering on the change feed.
``engine`` dispatches the outbox always and, while it is the elected leader, runs the checks,
the engine, escalation, the inbox of agent results and retention.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from monitor.cluster.inbox import InboxDrain
from monitor.cluster.leadership import Leadership
from monitor.wiring.roles import Role
from monitor.wiring.services import Services

log = logging.getLogger(__name__)


def lifespan(
    services: Services, *, run_checks: bool, lease: float
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan of ``services.role``; the database's pool closes as it ends."""
    inner = _role_lifespan(services, run_checks=run_checks, lease=lease)

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(app):
                yield
        finally:
            # Here, not after the server returns: uvicorn then re-raises the SIGINT it caught,
            # and asyncio would cancel the caller's close half-way through a connection's.
            await services.database.close()

    return run


def _role_lifespan(
    services: Services, *, run_checks: bool, lease: float
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    if services.role is Role.API:
        return _api_lifespan(services)
    if services.role is Role.ENGINE:
        return _engine_lifespan(services, run_checks=run_checks, lease=lease)
    return _all_lifespan(services, run_checks=run_checks)


def _all_lifespan(
    services: Services, *, run_checks: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Single node: every part in this process."""
    background = (
        services.publisher, services.loop_lag, services.writer, services.retention,
        services.ticker, services.notifications,
    )  # fmt: skip

    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        await services.engine.start()
        await services.heartbeats.load()
        await services.publisher.publish_now()
        for part in background:
            part.start()
        if run_checks:
            services.scheduler.start()
        try:
            yield
        finally:
            # The scheduler stops before the writer it feeds; the page's publisher last.
            await stop_all(
                services.notifications, services.ticker, services.scheduler, services.retention,
                services.writer, services.loop_lag, services.publisher,
            )  # fmt: skip

    return run


def _api_lifespan(services: Services) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """An api replica: its snapshot, re-rendered when the change feed says so."""
    feed = services.feed
    assert feed is not None, "an api replica's services have a change feed"

    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        await services.heartbeats.load()
        await services.publisher.publish_now()
        for part in (services.publisher, services.loop_lag, feed):
            part.start()
        try:
            yield
        finally:
            await stop_all(feed, services.loop_lag, services.publisher)

    return run


def _engine_lifespan(
    services: Services, *, run_checks: bool, lease: float
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """An engine: a candidate for leadership; the outbox is dispatched whatever the outcome."""
    duties = LeaderDuties(services, run_checks=run_checks)
    leadership = Leadership(
        services.database.url, f"{socket.gethostname()}:{os.getpid()}", lease=lease,
        on_elected=duties.elected, on_deposed=duties.deposed, registry=services.metrics_registry,
    )  # fmt: skip

    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        for part in (services.loop_lag, services.writer, services.notifications):
            part.start()
        leadership.start()
        try:
            yield
        finally:
            # Hand over first (a standby takes over at once), then stop what the term ran.
            await stop_all(leadership)
            await duties.deposed("this process is stopping")
            await stop_all(
                services.scheduler, services.notifications, services.writer, services.loop_lag
            )

    return run


class LeaderDuties:
    """What only the leader runs: started when elected, stopped when deposed."""

    def __init__(self, services: Services, *, run_checks: bool) -> None:
        self._services = services
        self._run_checks = run_checks
        self._drain = InboxDrain(
            services.database, services.engine, lambda: {c.id: c for c in services.config.checks},
            services.metrics.observe,
        )  # fmt: skip
        self._running = False

    async def elected(self, epoch: int) -> None:
        """Take over: the state as the last leader left it in the database, then every loop."""
        services = self._services
        assert services.fence is not None
        services.fence.epoch = epoch  # what /healthz reports, too
        log.warning("engine leader from now on (epoch %d)", epoch)
        await services.engine.start()
        await services.heartbeats.load()
        for part in (services.ticker, self._drain, services.retention):
            part.start()
        if self._run_checks:
            services.scheduler.start()
        self._running = True
        await services.changed()  # the page's "last checked" moves with the new leader

    async def deposed(self, reason: str) -> None:
        """Step down: nothing more is written under the old epoch (the fence refuses it)."""
        services = self._services
        if services.fence is not None:
            services.fence.epoch = None
        if not self._running:
            return
        self._running = False
        log.warning("engine no longer leader: %s", reason)
        await services.scheduler.pause()
        await stop_all(self._drain, services.ticker, services.retention)


async def stop_all(*parts: Any) -> None:
    """Stop each part in order; one failing to stop must not keep the writer from its last flush."""
    for part in parts:
        try:
            await part.stop()
        except Exception:
            log.exception("%s did not stop cleanly", type(part).__name__)
