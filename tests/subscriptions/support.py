"""Shared pieces of the subscription tests: a small exchange, a served app, HTTP shortcuts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import yaml
from fastapi import FastAPI
from jinja2 import PackageLoader
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.app import Services, build_services, create_app
from monitor.config import Config, parse_config
from monitor.storage.database import Database
from monitor.storage.subscribers import SubscriberRow, get_subscriber_by_address
from monitor.storage.tables import timeline_events
from monitor.subscriptions import (
    REQUESTED_EVENT,
    SubscribePages,
    SubscriptionLimits,
    SubscriptionService,
)
from statuspage.i18n import choose_language
from statuspage.messages_subscribe import MESSAGES
from tests.support import FakeClock

KEY = b"subscriptions-test-key-0123456789abcdef"
ADMIN = "admin-token"
AUTH = {"authorization": f"Bearer {ADMIN}"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
SITE_URL = "https://status.example.com"


def subscriptions_config() -> Config:
    """Two groups of components and one loose component, no checks."""
    document: dict[str, Any] = {
        "site": {"name": "Test Exchange", "url": SITE_URL},
        "groups": [
            {"id": "trading", "names": {"ja": "取引", "en": "Trading"}},
            {"id": "wallets", "names": {"ja": "入出金", "en": "Wallets"}},
        ],
        "components": [
            {"id": "spot", "names": {"ja": "現物取引", "en": "Spot trading"},
             "group": "trading", "impact_class": "trading"},
            {"id": "btc-withdrawals", "names": {"ja": "BTC出金", "en": "BTC withdrawals"},
             "group": "wallets", "impact_class": "assets"},
            {"id": "website", "names": {"ja": "ウェブサイト", "en": "Website"},
             "impact_class": "access"},
        ],
    }  # fmt: skip
    return parse_config(yaml.safe_dump(document))


def new_service(
    database: Database, clock: FakeClock, limits: SubscriptionLimits | None = None
) -> SubscriptionService:
    """Return a subscription service on ``database`` (a new one is a restart)."""
    return SubscriptionService(database, subscriptions_config(), clock, key=KEY, limits=limits)


def new_pages() -> SubscribePages:
    """Return the pages as the wiring builds them."""
    return SubscribePages(PackageLoader("statuspage", "templates"), MESSAGES, choose_language)


@dataclass
class Served:
    """A running app with the subscription routes, and the parts tests reach into."""

    app: FastAPI
    services: Services
    subscriptions: SubscriptionService
    clock: FakeClock

    async def call(
        self, method: str, path: str, *, address: str = "192.0.2.10", **kwargs: Any
    ) -> httpx.Response:
        """Send one request from the client ``address``."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, path, **kwargs)

    async def subscribe_form(self, fields: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """Post the subscribe form (a list value becomes repeated fields)."""
        body = urlencode(fields, doseq=True)
        return await self.call("POST", "/subscribe", content=body, headers=FORM, **kwargs)

    async def subscriber(self, address: str) -> SubscriberRow | None:
        """Return the stored row of a normalised address."""
        async with self.services.database.transaction() as session:
            return await get_subscriber_by_address(session=session, address=address)

    async def confirm_link(self, address: str) -> str:
        """Return the path and query of the confirmation link the mail channel would send."""
        row = await self.subscriber(address)
        assert row is not None
        mail = await self.subscriptions.confirmation_mail(row.id)
        assert mail is not None
        assert mail.confirm_url.startswith(SITE_URL)
        return mail.confirm_url.removeprefix(SITE_URL)

    async def events(self, kind: str = REQUESTED_EVENT) -> list[Any]:
        """Return the timeline events of ``kind``, oldest first."""
        query = select(timeline_events).where(timeline_events.c.kind == kind)
        async with self.services.database.transaction() as session:
            return list((await session.execute(query.order_by(timeline_events.c.id))).all())


def token_of(url: str) -> str:
    """Return the ``token`` query parameter of a link."""
    return parse_qs(urlsplit(url).query)["token"][0]


@asynccontextmanager
async def serve(
    database: Database, clock: FakeClock, limits: SubscriptionLimits | None = None
) -> AsyncIterator[Served]:
    """Run the whole app (lifespan and all) with the subscription routes included."""
    config = subscriptions_config()
    services = build_services(
        config, database, clock, metrics_registry=CollectorRegistry(), admin_token=ADMIN
    )
    subscriptions = SubscriptionService(database, config, clock, key=KEY, limits=limits)
    # The app mounts the services' subscriptions: this test's key and limits take their place.
    services = replace(services, subscriptions=subscriptions)
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        yield Served(app, services, subscriptions, clock)
