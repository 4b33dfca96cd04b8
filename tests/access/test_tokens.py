"""Tokens: shown once, stored as a hash, compared in constant time; failures rate limited."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from monitor.admin.alerts_api import build_alerts_router
from monitor.admin.auth import AccessGuard
from monitor.admin.token_desk import TokenDesk
from monitor.storage.database import Database
from monitor.storage.tables import api_tokens
from tests.access.support import OPERATOR, running
from tests.support import FakeClock


async def stored_rows(database: Database) -> list[dict[str, Any]]:
    async with database.transaction() as session:
        return [dict(r._mapping) for r in await session.execute(select(api_tokens))]


async def test_a_token_is_shown_once_and_only_its_hash_is_stored(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        made = await access.call(
            "POST", "/api/admin/tokens", "admin", json={"name": "ci", "role": "responder"}
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        assert token.startswith("exw_") and len(token) >= 40
        listed = (await access.call("GET", "/api/admin/tokens", "admin")).text
        rows = await stored_rows(database)
    assert token not in listed and "token_hash" not in listed
    [row] = [r for r in rows if r["name"] == "ci"]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for r in rows for value in r.values())


async def test_a_new_token_works_until_revoked_and_its_use_is_recorded(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        made = (await access.call(
            "POST", "/api/admin/tokens", "admin",
            json={"name": "pager", "role": "viewer", "expires": "90d"},
        )).json()  # fmt: skip
        auth = {"authorization": f"Bearer {made['token']}"}
        lasts = datetime.fromisoformat(made["expires_at"]) - datetime.fromisoformat(
            made["created_at"]
        )
        assert lasts == timedelta(days=90)
        assert (await access.client.get("/api/admin/incidents", headers=auth)).status_code == 200
        [used] = [r for r in await stored_rows(database) if r["name"] == "pager"]
        assert used["last_used_at"] == clock.now()
        gone = await access.call("DELETE", f"/api/admin/tokens/{made['id']}", "admin")
        assert gone.status_code == 204
        assert (await access.client.get("/api/admin/incidents", headers=auth)).status_code == 401
        again = await access.call("DELETE", f"/api/admin/tokens/{made['id']}", "admin")
        assert again.status_code == 404


async def test_a_token_expires_at_its_time(database: Database, clock: FakeClock) -> None:
    desk = TokenDesk(database, clock)
    made = await desk.create("short", "viewer", expires_in=3600)
    assert made.expires_at == made.created_at + timedelta(hours=1)
    async with running(database, clock) as access:
        auth = {"authorization": f"Bearer {made.token}"}
        clock.current = made.expires_at - timedelta(seconds=1)
        assert (await access.client.get("/api/admin/alerts", headers=auth)).status_code == 200
        clock.current = made.expires_at
        assert (await access.client.get("/api/admin/alerts", headers=auth)).status_code == 401


async def test_tokens_are_compared_as_hashes_in_constant_time(
    database: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    async with running(database, clock) as access:
        monkeypatch.setattr(hmac, "compare_digest", spy)
        assert (await access.call("GET", "/api/admin/alerts", "responder")).status_code == 200
        assert (await access.call("GET", "/api/admin/alerts", "operator")).status_code == 200
    digest = hashlib.sha256(access.secrets["responder"].encode()).hexdigest()
    operator = hashlib.sha256(OPERATOR.encode()).hexdigest()
    assert (digest, operator) in compared  # first against the operator's token
    assert (digest, digest) in compared  # then the stored hash found by the index
    assert (operator, operator) in compared
    assert all(len(a) == len(b) == 64 for a, b in compared)  # never the raw secrets


async def test_failed_attempts_are_limited_per_client(database: Database, clock: FakeClock) -> None:
    async with running(database, clock, failures=3) as access:
        for _ in range(3):
            assert (await access.call("GET", "/api/admin/alerts", None)).status_code == 401
        blocked = await access.call("GET", "/api/admin/alerts", None)
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
        # Blocked means blocked: even a right token waits, so guessing cannot go on.
        assert (await access.call("GET", "/api/admin/alerts", "admin")).status_code == 429
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=access.app, client=("10.0.0.2", 5000)),
            base_url="http://t",
        )
        async with other:
            fine = await other.get("/api/admin/alerts", headers=access.bearer("viewer"))
        assert fine.status_code == 200  # another client is not affected
        clock.advance(30)
        assert (await access.call("GET", "/api/admin/alerts", None)).headers["retry-after"] == "30"
        clock.advance(30)
        assert (await access.call("GET", "/api/admin/alerts", "viewer")).status_code == 200


async def test_successes_are_not_counted_as_failures(database: Database, clock: FakeClock) -> None:
    async with running(database, clock, failures=2) as access:
        for _ in range(5):
            assert (await access.call("GET", "/api/admin/alerts", "viewer")).status_code == 200


async def test_without_any_token_the_admin_api_is_off(database: Database, clock: FakeClock) -> None:
    guard = AccessGuard(database, clock, admin_token=None)
    app = FastAPI()
    app.include_router(build_alerts_router(database, guard))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        off = await client.get("/api/admin/alerts")
        assert off.status_code == 503 and "exwatch tokens create" in off.text
        made = await TokenDesk(database, clock).create("only", "viewer", expires_in=None)
        assert (await client.get("/api/admin/alerts")).status_code == 401
        auth = {"authorization": f"Bearer {made.token}"}
        assert (await client.get("/api/admin/alerts", headers=auth)).status_code == 200
