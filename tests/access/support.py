"""An app with the operator's token and one stored token per role, revoked and expired ones."""

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
from monitor.admin.token_desk import TokenDesk
from monitor.app import Services, build_services, create_app
from monitor.config import Config
from monitor.storage.database import Database
from tests.lifecycle_support import lifecycle_config
from tests.support import FakeClock

OPERATOR = "operator-env-token-0123456789"
"""EXWATCH_ADMIN_TOKEN in these tests."""


@dataclass
class Access:
    """The running app, its guard, and the secret of each test token by label."""

    app: FastAPI
    services: Services
    guard: AccessGuard
    clock: FakeClock
    secrets: dict[str, str]
    client: httpx.AsyncClient

    def bearer(self, label: str | None) -> dict[str, str]:
        """The Authorization header of token ``label`` (none for None)."""
        if label is None:
            return {}
        secret = OPERATOR if label == "operator" else self.secrets[label]
        return {"authorization": f"Bearer {secret}"}

    async def call(
        self, method: str, path: str, label: str | None, **kwargs: Any
    ) -> httpx.Response:
        """Send a request as ``label``."""
        return await self.client.request(method, path, headers=self.bearer(label), **kwargs)


async def make_tokens(desk: TokenDesk, clock: FakeClock) -> dict[str, str]:
    """One token per role, an admin token revoked, and one that has expired."""
    secrets = {}
    for role in ("viewer", "responder", "admin"):
        secrets[role] = (await desk.create(f"{role}-1", role, expires_in=None)).token
    revoked = await desk.create("gone", "admin", expires_in=None)
    await desk.revoke(revoked.id)
    secrets["revoked"] = revoked.token
    secrets["expired"] = (await desk.create("old", "admin", expires_in=60)).token
    clock.advance(61)
    return secrets


@asynccontextmanager
async def running(
    database: Database,
    clock: FakeClock,
    *,
    failures: int = 1_000_000,
    config: Config | None = None,
) -> AsyncIterator[Access]:
    """The app (lifespan started) with the test tokens; ``failures`` per minute per client.

    With ``config``, no notification channel is built (their secrets are not in the tests).
    """
    services = build_services(
        config or lifecycle_config(), database, clock, metrics_registry=CollectorRegistry(),
        admin_token=OPERATOR, channels=None if config is None else {},
    )  # fmt: skip
    guard = AccessGuard(
        database, clock, admin_token=OPERATOR, failures=FailureWindow(clock, limit=failures)
    )
    app = create_app(services, run_checks=False, access=guard)
    secrets = await make_tokens(TokenDesk(database, clock), clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield Access(app, services, guard, clock, secrets, client)
