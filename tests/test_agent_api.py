"""The server side of regional agents: checks handed out per region, result batches in, quorum applied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter
from sqlalchemy import func, select

from monitor.admin.validation import install_validation_handler
from monitor.agent.rendezvous import owned
from monitor.agent_api import build_agent_router, database_roster
from monitor.app import build_services, create_app
from monitor.config import CheckConfig, Config
from monitor.config.schema import check_union
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.tables import agents, probe_results
from probes import ProbeResult
from tests.support import FakeClock
from tests.test_engine import Harness, regional_config

TOKEN = "agent-secret-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


async def serve(
    tmp_path: Path, token: str | None
) -> AsyncIterator[tuple[FastAPI, Config, Database]]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'agents.db'}")
    await upgrade(database)
    config = regional_config()
    services = build_services(
        config, database, FakeClock(), metrics_registry=CollectorRegistry(), agent_token=token
    )
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        yield app, config, database
    await database.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, Config, Database]]:
    async for value in serve(tmp_path, TOKEN):
        yield value


async def call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        return await client.request(method, path, **kwargs)


def failure(check_id: str = "login-check") -> dict[str, Any]:
    return {"check_id": check_id, "observed_at": datetime.now(UTC).isoformat(), "ok": False,
            "duration_s": 0.01, "error": "status 503", "phases": {"total": 0.01}}  # fmt: skip


async def test_each_region_gets_its_checks(served: tuple[FastAPI, Config, Database]) -> None:
    app, _, _ = served
    assert (
        await call(app, "GET", "/api/agent/checks", params={"region": "tokyo"})
    ).status_code == 401
    tokyo = (
        await call(app, "GET", "/api/agent/checks", params={"region": "tokyo"}, headers=AUTH)
    ).json()
    again = (
        await call(app, "GET", "/api/agent/checks", params={"region": "tokyo"}, headers=AUTH)
    ).json()
    [check] = [TypeAdapter(check_union()).validate_python(c) for c in tokyo["checks"]]
    assert check.id == "login-check" and tokyo["version"] == again["version"]
    nowhere = (
        await call(app, "GET", "/api/agent/checks", params={"region": "paris"}, headers=AUTH)
    ).json()
    assert nowhere["checks"] == [] and nowhere["version"] != tokyo["version"]


async def test_batches_apply_the_quorum(served: tuple[FastAPI, Config, Database]) -> None:
    app, config, database = served
    batch = {"region": "tokyo", "results": [failure(), failure()]}
    answer = (await call(app, "POST", "/api/agent/results", json=batch, headers=AUTH)).json()
    assert answer == {"accepted": 2, "duplicates": 0}
    resent = (await call(app, "POST", "/api/agent/results", json=batch, headers=AUTH)).json()
    assert resent == {"accepted": 2, "duplicates": 2}  # a resent batch counts once
    probe = Harness(database, config, FakeClock())
    assert await probe.status("login") == "operational"  # one region of three is not a quorum
    batch["region"] = "osaka"
    await call(app, "POST", "/api/agent/results", json=batch, headers=AUTH)
    assert await probe.status("login") == "major_outage"


@pytest.mark.parametrize(
    ("batch", "status", "error"),
    [
        (
            {"region": "tokyo", "results": [failure("nope")]},
            422,
            "results[0].check_id: 'nope': unknown check",
        ),
        ({"region": "paris", "results": [failure()]}, 422, "not assigned to region 'paris'"),
        ({"region": "local", "results": [failure()]}, 422, "not assigned to region 'local'"),
    ],
)
async def test_batches_that_can_never_be_accepted_are_4xx(
    served: tuple[FastAPI, Config, Database], batch: dict[str, Any], status: int, error: str
) -> None:
    app, _, _ = served
    response = await call(app, "POST", "/api/agent/results", json=batch, headers=AUTH)
    assert response.status_code == status and error in response.json()["error"]


@pytest.mark.parametrize(
    ("result", "loc"),
    [
        ({"ok": 1}, ["results", 0, "check_id"]),
        (
            {**failure(), "observed_at": "2026-01-01T00:00:00"},
            ["results", 0, "observed_at"],
        ),  # no zone
        ({**failure(), "phases": {"total": 0.1, "made_up": 1.0}}, ["results", 0, "phases"]),
        ({**failure(), "error": "x" * 5000}, ["results", 0, "error"]),
    ],
)
async def test_a_malformed_batch_is_422_naming_the_field(
    served: tuple[FastAPI, Config, Database], result: dict[str, Any], loc: list[Any]
) -> None:
    app, _, _ = served
    response = await call(
        app,
        "POST",
        "/api/agent/results",
        json={"region": "tokyo", "results": [result]},
        headers=AUTH,
    )
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]


async def test_nan_and_infinity_are_refused(served: tuple[FastAPI, Config, Database]) -> None:
    app, _, _ = served
    body = '{"region": "tokyo", "results": [{"check_id": "login-check", "observed_at": "2026-01-01T00:00:00Z", "ok": false, "duration_s": Infinity}]}'
    response = await call(
        app,
        "POST",
        "/api/agent/results",
        content=body,
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.status_code == 422


async def test_the_token_is_checked_before_the_body_is_read(
    served: tuple[FastAPI, Config, Database],
) -> None:
    app, _, _ = served
    response = await call(app, "POST", "/api/agent/results", content=b"not json at all")
    assert response.status_code == 401
    assert "not json" not in response.text


async def test_without_a_token_configured_agents_are_refused(tmp_path: Path) -> None:
    async for app, _, _ in serve(tmp_path, None):
        response = await call(
            app, "GET", "/api/agent/checks", params={"region": "tokyo"}, headers=AUTH
        )
        assert response.status_code == 503 and "EXWATCH_AGENT_TOKEN" in response.json()["error"]


async def test_a_batch_resent_after_a_server_restart_counts_once(tmp_path: Path) -> None:
    batch = {"region": "tokyo", "results": [failure(), failure()]}
    async for app, _, _ in serve(tmp_path, TOKEN):
        assert (await call(app, "POST", "/api/agent/results", json=batch, headers=AUTH)).json()[
            "duplicates"
        ] == 0
    async for app, _, database in serve(tmp_path, TOKEN):  # a new process: nothing in memory
        answer = (await call(app, "POST", "/api/agent/results", json=batch, headers=AUTH)).json()
        assert answer == {"accepted": 2, "duplicates": 2}
        await app.state.services.writer.flush(everything=True)
        rows = await Harness(database, regional_config(), FakeClock()).count(probe_results)
        assert rows == 2  # stored once, by the first process


# --- several agents per region (#9) ---------------------------------------------------------

WINDOW = 90.0


def everywhere_in_tokyo() -> Config:
    """Every check of the engine tests' config, run in tokyo too: enough to share out."""
    config = regional_config()
    checks = tuple(c.model_copy(update={"regions": ("local", "tokyo")}) for c in config.checks)
    return config.model_copy(update={"checks": checks})


async def _no_ingest(check: CheckConfig, result: ProbeResult, region: str, at: datetime) -> None:
    raise AssertionError("no result is pushed here")


async def _nothing_stored(
    region: str, keys: list[tuple[str, datetime]]
) -> set[tuple[str, datetime]]:
    return set()


def roster_app(database: Database, clock: FakeClock) -> FastAPI:
    """The agent routes alone, keeping live agents in ``database`` by ``clock``."""
    app = FastAPI()
    install_validation_handler(app)
    roster = database_roster(database, clock, WINDOW)
    app.include_router(
        build_agent_router(everywhere_in_tokyo(), TOKEN, _no_ingest, _nothing_stored, roster=roster)
    )
    return app


async def fetch(app: FastAPI, agent: str | None = None) -> dict[str, Any]:
    params = {"region": "tokyo"} | ({"agent": agent} if agent else {})
    response = await call(app, "GET", "/api/agent/checks", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def share(document: dict[str, Any], agent: str) -> frozenset[str]:
    return owned([c["id"] for c in document["checks"]], document["agents"], agent)


async def test_agents_of_a_region_see_each_other_and_split_its_checks(
    database: Database, clock: FakeClock
) -> None:
    app = roster_app(database, clock)
    assert (await fetch(app, "tokyo-a"))["agents"] == ["tokyo-a"]  # the caller is included
    clock.advance(5)
    b = await fetch(app, "tokyo-b")
    a = await fetch(app, "tokyo-a")
    assert a["agents"] == b["agents"] == ["tokyo-a", "tokyo-b"] and a["version"] == b["version"]
    everything = {c["id"] for c in a["checks"]}
    assert len(everything) == len(everywhere_in_tokyo().checks)
    assert share(a, "tokyo-a") | share(b, "tokyo-b") == everything
    assert not share(a, "tokyo-a") & share(b, "tokyo-b")
    assert share(a, "tokyo-a") and share(b, "tokyo-b")


async def test_an_agent_that_stops_fetching_drops_out_after_the_window(
    database: Database, clock: FakeClock
) -> None:
    app = roster_app(database, clock)
    await fetch(app, "tokyo-a")
    await fetch(app, "tokyo-b")
    for _ in range(3):  # tokyo-b went quiet; tokyo-a keeps fetching
        clock.advance(WINDOW / 3)
        assert (await fetch(app, "tokyo-a"))["agents"] == ["tokyo-a", "tokyo-b"]
    clock.advance(1)
    alone = await fetch(app, "tokyo-a")
    assert alone["agents"] == ["tokyo-a"]
    assert share(alone, "tokyo-a") == {c["id"] for c in alone["checks"]}
    assert (await fetch(app, "tokyo-b"))["agents"] == ["tokyo-a", "tokyo-b"]  # back: rebalanced


async def test_agents_are_kept_per_region_and_across_replicas(
    database: Database, clock: FakeClock
) -> None:
    replica_1, replica_2 = roster_app(database, clock), roster_app(database, clock)
    await fetch(replica_1, "tokyo-a")
    assert (await fetch(replica_2, "tokyo-b"))["agents"] == ["tokyo-a", "tokyo-b"]
    osaka = await call(
        replica_1, "GET", "/api/agent/checks", params={"region": "osaka", "agent": "osaka-a"},
        headers=AUTH,
    )  # fmt: skip
    assert osaka.json()["agents"] == ["osaka-a"]


async def test_an_old_agent_without_an_id_gets_every_check_and_is_not_listed(
    database: Database, clock: FakeClock
) -> None:
    app = roster_app(database, clock)
    await fetch(app, "tokyo-a")
    old = await fetch(app)
    assert old["agents"] == ["tokyo-a"]
    assert len(old["checks"]) == len(everywhere_in_tokyo().checks)  # it runs them all, as before


async def test_a_region_without_checks_is_not_recorded(
    database: Database, clock: FakeClock
) -> None:
    app = roster_app(database, clock)
    for region in ("paris", "local", "nul\x00region"):
        response = await call(
            app, "GET", "/api/agent/checks", params={"region": region, "agent": "a"}, headers=AUTH
        )
        assert response.status_code == 200 and response.json()["agents"] == ["a"], region
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(agents)) == 0


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "tab\tin"])
async def test_a_bad_agent_id_is_422(database: Database, clock: FakeClock, bad: str) -> None:
    app = roster_app(database, clock)
    response = await call(
        app, "GET", "/api/agent/checks", params={"region": "tokyo", "agent": bad}, headers=AUTH
    )
    assert response.status_code == 422
    assert (await fetch(app, "tokyo-a"))["agents"] == ["tokyo-a"]  # nothing was recorded


async def test_the_openapi_document_describes_the_agents(
    served: tuple[FastAPI, Config, Database],
) -> None:
    app, _, _ = served
    document = (await call(app, "GET", "/openapi.json")).json()
    parameters = document["paths"]["/api/agent/checks"]["get"]["parameters"]
    assert "heartbeat" in next(p for p in parameters if p["name"] == "agent")["description"]
    assert "liveness window" in str(document["components"]["schemas"]["AssignedChecks"])
