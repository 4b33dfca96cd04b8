"""One engine's candidacy for leader, decided by a PostgreSQL advisory lock and a lease.

The leader holds a session advisory lock (``LOCK_KEY``) on a dedicated connection and renews a
lease in the ``engine_leader`` row, always by the database's clock. A standby takes the lock
when the leader's connection closes (the server releases it), or terminates the leader's
backend once the lease has run out by the database's clock (a paused or cut-off leader), so it
takes over within 2 × lease. Each election bumps the row's epoch: the fencing token that
``monitor.cluster.fencing`` checks in every engine write.

A leader steps down (``on_deposed``) as soon as a renewal fails, finds a newer epoch, or has not
succeeded for a whole lease by the local monotonic clock: a process that was paused must assume
another took over. The local deadline counts from when a renewal was *sent*, which is never
later than the database's ``now()`` for it, so a leader that is merely cut off gives up before
any standby may take over.

Ending another engine's backend needs pg_terminate_backend's right to: the engines connect as
the same role (or one granted pg_signal_backend). The lock is per database, and its key is
``leader_sql.LOCK_KEY``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from monitor.cluster import leader_sql as sql
from monitor.cluster.leader_connection import (
    CONNECT_TIMEOUT,
    Connect,
    LeaderConnection,
    connect_leader,
)
from monitor.cluster.leader_metrics import LeaderMetrics
from monitor.cluster.outage import Outage
from monitor.cluster.pg_connection import CONNECTION_ERRORS, asyncpg_dsn

log = logging.getLogger(__name__)

STOPPED = "stopped"
TERMINATE_WAIT_MS = 1000  # how long pg_terminate_backend waits for the backend to exit
CLOSE_TIMEOUT = 2.0  # seconds for a clean close or resignation before giving up on it

Elected = Callable[[int], Awaitable[None]]
Deposed = Callable[[str], Awaitable[None]]


class Leadership:
    """Campaigns for engine leader until stopped; tells ``on_elected`` and ``on_deposed``."""

    def __init__(
        self,
        url: str,
        holder: str,
        *,
        on_elected: Elected,
        on_deposed: Deposed,
        lease: float = 10.0,
        connect: Connect = connect_leader,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._holder = holder
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._lease = float(lease)
        self._connect = connect
        self._metrics = None if registry is None else LeaderMetrics(registry)
        self._outage = Outage(log, f"leader election ({holder})", lease / 4, lease)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._epoch: int | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process is the elected leader now."""
        return self._epoch is not None

    @property
    def epoch(self) -> int | None:
        """The epoch of the current leadership, or None when not leader."""
        return self._epoch

    def start(self) -> None:
        """Start campaigning in the background."""
        if self._task is not None:
            raise RuntimeError("this Leadership is already running")
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"leadership {self._holder}")

    async def stop(self) -> None:
        """Step down cleanly (on_deposed, then release the lock and end the lease) and stop.

        Every step of the candidacy is bounded in time, so this returns within about a lease
        plus however long ``on_deposed`` takes.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._session()
                delay = self._lease / 4  # a lost leader does not bounce straight back
            except Exception as error:  # the candidacy must outlive any failure
                delay = self._outage.failed(error)
            await self._pause(delay)

    async def _session(self) -> None:
        """One connection's life: campaign on it, lead on it if elected, close it."""
        connection = await asyncio.wait_for(self._connect(self._dsn), CONNECT_TIMEOUT)
        try:
            await connection.execute(sql.ENSURE_ROW, timeout=self._lease)
            self._outage.recovered()
            elected = await self._campaign(connection)
            if elected is not None:
                await self._serve(connection, *elected)
        finally:
            await _close(connection)

    async def _campaign(self, connection: LeaderConnection) -> tuple[int, float] | None:
        """Wait for the lock; return (epoch, when the election was sent), None when stopping."""
        while not self._stopping.is_set():
            if await self._acquire(connection):
                sent = time.monotonic()
                return await self._elect(connection), sent
            await self._pause(self._lease / 4)
        return None

    async def _acquire(self, connection: LeaderConnection) -> bool:
        """Take the lock, ending a leader whose lease ran out first if need be."""
        if await connection.fetchval(sql.TRY_LOCK, sql.LOCK_KEY, timeout=self._lease):
            return True
        ended = await connection.fetch(
            sql.TERMINATE_EXPIRED,
            sql.LOCK_CLASSID,
            sql.LOCK_OBJID,
            TERMINATE_WAIT_MS,
            self._lease,
            timeout=self._lease,
        )
        for row in ended:
            log.warning("ended backend %d: it held the leader lock past its lease", row["pid"])
        return bool(ended) and bool(
            await connection.fetchval(sql.TRY_LOCK, sql.LOCK_KEY, timeout=self._lease)
        )

    async def _elect(self, connection: LeaderConnection) -> int:
        """Bump the epoch; a paused old leader's open transaction must not hold it up for ever."""
        bump = asyncio.ensure_future(
            connection.fetchval(sql.ELECT, self._holder, self._lease, timeout=self._lease)
        )
        try:
            done, _ = await asyncio.wait({bump}, timeout=self._lease / 4)
            if not done:
                await self._end_idle_blockers(connection.get_server_pid())
            epoch: int = await bump
        finally:
            bump.cancel()  # a no-op once done; otherwise no query outlives this election
        return epoch

    async def _end_idle_blockers(self, pid: int) -> None:
        """From a second connection, end the idle transactions keeping the epoch bump waiting."""
        try:
            side = await asyncio.wait_for(self._connect(self._dsn), CONNECT_TIMEOUT)
        except CONNECTION_ERRORS as error:
            log.warning("could not look for what blocks the election: %s", error)
            return
        try:
            ended = await side.fetch(
                sql.TERMINATE_IDLE_BLOCKERS, pid, TERMINATE_WAIT_MS, timeout=self._lease
            )
            for row in ended:
                log.warning("ended backend %d: its idle transaction held up the election", row[0])
        except CONNECTION_ERRORS as error:
            log.warning("could not end what blocks the election: %s", error)
        finally:
            await _close(side)

    async def _serve(self, connection: LeaderConnection, epoch: int, since: float) -> None:
        """Lead until deposed or stopped; on_deposed always follows on_elected."""
        self._became(epoch)
        log.info("%s elected engine leader, epoch %d", self._holder, epoch)
        # The lease is renewed while on_elected runs: starting an engine may take a while.
        renewals = asyncio.create_task(self._lead(connection, epoch, since))
        reason = STOPPED  # if cancelled
        try:
            await self._start_leading(epoch, renewals)
            reason = await renewals
        except Exception as error:
            reason = f"on_elected failed: {error!r}"
            raise
        finally:
            renewals.cancel()  # a no-op once done
            self._became(None)
            level = logging.INFO if reason == STOPPED else logging.WARNING
            log.log(level, "%s no longer engine leader (epoch %d): %s", self._holder, epoch, reason)
            await self._tell_deposed(reason)
        if reason == STOPPED:
            await self._resign(connection, epoch)

    async def _start_leading(self, epoch: int, renewals: asyncio.Task[str]) -> None:
        """Run on_elected; if it fails, stop renewing before the error goes on."""
        try:
            await self._on_elected(epoch)
        except BaseException:
            renewals.cancel()
            await asyncio.wait({renewals})
            raise

    async def _lead(self, connection: LeaderConnection, epoch: int, since: float) -> str:
        """Renew the lease until it fails or this process stops; return why leadership ended."""
        renewed = since
        while not await self._pause(self._renewal_delay(renewed)):
            left = renewed + self._lease - time.monotonic()
            if left <= 0:
                return f"lease not renewed for {self._lease:g} s (was this process paused?)"
            sent = time.monotonic()
            try:
                status = await connection.execute(sql.RENEW, epoch, self._lease, timeout=left)
            except TimeoutError:
                return f"lease not renewed for {self._lease:g} s (renewal timed out)"
            except CONNECTION_ERRORS as error:
                return f"lease renewal failed: {error!r}"
            if status != "UPDATE 1":
                return f"epoch {epoch} was superseded"
            renewed = sent
        return STOPPED

    def _renewal_delay(self, renewed: float) -> float:
        """Every lease/3 s, sooner when the lease is short of that (after a slow election)."""
        left = renewed + self._lease - time.monotonic()
        return min(self._lease / 3, max(0.0, left / 2))

    async def _resign(self, connection: LeaderConnection, epoch: int) -> None:
        """End the lease now and release the lock, so a standby need not wait for either."""
        try:
            await connection.execute(sql.RESIGN, epoch, timeout=CLOSE_TIMEOUT)
            await connection.fetchval(sql.UNLOCK, sql.LOCK_KEY, timeout=CLOSE_TIMEOUT)
        except CONNECTION_ERRORS as error:
            # Closing the connection releases the lock all the same.
            log.warning("could not resign cleanly: %s", error)

    async def _tell_deposed(self, reason: str) -> None:
        try:
            await self._on_deposed(reason)
        except Exception:
            log.exception("on_deposed failed")

    def _became(self, epoch: int | None) -> None:
        self._epoch = epoch
        if self._metrics is not None:
            self._metrics.became(epoch)

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if stopped; return whether stopping."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True


async def _close(connection: LeaderConnection) -> None:
    """Close ``connection``; a broken one is dropped without waiting for the server."""
    try:
        await connection.close(timeout=CLOSE_TIMEOUT)
    except Exception:  # whatever went wrong, the socket must go
        connection.terminate()
