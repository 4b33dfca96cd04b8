"""The outbox dispatcher: claim due deliveries with a lease, send them, record each outcome.

A claim is a lease, not a removal: if the process dies after claiming, the lease runs out and
the delivery is claimed again. Outcomes are written in small groups as sends finish, so a
crash re-sends at most the few whose outcome was not yet written — with the same Message-ID
(it is derived from the delivery), which receivers use to drop the copy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta

from opentelemetry import trace
from opentelemetry.trace import Span
from sqlalchemy.exc import SQLAlchemyError

from monitor.clock import Clock
from monitor.config.notifications import DeliveryPolicy
from monitor.outbox.addressing import Addressing, Dropped
from monitor.outbox.notice_reader import NoticeReader
from monitor.storage.database import Database
from monitor.storage.deliveries import (
    DEAD,
    DROPPED,
    PENDING,
    SENT,
    Claimed,
    claim_deliveries,
    delivery_counts,
    oldest_pending,
    thread_external_ids,
)
from monitor.storage.delivery_outcomes import Finished, finish_deliveries
from monitor.tracing import provider_installed
from notifiers.backoff import retry_delay
from notifiers.channel import Channel, Delivery, Outcome, SendOutcome
from notifiers.lanes import Lanes
from notifiers.metrics import DeliveryMetrics
from notifiers.pacing import Pace

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)
_NO_SPAN: AbstractContextManager[None] = nullcontext()
FLUSH_EVERY = 50  # outcomes written per statement while a batch is being sent
START_EVERY = 10  # prepared deliveries start sending while the rest of the batch is prepared
MAX_BATCHES_AT_ONCE = 10  # batches claimed back to back before the run loop looks around
OBSERVE_EVERY = 5.0  # seconds between readings of the outbox's size and age for metrics
# How old a notice a batch may send: a fan-out reads its incident again at most this often, not
# for every batch (a read was ~3 ms, 6 µs a delivery), so a mail is at most a second behind it.
NOTICE_MAX_AGE = timedelta(seconds=1)


class Dispatcher:
    """Sends the outbox through the channels, paced per channel."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        channels: Mapping[str, Channel],
        paces: Mapping[str, Pace],
        *,
        notices: NoticeReader,
        addressing: Addressing,
        policy: DeliveryPolicy,
        metrics: DeliveryMetrics,
        rng: random.Random | None = None,
        owner: str | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self._channels = dict(channels)
        self._paces = dict(paces)
        self._widths = {name: pace.concurrency for name, pace in paces.items()}
        self._notices = notices
        self._addressing = addressing
        self._policy = policy
        self._metrics = metrics
        self._rng = rng or random.Random()
        self.owner = owner or f"dispatcher-{secrets.token_hex(6)}"
        self._paused_until: dict[str, datetime] = {}
        self._wake = asyncio.Event()
        self._traced = False  # whether sends make spans: looked up once a run, not per send
        self._done: list[Finished] = []
        # One write of ours at a time: on SQLite a claim racing an outcome write would wait in
        # SQLite's busy handler (sleeps of up to 100 ms), not here.
        self._writing = asyncio.Lock()
        self._flusher: asyncio.Future[None] | None = None
        self._notices_read_since: datetime | None = None

    def wake(self) -> None:
        """Look at the outbox now (new deliveries were committed)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, poll: float = 1.0) -> None:
        """Dispatch until ``stop`` is set; idle, look again every ``poll`` seconds or on wake."""
        observed = 0.0
        while not stop.is_set():
            if time.monotonic() - observed >= OBSERVE_EVERY:
                observed = time.monotonic()
                await self._observe_outbox()
            try:
                sent = await self.run_once()
            except (SQLAlchemyError, OSError) as error:  # an outage: one line each try, no trace
                log.error("dispatching paused, the database is unreachable: %s", _reason(error))
                sent = 0
            except Exception:  # a bug must not end dispatching for good either
                log.exception("dispatching failed; trying again")
                sent = 0
            if sent == 0:
                self._wake.clear()
                waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._wake)]
                await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def _observe_outbox(self) -> None:
        """Set the pending-deliveries and oldest-pending-age gauges."""
        try:
            async with self._database.transaction() as session:
                counts = await delivery_counts(session=session)
                oldest = await oldest_pending(session=session)
        except (SQLAlchemyError, OSError) as error:
            log.warning("could not read the outbox's size for metrics: %s", _reason(error))
            return
        except Exception:
            log.warning("could not read the outbox's size for metrics", exc_info=True)
            return
        for channel in set(self._channels) | {channel for channel, _ in counts}:
            self._metrics.outbox_pending.labels(channel).set(counts.get((channel, PENDING), 0))
        age = 0.0 if oldest is None else (self._clock.now() - oldest).total_seconds()
        self._metrics.outbox_age.set(max(0.0, age))

    async def run_once(self) -> int:
        """Claim and send due deliveries; return how many were claimed.

        While batches come back full, the next is claimed as soon as at most half a batch waits
        unsent, so the channels never stand idle while the database is asked for more. After
        MAX_BATCHES_AT_ONCE the run returns (the run loop reads the outbox's size meanwhile).
        """
        rows = await self._claim()
        if not rows:
            return 0
        self._traced = provider_installed()
        lanes = Lanes(self._deliver, self._widths)
        try:
            claimed = await self._feed(lanes, rows)
        finally:
            await lanes.drain()
            if self._flusher is not None:
                await self._flusher
        await self._flush(force=True)
        return claimed

    async def _feed(self, lanes: Lanes, rows: list[Claimed]) -> int:
        """Prepare ``rows`` into ``lanes``, and the next batches while they come back full."""
        claimed = 0
        for turn in range(MAX_BATCHES_AT_ONCE):
            if turn:
                await lanes.wait_until_waiting(self._policy.batch // 2)
                rows = await self._claim()
                if not rows:
                    break
            self._refresh_notices(first=turn == 0)
            await self._prepare(rows, lanes.add)
            claimed += len(rows)
            if len(rows) < self._policy.batch:
                break
        return claimed

    def _refresh_notices(self, *, first: bool) -> None:
        """Forget the notices read when a run starts or when they are NOTICE_MAX_AGE old."""
        now = self._clock.now()
        since = self._notices_read_since
        if first or since is None or now - since >= NOTICE_MAX_AGE:
            self._notices.forget()
            self._notices_read_since = now

    async def _claim(self) -> list[Claimed]:
        lease = timedelta(seconds=float(self._policy.lease))
        async with self._writing, self._database.transaction() as session:
            return await claim_deliveries(
                session=session, owner=self.owner, now=self._clock.now(), lease=lease,
                limit=self._policy.batch,
            )  # fmt: skip

    async def _prepare(self, rows: Sequence[Claimed], start: Callable[[Delivery], None]) -> None:
        """Prepare each row and hand it to ``start``, letting the first ones send meanwhile.

        A row with nothing to send (the event no longer notifies, the subscriber left) is
        recorded at once with its final status.

        Sends start every START_EVERY rows rather than after the whole batch: the SMTP
        connections stay busy while the rest of the batch is prepared.
        """
        async with self._database.transaction() as session:
            subscribers = await self._addressing.subscribers(session, rows)
            for index, row in enumerate(rows):
                if index and index % START_EVERY == 0:
                    await asyncio.sleep(0)  # let the deliveries started so far begin sending
                notice = await self._notices.notice(session, row.event_id)
                if notice is None:
                    await self._skip(row, DROPPED, "the event no longer notifies")
                    continue
                if row.channel not in self._channels:
                    await self._skip(row, DEAD, f"channel {row.channel!r} is not configured")
                    continue
                addressed = await self._addressing.resolve(row, notice, subscribers)
                if isinstance(addressed, Dropped):
                    await self._skip(row, DROPPED, addressed.reason)
                    continue
                thread: tuple[str, ...] = ()
                if row.thread_key is not None:
                    ids = await thread_external_ids(
                        session=session, channel=row.channel,
                        recipient=row.recipient, thread_key=row.thread_key,
                    )  # fmt: skip
                    thread = tuple(ids)
                if addressed.facts:
                    notice = replace(notice, data={**notice.data, **dict(addressed.facts)})
                start(Delivery(
                    row.id, row.channel, addressed.recipient, notice, row.attempts,
                    addressed.links, thread,
                ))  # fmt: skip

    async def _skip(self, row: Claimed, status: str, reason: str) -> None:
        """Record ``row`` as finished without sending it."""
        self._metrics.sends.labels(
            row.channel, "dropped" if status == DROPPED else "permanent"
        ).inc()
        if status == DEAD:
            self._metrics.dead_letters.labels(row.channel).inc()
        await self._record(Finished(row.id, status, self._clock.now(), error=reason))

    async def _deliver(self, delivery: Delivery) -> None:
        paused = self._paused_until.get(delivery.channel)
        if paused is not None and paused > self._clock.now():
            await self._record(self._postponed(delivery, paused))
            return
        outcome = await self._send(delivery)
        await self._record(self._finish(delivery, outcome))

    def _postponed(self, delivery: Delivery, until: datetime) -> Finished:
        """Not tried: the channel asked us to wait (HTTP 429), so this attempt is not counted."""
        return Finished(
            delivery.id, PENDING, self._clock.now(), error="channel paused (rate limited)",
            next_attempt_at=until, refund_attempt=True,
        )  # fmt: skip

    async def _send(self, delivery: Delivery) -> SendOutcome:
        channel = self._channels[delivery.channel]
        pace = self._paces.get(delivery.channel)
        started = time.perf_counter()
        # Without tracing, no span at all: even the API's no-op one costs ~10 µs a delivery.
        with _span(delivery) if self._traced else _NO_SPAN as span:
            try:
                if pace is None:
                    outcome = await channel.send(delivery)
                else:
                    async with pace.slot():
                        outcome = await channel.send(delivery)
            except Exception as error:  # a channel must not raise; if one does, try again later
                log.exception("channel %s raised on delivery %s", delivery.channel, delivery.id)
                outcome = SendOutcome.retryable(f"the channel raised {type(error).__name__}")
            if span is not None:
                span.set_attribute("exwatch.outcome", outcome.outcome.value)
        seconds = time.perf_counter() - started
        self._metrics.count_send(delivery.channel, outcome.outcome.value, seconds)
        return outcome

    def _finish(self, delivery: Delivery, outcome: SendOutcome) -> Finished:
        now = self._clock.now()
        if outcome.outcome is Outcome.OK:
            return Finished(delivery.id, SENT, now, external_id=outcome.external_id)
        if outcome.outcome is Outcome.RETRYABLE and delivery.attempt < self._policy.max_attempts:
            delay = retry_delay(
                delivery.attempt, self._policy, self._rng, asked=outcome.retry_after
            )
            if outcome.retry_after is not None:
                self._paused_until[delivery.channel] = now + timedelta(seconds=outcome.retry_after)
            self._metrics.retries.labels(delivery.channel).inc()
            retry_at = now + timedelta(seconds=delay)
            return Finished(
                delivery.id, PENDING, now, error=outcome.reason, next_attempt_at=retry_at
            )
        reason = outcome.reason
        if outcome.outcome is Outcome.RETRYABLE:
            reason = f"gave up after {delivery.attempt} attempts: {reason}"
        self._metrics.dead_letters.labels(delivery.channel).inc()
        log.warning("delivery %s on %s dead: %s", delivery.id, delivery.channel, reason)
        return Finished(delivery.id, DEAD, now, error=reason)

    async def _record(self, finished: Finished) -> None:
        self._done.append(finished)
        # Written in the background: a send never waits for the database to record another.
        if len(self._done) >= FLUSH_EVERY and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.ensure_future(self._background_flush())

    async def _background_flush(self) -> None:
        try:
            await self._flush(force=False)
        except (SQLAlchemyError, OSError) as error:  # kept in ``_done``: the final flush retries
            log.warning("could not record delivery outcomes yet: %s", _reason(error))
        except Exception:
            log.warning("could not record delivery outcomes yet", exc_info=True)

    async def _flush(self, *, force: bool) -> None:
        async with self._writing:
            if not self._done or (not force and len(self._done) < FLUSH_EVERY):
                return
            batch, self._done = self._done, []
            try:
                async with self._database.connection() as connection:
                    await finish_deliveries(connection=connection, owner=self.owner, finished=batch)
            except Exception:
                # Kept for the next flush; if the process dies first, the leases run out and
                # these are sent again (same Message-ID), never lost.
                self._done = batch + self._done
                raise


def _span(delivery: Delivery) -> AbstractContextManager[Span]:
    """The send's span."""
    attributes: dict[str, str | int] = {
        "exwatch.channel": delivery.channel,
        "exwatch.delivery": delivery.id,
    }
    return _tracer.start_as_current_span("exwatch.notify", attributes=attributes)


def _reason(error: Exception) -> object:
    """The driver's own message: SQLAlchemy's repeats the whole statement and its parameters."""
    return getattr(error, "orig", None) or error
