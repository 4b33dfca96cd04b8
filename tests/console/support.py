"""Driving the console as a browser would: sign in through the form, post forms with the CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from monitor.config import Config
from monitor.domain import ComponentStatus
from monitor.responder import ManualIncident
from monitor.storage.database import Database
from tests.access.support import OPERATOR, Access, running
from tests.support import FakeClock

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a console page's forms carry."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, token: str, *, next_path: str = "/console"
) -> httpx.Response:
    """Sign in through the form; returns the answer to the post (303 on success)."""
    page = await client.get("/console/sign-in", params={"next": next_path})
    form = {"csrf_token": csrf_of(page.text), "token": token, "next": next_path}
    return await client.post("/console/sign-in", data=form)


async def signed_in(access: Access, label: str = "operator") -> httpx.AsyncClient:
    """A new client of the same app, signed in as ``label``."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=access.app), base_url="http://t")
    secret = OPERATOR if label == "operator" else access.secrets[label]
    answer = await sign_in(client, secret)
    assert answer.status_code == 303, answer.text
    return client


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, Any] | None = None
) -> httpx.Response:
    """Load ``page``, then post ``fields`` to ``action`` with that page's CSRF token."""
    html = (await client.get(page)).text
    return await client.post(action, data={"csrf_token": csrf_of(html), **(fields or {})})


async def open_incident(access: Access, *, name: str = "Withdrawals delayed", **fields: Any) -> int:
    """Open a moderate incident by hand on eth-withdrawals; return its number."""
    clock = access.clock
    report = ManualIncident(
        name_ja=fields.pop("name_ja", "出金遅延"), name_en=name,
        description=fields.pop("description", "ETH withdrawals are queued"),
        started_at=clock.now() - timedelta(minutes=3),
        components={"eth-withdrawals": ComponentStatus.PARTIAL_OUTAGE}, impact_scope=None,
        reproduction=None, reporter=None, contact=None, cause="system", severity=None,
        body=fields.pop("body", {"ja": "調査中です", "en": "We are investigating"}),
    )  # fmt: skip
    return await access.services.responder.open(report, clock.now(), actor="test")


@dataclass
class Scene:
    """A running console with one open incident and a client signed in to act on it."""

    access: Access
    client: httpx.AsyncClient
    number: int

    @property
    def page(self) -> str:
        """The incident's console page."""
        return f"/console/incidents/{self.number}"


@asynccontextmanager
async def on_an_incident(
    database: Database, clock: FakeClock, *, label: str = "responder", config: Config | None = None
) -> AsyncIterator[Scene]:
    """The app with an open incident and a client signed in as ``label``."""
    async with running(database, clock, config=config) as access:
        number = await open_incident(access)
        yield Scene(access, await signed_in(access, label), number)
