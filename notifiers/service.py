"""Notifications as a running part of exwatch: the dispatcher's task and the channels it owns."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping

from prometheus_client import CollectorRegistry

from monitor.ack_links import AckLinks
from monitor.clock import Clock
from monitor.config import Config
from monitor.outbox.addressing import Addressing
from monitor.outbox.notice_reader import NoticeReader
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.database import Database
from monitor.subscriptions.service import SubscriptionService
from notifiers.channel import Channel, Closable
from notifiers.dispatcher import Dispatcher
from notifiers.metrics import DeliveryMetrics
from notifiers.pacing import Pace

log = logging.getLogger(__name__)


def channel_paces(config: Config) -> dict[str, Pace]:
    """The pace of each configured channel, from its ``limits``."""
    settings = config.notifications
    limits = {
        "email": settings.email.limits if settings.email else None,
        "x": settings.x.limits if settings.x else None,
        # Webhooks share one pace: the tightest of their limits.
        "webhook": min(
            (w.limits for w in settings.webhooks), key=lambda lim: lim.rate_per_second, default=None
        ),
    }
    return {
        name: Pace(limit.rate_per_second, limit.concurrency)
        for name, limit in limits.items()
        if limit is not None
    }


class NotificationService:
    """Starts the dispatcher in the background; stopping it closes the channels.

    Notices follow a reload (site and component names); the channels, their paces and the
    retry policy are built once and keep their start values until a restart.
    """

    def __init__(
        self,
        *,
        database: Database,
        config: ConfigSource,
        clock: Clock,
        channels: Mapping[str, Channel],
        subscriptions: SubscriptionService,
        acks: AckLinks,
        registry: CollectorRegistry,
        poll: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        self.channels = dict(channels)
        live = live_config(config)
        start = live.current
        self.dispatcher = Dispatcher(
            database, clock, self.channels, channel_paces(start),
            notices=NoticeReader(live), addressing=Addressing(start, subscriptions, acks),
            policy=start.notifications.delivery, metrics=DeliveryMetrics(registry), rng=rng,
        )  # fmt: skip
        self._poll = poll
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin dispatching (nothing runs when no channel is configured)."""
        if self.channels and self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.dispatcher.run(self._stop, poll=self._poll))

    def wake(self) -> None:
        """A change was committed: look at the outbox now instead of at the next poll."""
        self.dispatcher.wake()

    async def stop(self) -> None:
        """Finish the batch in hand, then close every channel's connections."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for name, channel in self.channels.items():
            if isinstance(channel, Closable):
                try:
                    await channel.aclose()
                except Exception:
                    log.exception("channel %s did not close cleanly", name)
