"""The engine inbox: an api replica stores agent results; the engine leader applies them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from monitor.app import Role, build_services, create_app
from monitor.cluster.inbox import InboxDrain
from monitor.storage.database import Database
from monitor.storage.tables import check_regions, engine_inbox
from monitor.wiring.services import Services
from monitor.write_refused import WriteRefusedError
from tests.support import FakeClock
from tests.test_engine import regional_config

TOKEN = "agent-secret-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def services(database: Database, clock: FakeClock, role: Role) -> Services:
    return build_services(
        regional_config(), database, clock, metrics_registry=CollectorRegistry(),
        agent_token=TOKEN, role=role,
    )  # fmt: skip


def batch(clock: FakeClock, *oks: bool) -> dict[str, Any]:
    """Results of the tokyo agent, one second apart, ending now."""
    start = clock.now() - timedelta(seconds=len(oks))
    results = [
        {"check_id": "login-check", "observed_at": (start + timedelta(seconds=i)).isoformat(),
         "ok": ok, "duration_s": 0.01, "error": None if ok else "status 503"}
        for i, ok in enumerate(oks)
    ]  # fmt: skip
    return {"region": "tokyo", "results": results}


async def post_batch(api: Services, body: dict[str, Any]) -> httpx.Response:
    app = create_app(api, run_checks=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        return await client.post("/api/agent/results", json=body, headers=AUTH)


async def waiting(database: Database) -> int:
    async with database.transaction() as session:
        return int(
            (await session.execute(select(func.count()).select_from(engine_inbox))).scalar_one()
        )


async def tokyo_state(database: Database) -> str:
    """The tokyo region's state of the login check as the database has it."""
    query = select(check_regions.c.state).where(
        check_regions.c.check_id == "login-check", check_regions.c.region == "tokyo"
    )
    async with database.transaction() as session:
        state = (await session.execute(query)).scalar_one_or_none()
    return "ok" if state is None else str(state)  # no row yet: never judged, so ok


async def test_an_api_replica_stores_agent_results_for_the_leader_once(
    database: Database, clock: FakeClock
) -> None:
    api = services(database, clock, Role.API)
    body = batch(clock, False, False, False)
    assert (await post_batch(api, body)).status_code == 200
    assert (await post_batch(api, body)).status_code == 200  # the agent's retry of the same batch
    assert await waiting(database) == 3
    leader = services(database, clock, Role.ALL)
    await leader.engine.start()
    assert await tokyo_state(database) == "ok"  # nothing applied until the leader drains
    drain = InboxDrain(database, leader.engine, lambda: {c.id: c for c in leader.config.checks},
                       leader.metrics.observe)  # fmt: skip
    assert await drain.drain_once() == 3
    assert await waiting(database) == 0
    assert await tokyo_state(database) == "firing"
    assert await drain.drain_once() == 0


async def test_a_deposed_leader_neither_applies_nor_deletes(
    database: Database, clock: FakeClock
) -> None:
    api = services(database, clock, Role.API)
    assert (await post_batch(api, batch(clock, False, False, False))).status_code == 200
    deposed = services(database, clock, Role.ENGINE)
    assert deposed.fence is not None and deposed.fence.epoch is None  # never elected
    drain = InboxDrain(database, deposed.engine, lambda: {c.id: c for c in deposed.config.checks},
                       deposed.metrics.observe)  # fmt: skip
    with pytest.raises(WriteRefusedError):
        await drain.drain_once()
    assert await waiting(database) == 3  # left for the real leader
    assert await tokyo_state(database) == "ok"
