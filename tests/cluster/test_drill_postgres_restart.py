"""Fault drill (#9): restart PostgreSQL under a running exwatch, then keep it down for seconds.

Every part reconnects (the page re-renders, a new state change reaches the page, the database
and a webhook), probe results produced meanwhile are stored or counted as dropped, and the
process neither exits nor logs a traceback. Runs on a private cluster: the shared one stays up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import yaml

from monitor.alerting import CheckState
from monitor.result_writer import ResultWriter
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from probes import ProbeResult
from tests.cluster.drill_support import (
    Hook,
    LoopbackSite,
    drill_document,
    eventually,
    loopback_site,
    metric_total,
    start_exwatch,
)
from tests.cluster.private_postgres import (
    PrivatePostgres,
    free_port,
    private_postgres,  # noqa: F401 - the fixture
)
from tests.support import FakeClock
from tests.test_engine import make_config

# Real processes start slowly on a busy machine: more than the suite's 120 s per test.
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

OUTAGE_S = 3.0
START_S = 60.0  # importing and migrating can take long on a busy machine
WAIT_S = 20.0
RUNS = "exwatch_probe_runs_total"
DROPPED = "exwatch_results_dropped_total"
COMPONENTS = {"api": "access", "web": "access", "wallet": "assets"}


def drill_config(site: LoopbackSite) -> str:
    """Three components in their own groups, a 1 s http check on each, a webhook to the site."""
    document = drill_document(site, COMPONENTS)
    document["notifications"] = {
        "webhooks": [{"name": "drill", "url": f"{site.base_url}/hook", "secret_env": None}]
    }
    return yaml.safe_dump(document, allow_unicode=True)


@dataclass(frozen=True)
class Window:
    """A stretch of wall time and how many probe runs exwatch counted in it."""

    start: datetime
    end: datetime
    runs: float


async def test_exwatch_rides_out_a_postgres_restart_and_outage(
    private_postgres: PrivatePostgres,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    postgres = private_postgres
    async with loopback_site() as site:
        site.answer("wallet", 503)  # failing from the start: an incident is open before the drill
        config = tmp_path / "exwatch.yaml"
        config.write_text(drill_config(site), encoding="utf-8")
        args = ["run", "--config", str(config), "--port", str(free_port())]
        env = {"EXWATCH_DATABASE_URL": postgres.url, "EXWATCH_ADMIN_TOKEN": "drill-" + "x" * 32}
        exwatch = await start_exwatch(args, env, log_path=tmp_path / "exwatch.log")
        try:
            async with httpx.AsyncClient(base_url=exwatch.base_url, timeout=5) as client:
                await before_the_outage(client, site)
                restarted_at = time.time()
                whole, down = await outage(postgres, client)
                await after_the_outage(postgres, client, site, restarted_at)
                for window in (whole, down):
                    await results_accounted_for(postgres, client, window)
            assert exwatch.alive, exwatch.log_text()
            assert_no_traceback(exwatch.log_text())
        finally:
            status = await exwatch.stop()
            print(exwatch.log_text())  # shown by pytest when the drill fails
    assert status == 0, exwatch.log_text()


async def test_a_writer_keeps_or_counts_every_result_through_an_outage(
    private_postgres: PrivatePostgres,  # noqa: F811 - the fixture imported above
    clock: FakeClock,
) -> None:
    database = Database(private_postgres.url)
    await upgrade(database)
    drops: list[int] = []
    writer = ResultWriter(database, clock, max_buffer=3, on_dropped=drops.append)
    check = make_config().checks[0]  # a check id the drill's exwatch never writes
    await asyncio.to_thread(private_postgres.stop)
    try:
        for latency in (1.0, 2.0, 3.0, 4.0, 5.0):
            ok = ProbeResult(ok=True, duration_s=latency / 1000)
            writer.add(check, ok, clock.now(), CheckState())
        assert not await writer.flush()  # kept for the next attempt
    finally:
        await asyncio.to_thread(private_postgres.start)
    try:
        assert await writer.flush()  # the pool reconnects to the restarted server
        stored = await results_between(private_postgres.dsn, clock.now(), clock.now())
    finally:
        await database.close()
    assert (stored, writer.dropped, sum(drops)) == (3, 2, 2)


async def before_the_outage(client: httpx.AsyncClient, site: LoopbackSite) -> None:
    """exwatch is up, the wallet's incident is on the page and its webhook was delivered."""
    await eventually(lambda: client.get("/healthz"), _ok, "/healthz ok", within=START_S)
    await eventually(
        lambda: summary(client), lambda s: status_of(s, "wallet") == "major_outage",
        "the wallet in major_outage", within=WAIT_S,
    )  # fmt: skip
    await eventually(
        received(site), lambda h: opened_for(h, "wallet", 0.0), "a webhook", within=WAIT_S
    )


async def outage(postgres: PrivatePostgres, client: httpx.AsyncClient) -> tuple[Window, Window]:
    """Restart PostgreSQL, then stop it for OUTAGE_S; the runs counted across both, and while down."""
    start, runs_before = _utcnow(), await probe_runs(client)
    await asyncio.to_thread(postgres.restart)
    restarted = _utcnow()
    await eventually(
        lambda: results_between(postgres.dsn, restarted, _utcnow()), lambda stored: stored > 0,
        "results written after the fast restart (the pool reconnected)", within=WAIT_S,
    )  # fmt: skip
    down = await stopped_for(postgres, client, OUTAGE_S)
    runs_after = await probe_runs(client)
    whole = Window(start, _utcnow(), runs_after - runs_before)
    assert down.runs >= len(COMPONENTS), f"the checks did not run while PostgreSQL was down: {down}"
    return whole, down


async def stopped_for(
    postgres: PrivatePostgres, client: httpx.AsyncClient, seconds: float
) -> Window:
    """Stop PostgreSQL for ``seconds`` (always started again); the runs counted meanwhile."""
    await asyncio.to_thread(postgres.stop)
    try:
        start, runs_before = _utcnow(), await probe_runs(client)
        await asyncio.sleep(seconds)  # the checks keep running: their results wait in the writer
        runs = await probe_runs(client) - runs_before
        return Window(start, _utcnow(), runs)
    finally:
        await asyncio.to_thread(postgres.start)


async def after_the_outage(
    postgres: PrivatePostgres, client: httpx.AsyncClient, site: LoopbackSite, restarted_at: float
) -> None:
    """A new failure reaches the page (re-rendered), the database and the webhook."""
    site.answer("api", 500)
    changed_at = time.time()
    page = await eventually(
        lambda: summary(client),
        lambda s: status_of(s, "api") == "major_outage" and updated_at(s) > restarted_at,
        "the api's outage on a page rendered after the restart", within=WAIT_S,
    )  # fmt: skip
    assert status_of(page, "wallet") == "major_outage"
    stored = await eventually(
        lambda: open_incident_components(postgres.dsn), lambda found: "api" in found,
        "an open incident for the api in the database", within=WAIT_S,
    )  # fmt: skip
    assert "wallet" in stored
    await eventually(
        received(site), lambda h: opened_for(h, "api", changed_at),
        "the api's incident_opened webhook, delivered after the restart", within=WAIT_S,
    )  # fmt: skip
    assert (await client.get("/healthz")).json() == {"ok": True}


async def results_accounted_for(
    postgres: PrivatePostgres, client: httpx.AsyncClient, window: Window
) -> None:
    """Results stored in ``window`` plus those counted as dropped cover every run in it."""

    async def stored_and_dropped() -> tuple[int, float]:
        stored = await results_between(postgres.dsn, window.start, window.end)
        return stored, metric_total((await client.get("/metrics")).text, DROPPED)

    found = await eventually(
        stored_and_dropped, lambda pair: pair[0] + pair[1] >= window.runs,
        f"{window.runs:g} results stored or counted as dropped in {window}", within=WAIT_S,
    )  # fmt: skip
    assert found[0] > 0, "nothing produced in the window was stored"


def assert_no_traceback(log: str) -> None:
    """Connection errors are single log lines; a traceback means an outage path is unhandled."""
    assert "Traceback" not in log, log


async def summary(client: httpx.AsyncClient) -> dict[str, Any]:
    """The public page's summary.json."""
    response = await client.get("/api/v2/summary.json?lang=en")
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


async def probe_runs(client: httpx.AsyncClient) -> float:
    """How many check runs exwatch has counted, every check and outcome together."""
    return metric_total((await client.get("/metrics")).text, RUNS)


async def results_between(dsn: str, start: datetime, end: datetime) -> int:
    """Rows in probe_results observed in [start, end]."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM probe_results WHERE observed_at BETWEEN $1 AND $2", start, end
        )
    finally:
        await connection.close()
    return int(count)


async def open_incident_components(dsn: str) -> set[str]:
    """Components of the incidents not resolved, as the database has them."""
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT ic.component_id FROM incident_components ic"
            " JOIN incidents i ON i.id = ic.incident_id WHERE i.status <> 'resolved'"
        )
    finally:
        await connection.close()
    return {str(row["component_id"]) for row in rows}


def status_of(page: dict[str, Any], component: str) -> str:
    """A component's public status on the page."""
    return str(next(c["status"] for c in page["components"] if c["id"] == component))


def updated_at(page: dict[str, Any]) -> float:
    """The page's ``updated_at`` as a Unix time."""
    return datetime.fromisoformat(page["page"]["updated_at"]).timestamp()


def opened_for(hooks: list[Hook], component: str, since: float) -> bool:
    """Whether an incident_opened webhook naming ``component`` arrived after ``since``."""
    return any(
        hook.at > since
        and hook.body["kind"] == "incident_opened"
        and component in {c["id"] for c in hook.body["incident"]["components"]}
        for hook in hooks
    )


def received(site: LoopbackSite) -> Callable[[], Awaitable[list[Hook]]]:
    """A probe for ``eventually``: the webhooks the site has received so far."""

    async def read() -> list[Hook]:
        return site.hooks

    return read


def _ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json() == {"ok": True}


def _utcnow() -> datetime:
    return datetime.now(UTC)
