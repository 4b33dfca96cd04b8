"""The fault drill: cut an agent off from its server, then restore the link.

A real agent probes a real target and pushes through a loopback proxy to a real exwatch server
(SQLite and PostgreSQL). While the link is down, or answers are lost on the way back, results
wait in the agent's buffer; after it is restored each arrives, and is stored, exactly once. All
along the region's quorum state stays right: silence is not failure, so tokyo going quiet never
makes the check's alert fire with osaka failing alone (the quorum is both), and once tokyo is
back its own failures complete the quorum at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from pydantic import TypeAdapter
from sqlalchemy import func, select

from monitor.agent import Agent, AgentApi, AgentSettings, DiskBuffer
from monitor.app import Services, build_services
from monitor.config import Config
from monitor.config.schema import check_union
from monitor.domain import ComponentStatus
from monitor.storage.database import Database
from monitor.storage.tables import alerts, check_regions, components, probe_results
from tests.agent.proxy import CuttableProxy
from tests.serving import serving
from tests.support import FAIL, OK, FakeClock
from tests.test_engine import make_config, started, three_regions

TOKEN = "drill-agent-token"
CHECK = "login-check"


class Target:
    """What the check probes: 200 while ``healthy``, else 503."""

    def __init__(self) -> None:
        self.healthy = True
        self.server = TestServer(web.Application(), host="127.0.0.1")
        self.server.app.router.add_get("/login", self._login)

    async def _login(self, _: web.Request) -> web.Response:
        return web.Response(status=200 if self.healthy else 503)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/login"))


def drill_config(url: str) -> Config:
    """The engine tests' config, its login check probing ``url`` from tokyo and osaka, quorum 2."""
    config = make_config()
    check = TypeAdapter(check_union()).validate_python(
        {"id": CHECK, "component": "login", "kind": "http", "url": url, "interval": "1s",
         "timeout": "1s", "failures_to_alert": 2, "successes_to_recover": 1,
         "regions": ["tokyo", "osaka"], "quorum": 2, "conditions": ["[STATUS] == 200"]}
    )  # fmt: skip
    checks = tuple(check if c.id == CHECK else c for c in config.checks)
    return config.model_copy(update={"checks": checks})


@dataclass
class Sample:
    phase: str
    status: str
    tokyo: str
    osaka: str
    open_alerts: int


@dataclass
class Watch:
    """Samples the check's quorum state from the database, labelled with the drill's phase."""

    database: Database
    phase: str = "connected"
    samples: list[Sample] = field(default_factory=list)

    async def sample(self) -> Sample:
        async with self.database.transaction() as session:
            status = await session.scalar(
                select(components.c.status).where(components.c.id == "login")
            )
            rows = await session.execute(
                select(check_regions.c.region, check_regions.c.state).where(
                    check_regions.c.check_id == CHECK
                )
            )
            states = {row.region: row.state for row in rows}
            open_alerts = await session.scalar(
                select(func.count())
                .select_from(alerts)
                .where(alerts.c.check_id == CHECK, alerts.c.resolved_at.is_(None))
            )
        sample = Sample(
            self.phase,
            str(status),
            states.get("tokyo", "?"),
            states.get("osaka", "?"),
            int(open_alerts or 0),
        )
        self.samples.append(sample)
        return sample

    async def run(self, stop: asyncio.Event) -> None:
        for _ in range(1200):  # 0.05 s apart: two minutes at most
            await self.sample()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):
                    await stop.wait()
                    return

    def of(self, *phases: str) -> list[Sample]:
        return [s for s in self.samples if s.phase in phases]


async def until(condition: Callable[[], Any], within: float, what: str) -> None:
    """Wait until ``await condition()`` (or its plain value) is true, failing after ``within`` s."""
    try:
        async with asyncio.timeout(within):
            while True:
                value = condition()
                if asyncio.iscoroutine(value):
                    value = await value
                if value:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {within}s: {what}") from None


async def stored(database: Database, region: str) -> int:
    async with database.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(probe_results).where(probe_results.c.region == region)
        )
    return int(count or 0)


async def report_from_osaka(server_url: str, ok: bool, times: int) -> None:
    """Results of another region's agent, straight to the server (its link is fine)."""
    results = [
        {"check_id": CHECK, "observed_at": datetime.now(UTC).isoformat(), "ok": ok,
         "duration_s": 0.01, "error": None if ok else "status 503"}
        for _ in range(times)
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=server_url, timeout=5) as client:
        for result in results:  # one a request, in order: each moves osaka's state
            response = await client.post(
                "/api/agent/results",
                json={"region": "osaka", "results": [result]},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.01)  # distinct observed_at, whatever the clock's resolution


@contextlib.asynccontextmanager
async def tokyo_agent(proxy_url: str, buffer_dir: Path) -> AsyncIterator[Agent]:
    """A running tokyo agent whose server is behind the proxy; stopped (and drained) after."""
    settings = AgentSettings(
        proxy_url, "tokyo", TOKEN, buffer_dir, push_interval=0.2, refetch_interval=1.0,
        request_timeout=1.0, agent_id="tokyo-drill",
    )  # fmt: skip
    buffer = DiskBuffer(settings.buffer_path, settings.max_buffered)
    stop = asyncio.Event()
    async with AgentApi(settings) as api:
        agent = Agent(settings, api, buffer)
        task = asyncio.create_task(agent.run(stop))
        try:
            yield agent
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            buffer.close()


async def test_cut_off_and_restored_the_backlog_arrives_once_and_the_quorum_stays_right(
    database: Database, tmp_path: Path
) -> None:
    target = Target()
    await target.server.start_server()
    services = build_services(
        drill_config(target.url), database, metrics_registry=CollectorRegistry(), agent_token=TOKEN
    )
    watch, watching = Watch(database), asyncio.Event()
    try:
        async with serving(services) as server_url:
            proxy = CuttableProxy(httpx.URL(server_url).port or 0)
            await proxy.start()
            sampler = asyncio.create_task(watch.run(watching))
            try:
                rig = Rig(services, server_url, proxy, target, watch)
                buffered = await drill(rig, tmp_path)
            finally:
                watching.set()
                await asyncio.wait_for(sampler, 5)
                await proxy.close()
            await services.writer.flush(everything=True)
            assert await stored(database, "tokyo") == buffered  # every result, exactly once
    finally:
        await target.server.close()
    assert_right_throughout(watch)


@dataclass
class Rig:
    """The drill's parts: the server, the proxy in front of it, the target, the watch."""

    services: Services
    server_url: str
    proxy: CuttableProxy
    target: Target
    watch: Watch


async def drill(rig: Rig, tmp_path: Path) -> int:
    """Run the phases; return how many results the agent produced in all."""
    watch, proxy = rig.watch, rig.proxy
    async with tokyo_agent(proxy.url, tmp_path / "tokyo") as agent:
        await until(lambda: agent.stats.pushed >= 2, 10, "tokyo's first results arrive")
        watch.phase = "answers lost"  # the server takes pushes; the agent never hears so
        proxy.lose_answers()
        await until(lambda: proxy.lost_answers >= 2, 10, "some answers are lost")
        watch.phase = "cut"
        proxy.cut()
        before = agent.stats.buffered
        await report_from_osaka(rig.server_url, ok=False, times=3)  # osaka fails: half the quorum
        await until(lambda: agent.stats.buffered >= before + 3, 10, "results pile up meanwhile")
        assert await agent._buffer.count() >= 3
        assert (await watch.sample()).osaka != "ok"  # osaka is failing, tokyo silent: no alert
        watch.phase = "restored"
        proxy.restore()
        await until(lambda: _drained(agent), 15, "the backlog arrives")
        await rig.services.writer.flush(everything=True)
        watch.phase = "tokyo fails too"
        rig.target.healthy = False
        await until(lambda: _alerting(watch), 15, "tokyo's own failures complete the quorum")
        await agent._stop_scheduler()  # no new results: what was produced must all arrive
        await until(lambda: _drained(agent), 15, "the last results arrive")
    return agent.stats.buffered


async def _drained(agent: Agent) -> bool:
    return await agent._buffer.count() == 0


async def _alerting(watch: Watch) -> bool:
    # The whole end state: on a busy machine the alert may open a moment before tokyo's own
    # state reaches firing (its failures count up one run at a time).
    sample = await watch.sample()
    return (sample.status, sample.tokyo, sample.open_alerts) == ("major_outage", "firing", 1)


def assert_right_throughout(watch: Watch) -> None:
    calm = watch.of("connected", "answers lost", "cut", "restored")
    assert len(calm) > 20 and {s.phase for s in calm} == {
        "connected",
        "answers lost",
        "cut",
        "restored",
    }
    for sample in calm:  # silence is not failure: tokyo stays ok, the quorum unmet
        assert (sample.status, sample.tokyo, sample.open_alerts) == ("operational", "ok", 0), sample
    assert any(s.osaka != "ok" for s in watch.of("cut", "restored"))
    last = watch.samples[-1]
    assert (last.status, last.tokyo, last.open_alerts) == ("major_outage", "firing", 1), last


async def test_a_backlog_older_than_what_another_agent_reported_does_not_page(
    database: Database, clock: FakeClock
) -> None:
    # Two agents share tokyo. One is cut off; after the liveness window the other takes its
    # checks and reports them fine. Then the link is back and the first one's backlog arrives:
    # failures it saw before, older than the result already applied. They are history.
    config = three_regions(make_config(), ("tokyo", "osaka"), quorum=1)
    harness = await started(database, config, clock)
    check = next(c for c in config.checks if c.id == CHECK)
    now = clock.advance(100)
    await harness.engine.ingest(check, OK, region="tokyo", observed_at=now)  # the taker-over
    for seconds_ago in (50, 40):  # the backlog: within the stale period, but older than that
        at = now - timedelta(seconds=seconds_ago)
        await harness.engine.ingest(check, FAIL, region="tokyo", observed_at=at)
    assert await harness.status("login") == ComponentStatus.OPERATIONAL
