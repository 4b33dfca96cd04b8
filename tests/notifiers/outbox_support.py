"""An outbox harness: the engine with a responder, the planner wired in, and recording channels."""

from __future__ import annotations

import random
import secrets
from collections import deque
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select, update

from monitor.ack_links import AckLinks
from monitor.config import Config
from monitor.domain import ComponentStatus
from monitor.outbox.planner import OutboxPlanner
from monitor.responder import ManualIncident
from monitor.storage.database import Database
from monitor.storage.deliveries import DeliveryRow, list_deliveries
from monitor.storage.subscribers import PendingChoice, claim_subscriber, set_choice
from monitor.storage.tables import deliveries, subscribers
from monitor.subscriptions.service import SubscriptionService
from notifiers.channel import Delivery, SendOutcome
from notifiers.service import NotificationService
from tests.lifecycle_support import Lifecycle, lifecycle_config
from tests.support import FakeClock

SITE_URL = "https://status.example.com"
KEY = b"k" * 48
NOTIFICATIONS: dict[str, Any] = {
    "email": {"sender": "Status <status@example.com>"},
    "x": {
        "accounts": [{"name": "ja", "language": "ja", "credentials_env_prefix": "X_JA"}],
    },
    "webhooks": [
        {"name": "ops", "url": "https://hooks.example.com/ops",
         "filter": {"events": ["incident_opened", "update_posted", "incident_resolved",
                               "severity_changed", "acknowledged"]}},
    ],
    "responders": {
        "sre-primary": {"email": "primary@example.com", "webhook": "ops"},
        "sre-secondary": {"email": "secondary@example.com"},
        "sre-lead": {"email": "lead@example.com"},
    },
    "delivery": {"max_attempts": 3, "backoff_base": "10s", "backoff_cap": "1m", "lease": "30s"},
}  # fmt: skip


def outbox_config(**notifications: Any) -> Config:
    """The lifecycle config with every channel set up (``notifications`` overrides parts)."""
    section = {**NOTIFICATIONS, **notifications}
    return lifecycle_config(site={"name": "Test", "url": SITE_URL}, notifications=section)


class RecordingChannel:
    """Records what it is asked to send and answers with scripted outcomes (ok by default)."""

    def __init__(self) -> None:
        self.sent: list[Delivery] = []
        self.script: deque[SendOutcome] = deque()

    async def send(self, delivery: Delivery) -> SendOutcome:
        """Record ``delivery``; answer the next scripted outcome or ok with a new id."""
        self.sent.append(delivery)
        if self.script:
            return self.script.popleft()
        return SendOutcome.ok(external_id=f"ext-{secrets.token_hex(4)}")


class Outbox(Lifecycle):
    """The lifecycle harness plus the outbox: planner, dispatcher and recording channels."""

    def __init__(self, database: Database, config: Config, clock: FakeClock) -> None:
        super().__init__(database, config, clock)
        database.plan_events_with(OutboxPlanner(config).plan)
        self.channels = {name: RecordingChannel() for name in ("email", "x", "webhook")}
        self.subscriptions = SubscriptionService(database, config, clock, key=KEY)
        self.acks = AckLinks(KEY, SITE_URL)
        self.service = NotificationService(
            database=database, config=config, clock=clock, channels=self.channels,
            subscriptions=self.subscriptions, acks=self.acks, registry=CollectorRegistry(),
            rng=random.Random(7),
        )  # fmt: skip
        self.dispatcher = self.service.dispatcher

    async def subscribe(
        self, address: str, language: str = "en", components: tuple[str, ...] | None = None
    ) -> int:
        """Add an active subscriber directly (the double opt-in is #5's and tested there)."""
        async with self.database.transaction() as session:
            row = await claim_subscriber(
                session=session, address=address, nonce=secrets.token_hex(16), at=self.clock.now()
            )
            choice = PendingChoice(language, components)
            await set_choice(
                session=session, subscriber_id=row.id, choice=choice, at=self.clock.now()
            )
            confirmed = {"confirmed_generation": 0, "confirmed_at": self.clock.now()}
            await session.execute(
                update(subscribers).where(subscribers.c.id == row.id).values(**confirmed)
            )
        return row.id

    async def open_manual(self, components: dict[str, ComponentStatus], **fields: Any) -> int:
        """Open an incident by hand, as a responder would."""
        report = ManualIncident(
            name_ja=fields.pop("name_ja", "障害"), name_en=fields.pop("name_en", "Outage"),
            description="something is wrong", started_at=self.clock.now(),
            components=components, **fields,
        )  # fmt: skip
        return await self.responder.open(report, self.clock.now(), actor="alice")

    async def rows(self, **filters: Any) -> list[DeliveryRow]:
        """Every delivery, optionally of one status / channel."""
        async with self.database.transaction() as session:
            return await list_deliveries(
                session=session, status=filters.get("status"), channel=filters.get("channel"),
                limit=100_000,
            )  # fmt: skip

    async def drain(self, *, rounds: int = 20) -> int:
        """Run the dispatcher until nothing is due now; return how many it claimed."""
        total = 0
        for _ in range(rounds):
            claimed = await self.dispatcher.run_once()
            if claimed == 0:
                return total
            total += claimed
        return total

    async def recipients(self) -> list[str]:
        """Recipient keys of every delivery, sorted."""
        async with self.database.transaction() as session:
            values = await session.scalars(select(deliveries.c.recipient))
        return sorted(values)


def crash_config(smtp_port: int) -> Config:
    """Email only, to a local SMTP server; short leases so a killed sender's claims expire soon."""
    return outbox_config(
        email={"sender": "Status <status@example.com>",
               "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
               "limits": {"rate_per_second": 100000, "concurrency": 8}},
        x=None, webhooks=[],
        responders={name: {"email": f"{name}@example.com"}
                    for name in ("sre-primary", "sre-secondary", "sre-lead")},
        delivery={"lease": "5s", "batch": 200, "max_attempts": 20, "backoff_base": "1s",
                  "backoff_cap": "2s"},
    )  # fmt: skip
