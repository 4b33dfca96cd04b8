"""An api replica's ear on the engine: LISTEN for announced changes, and catch up on the timeline.

Notifications are fast but not guaranteed (the listener connection can be down when one is
sent), so every ``catch_up_every`` seconds the feed also reads the timeline's newest id: a
missed notification only delays the re-render. On SQLite there is nothing to LISTEN to; the
catch-up alone serves a second process on the same file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from monitor.cluster.announce import CHANNEL
from monitor.cluster.listen_connection import (
    CONNECT_TIMEOUT,
    CONNECTION_ERRORS,
    Connect,
    ListenerConnection,
    asyncpg_dsn,
    connect_listener,
)
from monitor.storage.database import Database
from monitor.storage.tables import timeline_events

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
"""Seconds before the second attempt to reconnect; doubled on each failure up to the maximum."""


class FeedMetrics:
    """The change feed's counters, on the registry passed in."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            "exwatch_change_feed_notifications",
            "Change notifications received on the LISTEN connection",
            registry=registry,
        )
        self.catch_up_reads = Counter(
            "exwatch_change_feed_catch_up_reads",
            "Periodic reads of the timeline's newest id that succeeded",
            registry=registry,
        )
        self.catch_ups = Counter(
            "exwatch_change_feed_catch_ups",
            "Timeline changes found by the periodic catch-up that no notification announced",
            registry=registry,
        )
        self.reconnects = Counter(
            "exwatch_change_feed_reconnects",
            "Times the LISTEN connection was opened again after it was lost",
            registry=registry,
        )


class ChangeFeed:
    """Calls ``on_change`` when another process committed a change; bursts coalesce."""

    def __init__(
        self,
        database: Database,
        on_change: Callable[[], Awaitable[None]],
        *,
        catch_up_every: float = 5.0,
        connect: Connect = connect_listener,
        registry: CollectorRegistry | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self._database = database
        self._on_change = on_change
        self._catch_up_every = catch_up_every  # also how often the listener connection is checked
        self._connect = connect
        self._max_backoff = max_backoff
        self._metrics = FeedMetrics(registry or CollectorRegistry())
        self._pending = asyncio.Event()  # one flag, however many notifications: bursts coalesce
        self._lost = asyncio.Event()
        self._connection: ListenerConnection | None = None
        self._seen: int | None = None  # the newest timeline id known to be rendered or announced
        self._catch_up_failing = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start listening (PostgreSQL) and catching up (both databases)."""
        if self._tasks:
            return  # already running: a second set of loops would double every call
        self._tasks = [
            asyncio.create_task(self._deliver(), name="change-feed-deliver"),
            asyncio.create_task(self._catch_up(), name="change-feed-catch-up"),
        ]
        if self._database.dialect == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(), name="change-feed-listen"))

    async def stop(self) -> None:
        """Stop every loop and close the listener connection."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._drop_connection()

    # -- delivery ----------------------------------------------------------------------------

    async def _deliver(self) -> None:
        # One task calls on_change, never one per notification: a burst of NOTIFYs while a call
        # is under way sets the flag again and costs exactly one more call.
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                await self._on_change()
            except Exception:  # the feed must outlive one failed re-render
                log.exception("change feed: on_change failed")

    # -- catch-up ----------------------------------------------------------------------------

    async def _catch_up(self) -> None:
        while True:
            await self._check_timeline()
            await asyncio.sleep(self._catch_up_every)

    async def _check_timeline(self) -> None:
        try:
            newest = await self._newest_event_id()
        except (SQLAlchemyError, OSError) as error:
            if not self._catch_up_failing:  # once per outage, not every few seconds
                log.warning("change feed: catch-up cannot read the timeline: %s", error)
            self._catch_up_failing = True
            return
        if self._catch_up_failing:
            log.info("change feed: catch-up reads the timeline again")
            self._catch_up_failing = False
        self._metrics.catch_up_reads.inc()
        previous = self._seen  # read after the query: a notification may have moved it meanwhile
        if previous is None:
            # The feed cannot know what was rendered before it started: its first look counts.
            self._seen = newest
            self._pending.set()
        elif newest > previous:
            self._seen = newest
            self._metrics.catch_ups.inc()
            self._pending.set()
        # Smaller (a database restored from a backup): wait for the ids to pass the old high
        # mark; notifications and the publisher's own periodic refresh cover the meantime.

    async def _newest_event_id(self) -> int:
        async with self._database.transaction() as session:
            newest = await session.scalar(select(func.max(timeline_events.c.id)))
        return 0 if newest is None else int(newest)  # ids start at 1: 0 is "no event yet"

    # -- LISTEN ------------------------------------------------------------------------------

    async def _listen(self) -> None:
        dsn = asyncpg_dsn(self._database.url)
        reconnecting = False
        while True:  # until stop() cancels it; every pass waits on the server or a backoff
            try:
                await self._listen_until_lost(dsn, reconnecting)
            except Exception:  # a driver surprise must not end listening for good
                log.exception("change feed: the listener failed; starting it again")
                await asyncio.sleep(self._max_backoff)
            finally:
                await self._drop_connection()
            reconnecting = True

    async def _listen_until_lost(self, dsn: str, reconnecting: bool) -> None:
        connection = await self._open_with_backoff(dsn, reconnecting)
        if reconnecting:
            self._metrics.reconnects.inc()
        # Something may have been committed while nobody listened (before the first
        # connection too: between the replica's first render and its LISTEN).
        self._pending.set()
        await self._watch(connection)
        log.warning("change feed: LISTEN connection lost; reconnecting")

    async def _open_with_backoff(self, dsn: str, reconnecting: bool) -> ListenerConnection:
        delay = FIRST_BACKOFF
        attempt = 0
        while True:  # until it connects or stop() cancels it; each pass waits at least ``delay``
            attempt += 1
            try:
                connection = await self._open(dsn)
            except CONNECTION_ERRORS as error:
                if attempt == 1 and not reconnecting:
                    log.warning("change feed: cannot LISTEN yet (%s); retrying", error)
                log.debug("change feed: connection attempt %d failed: %s", attempt, error)
            else:
                if reconnecting or attempt > 1:
                    log.info("change feed: listening again (attempt %d)", attempt)
                return connection
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _open(self, dsn: str) -> ListenerConnection:
        self._lost.clear()
        async with asyncio.timeout(CONNECT_TIMEOUT):
            connection = await self._connect(dsn)
        self._connection = connection
        try:
            connection.add_termination_listener(self._on_terminated)
            await connection.add_listener(CHANNEL, self._on_notification)
        except BaseException:
            await self._drop_connection()
            raise
        return connection

    async def _watch(self, connection: ListenerConnection) -> None:
        """Return when the connection is lost: closed under us, or not answering a ping."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._catch_up_every):
                    await self._lost.wait()
                return
            # A cut network closes nothing: only asking shows the connection is dead.
            try:
                async with asyncio.timeout(self._catch_up_every):
                    await connection.execute("SELECT 1")
            except CONNECTION_ERRORS:
                return

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            async with asyncio.timeout(1.0):
                await connection.close()
        except CONNECTION_ERRORS:
            connection.terminate()  # already dead, or not answering: no goodbye needed
        except asyncio.CancelledError:
            connection.terminate()
            raise

    def _on_terminated(self, connection: object) -> None:
        # A connection the feed dropped itself also reports its end: only the current one counts.
        if connection is self._connection:
            self._lost.set()

    def _on_notification(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._metrics.notifications.inc()
        announced = announced_id(payload)
        if announced is not None and self._seen is not None:
            # The catch-up then counts only what no notification announced.
            self._seen = max(self._seen, announced)
        self._pending.set()


def announced_id(payload: str) -> int | None:
    """Return the timeline id a notification's payload names, or None (logged when malformed).

    Any notification on the channel means "something changed": an empty or bad payload (a
    hand-made NOTIFY) still triggers a re-render, it only names no id.
    """
    if not payload:
        return None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        log.debug("change feed: notification payload is not JSON: %.100r", payload)
        return None
    value = data.get("id") if isinstance(data, dict) else "not an object"
    if value is None:
        return None  # announced while the timeline was still empty
    if not isinstance(value, int) or isinstance(value, bool):
        log.debug("change feed: notification payload names no id: %.100r", payload)
        return None
    return value
