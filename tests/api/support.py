"""The whole app over one database: recording channels, an operator token, and seeded state.

``seed`` fills the database through the API itself (two incidents, one acknowledged and one
resolved; maintenance windows in each state; a subscriber; a dead delivery; a user report; a
token), so the ids that generated requests guess mostly exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from monitor.admin.auth import AccessGuard
from monitor.admin.failures import FailureWindow
from monitor.app import Services, build_services, create_app
from monitor.storage.database import Database
from notifiers.channel import SendOutcome
from tests.notifiers.outbox_support import RecordingChannel, outbox_config
from tests.support import FakeClock

ADMIN_TOKEN = "api-robustness-operator-token"
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
AGENT_TOKEN = "api-robustness-agent-token"
AGENT_AUTH = {"authorization": f"Bearer {AGENT_TOKEN}"}
INCIDENT: dict[str, Any] = {
    "name_ja": "取引停止", "name_en": "Trading halted", "description": "orders fail",
    "started_at": "2026-11-21T08:50:00+00:00", "components": {"btc-trading": "major_outage"},
    "severity": "critical",
}  # fmt: skip
WINDOW: dict[str, Any] = {
    "name_ja": "定期メンテナンス", "name_en": "Scheduled maintenance", "components": ["website"],
    "scheduled_start": "2026-11-22T01:00:00+00:00", "scheduled_end": "2026-11-22T02:00:00+00:00",
}  # fmt: skip
SERIES: dict[str, Any] = {
    "name_ja": "定期メンテナンス", "name_en": "Weekly maintenance", "components": ["website"],
    "cron": "0 3 * * 0", "duration": "2h",
}  # fmt: skip
WINDOW_STEPS: dict[str, tuple[str, ...]] = {
    "scheduled": (), "in_progress": ("start",), "completed": ("start", "complete"),
    "cancelled": ("cancel",),
}  # fmt: skip


@dataclass
class Api:
    """The app, its services, and a client that calls it as the operator."""

    app: FastAPI
    services: Services
    client: httpx.AsyncClient

    async def json(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """Call the API; the answer must have ``status``; return its JSON body."""
        response = await self.client.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()


def build_app(database: Database, clock: FakeClock) -> tuple[FastAPI, Services]:
    """The app with its channels recording instead of sending (no SMTP server or webhook host).

    No X account: its pacing would hold the outbox for seconds per post.
    """
    channels = {name: RecordingChannel() for name in ("email", "webhook")}
    # The webhook refuses for good: each delivery to it becomes a dead letter to retry.
    channels["webhook"].script.extend(SendOutcome.permanent("410 gone") for _ in range(100))
    services = build_services(
        outbox_config(x=None), database, clock, metrics_registry=CollectorRegistry(),
        admin_token=ADMIN_TOKEN, agent_token=AGENT_TOKEN, channels=channels,
    )  # fmt: skip
    # Generated requests without a token must not lock the test client out (429) for the rest.
    failures = FailureWindow(clock, limit=1_000_000)
    guard = AccessGuard(database, clock, admin_token=ADMIN_TOKEN, failures=failures)
    return create_app(services, run_checks=False, access=guard), services


@asynccontextmanager
async def running(database: Database, clock: FakeClock) -> AsyncIterator[Api]:
    """The app with its lifespan started, and an operator's client."""
    app, services = build_app(database, clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t", headers=AUTH) as client,
    ):
        yield Api(app, services, client)


@dataclass(frozen=True)
class Seeded:
    """The ids ``seed`` made: incidents, windows by state, a sent and a dead delivery, a token."""

    acked_incident: int
    resolved_incident: int
    windows: dict[str, int]
    sent_delivery: int
    dead_delivery: int
    token: int


async def seed(api: Api) -> Seeded:
    """Fill the database through the API: every kind of id the routes take exists."""
    first = await api.json("POST", "/api/admin/incidents", 201, json=INCIDENT)
    await api.json("POST", f"/api/admin/incidents/{first['id']}/ack")
    second = await api.json(
        "POST", "/api/admin/incidents", 201, json={**INCIDENT, "severity": None}
    )
    await api.json("POST", f"/api/admin/incidents/{second['id']}/resolve")
    windows = {state: await _window(api, steps) for state, steps in WINDOW_STEPS.items()}
    await api.json("POST", "/api/admin/maintenance/series", 201, json=SERIES)
    subscriber = {"email": "someone@example.com", "language": "en", "components": "all"}
    await api.json("POST", "/subscribe", 202, json=subscriber)
    await api.json("POST", "/api/reports", 201, json={"component": "website", "body": "slow"})
    token = await api.json("POST", "/api/admin/tokens", 201, json={"name": "ci", "role": "viewer"})
    sent, dead = await _sent_and_dead(api)
    return Seeded(first["id"], second["id"], windows, sent, dead, token["id"])


async def _sent_and_dead(api: Api) -> tuple[int, int]:
    """Send deliveries until one went out and one died (the webhook refuses); their ids."""
    for _ in range(20):  # not until the outbox is empty: that may take a while
        await api.services.notifications.dispatcher.run_once()
        sent, dead = [
            await api.json("GET", "/api/admin/deliveries", params={"status": status})
            for status in ("sent", "dead")
        ]
        if sent["deliveries"] and dead["deliveries"]:
            return int(sent["deliveries"][0]["id"]), int(dead["deliveries"][0]["id"])
    raise AssertionError("no delivery went out and died")


async def _window(api: Api, steps: tuple[str, ...]) -> int:
    """Schedule a window and take it through ``steps``; return its id."""
    window = await api.json("POST", "/api/admin/maintenance", 201, json=WINDOW)
    for step in steps:
        await api.json("POST", f"/api/admin/maintenance/{window['id']}/{step}")
    return int(window["id"])
