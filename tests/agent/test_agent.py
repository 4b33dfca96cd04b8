"""The agent against a fake exwatch server and a local target, both real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.agent import Agent, AgentApi, AgentSettings, DiskBuffer, run_agent
from monitor.agent.runner import result_payload
from probes import ProbeResult

TOKEN = "s3cret-agent-token"
REGION = "tokyo"


class Target:
    """The thing the checks probe: answers 200 on any path and counts hits per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.server: TestServer | None = None

    async def _any(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self._any)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    def check(self, check_id: str, **fields: Any) -> dict[str, Any]:
        """Return a check object as the server sends it: 1 s interval, against /<id>."""
        assert self.server is not None
        return {
            "id": check_id, "component": "c", "kind": "http",
            "url": str(self.server.make_url(f"/{check_id}")), "interval": "1s", "timeout": "2s",
            "conditions": ["[STATUS] == 200"], "regions": [REGION, "osaka"], "quorum": 1,
            **fields,
        }  # fmt: skip


class FakeExwatch:
    """The server side of the agent API, with switches to make it fail."""

    def __init__(self, checks: list[dict[str, Any]]) -> None:
        self.checks = checks
        self.version = "v1"
        self.received: list[dict[str, Any]] = []  # accepted results, each with its region
        self.rejected: list[dict[str, Any]] = []  # results of batches answered with 422
        self.fail_pushes_with: int | None = None
        self.echo_token_with: int | None = None  # as a proxy's error page showing the headers
        self.echoed = 0
        self.reject_next_pushes = 0
        self.unauthorized = 0
        self.port = 0
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ids(self, check_id: str) -> list[str]:
        """Return the observed_at of each accepted result of ``check_id``."""
        return [r["observed_at"] for r in self.received if r["check_id"] == check_id]

    def received_bare(self) -> list[dict[str, Any]]:
        """Return the accepted results as the agent sent them (without the batch's region)."""
        return [{k: v for k, v in r.items() if k != "region"} for r in self.received]

    async def start(self) -> None:
        """Listen (again) on the same port as before."""
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/api/agent/checks", self._checks)
        app.router.add_post("/api/agent/results", self._results)
        self._server = TestServer(app, host="127.0.0.1", port=self.port)
        await self._server.start_server()
        assert self._server.port is not None
        self.port = self._server.port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.unauthorized += 1
            return web.json_response({"detail": "bad token"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    async def _checks(self, request: web.Request) -> web.Response:
        assert request.query["region"] == REGION
        return web.json_response({"version": self.version, "checks": self.checks})

    async def _results(self, request: web.Request) -> web.Response:
        body = await request.json()
        results: list[dict[str, Any]] = body["results"]
        known = {check["id"] for check in self.checks}
        if self.fail_pushes_with is not None:
            return web.json_response({"detail": "down"}, status=self.fail_pushes_with)
        if self.echo_token_with is not None:
            self.echoed += 1
            text = f"bad request: Authorization: {request.headers['Authorization']}"
            return web.Response(text=text, status=self.echo_token_with)
        unknown = [i for i, r in enumerate(results) if r["check_id"] not in known]
        if self.reject_next_pushes or unknown:
            self.reject_next_pushes = max(0, self.reject_next_pushes - 1)
            self.rejected += results
            # The real server's words: it names the first result it refuses.
            why = f"results[{unknown[0]}].check_id: unknown check" if unknown else "refused"
            return web.json_response({"error": why}, status=422)
        self.received += [{**result, "region": body["region"]} for result in results]
        return web.json_response({"accepted": len(results)})


@dataclass
class Running:
    agent: Agent
    buffer: DiskBuffer


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    target = Target()
    await target.start()
    yield target
    assert target.server is not None
    await target.server.close()


@pytest.fixture
async def server(target: Target) -> AsyncIterator[FakeExwatch]:
    server = FakeExwatch([target.check("a"), target.check("b")])
    await server.start()
    yield server
    await server.stop()


def settings_for(server: FakeExwatch, tmp_path: Path, **overrides: Any) -> AgentSettings:
    fields: dict[str, Any] = {
        "server_url": server.url, "region": REGION, "token": TOKEN, "buffer_dir": tmp_path,
        "push_interval": 0.1, "refetch_interval": 30.0, "request_timeout": 2.0,
    }  # fmt: skip
    return AgentSettings(**(fields | overrides))


@contextlib.asynccontextmanager
async def running(settings: AgentSettings) -> AsyncIterator[Running]:
    """Run an agent (as run_agent does, but with its parts in reach) and stop it afterwards."""
    buffer = DiskBuffer(settings.buffer_path, settings.max_buffered)
    stop = asyncio.Event()
    async with AgentApi(settings) as api:
        agent = Agent(settings, api, buffer)
        task = asyncio.create_task(agent.run(stop))
        try:
            yield Running(agent, buffer)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            buffer.close()


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``condition()`` holds, failing after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.02)


def assert_no_duplicates(server: FakeExwatch) -> None:
    keys = [(r["check_id"], r["observed_at"]) for r in server.received]
    assert len(keys) == len(set(keys))


async def test_it_fetches_its_checks_runs_them_and_pushes_the_results(
    server: FakeExwatch, target: Target, tmp_path: Path
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_agent(settings_for(server, tmp_path), stop=stop))
    await until(lambda: bool(server.ids("a")) and bool(server.ids("b")))
    stop.set()
    await asyncio.wait_for(task, 5)

    assert {r["check_id"] for r in server.received} == {"a", "b"}
    for result in server.received:
        assert result["region"] == REGION
        assert result["ok"] is True
        assert result["error"] is None
        assert result["observed"]["STATUS"] == 200
        assert result["conditions"] == [
            {"condition": "[STATUS] == 200", "ok": True, "observed": 200}
        ]
        assert result["phases"]["total"] > 0
        assert result["observed_at"].endswith("+00:00")
    assert target.hits["/a"] >= 1
    assert (tmp_path / "buffer.sqlite3").exists()


async def test_checks_it_cannot_run_are_skipped_and_the_rest_run(
    server: FakeExwatch, target: Target, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    heartbeat = {
        "id": "hb",
        "component": "c",
        "kind": "heartbeat",
        "token": "x" * 16,
        "every": "1m",
    }
    server.checks = [
        target.check("a"),
        heartbeat,
        {"id": "odd", "component": "c", "kind": "pigeon"},
    ]
    async with running(settings_for(server, tmp_path)) as run:
        await until(lambda: bool(server.ids("a")))
    assert {r["check_id"] for r in server.received} == {"a"}
    assert run.agent.check_ids == {"a", "hb"}
    assert "skipping a check the agent cannot parse: odd" in caplog.text
    assert "not running server-side checks here: hb" in caplog.text


async def test_results_wait_on_disk_while_the_server_is_down_then_all_arrive_once(
    server: FakeExwatch, tmp_path: Path
) -> None:
    async with running(settings_for(server, tmp_path)) as run:
        await until(lambda: bool(server.ids("a")) and bool(server.ids("b")))
        await server.stop()
        await until(lambda: run.agent.stats.buffered - run.agent.stats.pushed >= 3)
        assert await run.buffer.count() >= 3
        await server.start()  # the same port
        await until(lambda: len(server.received) == run.agent.stats.buffered)
    assert_no_duplicates(server)
    assert len(server.received) == run.agent.stats.buffered == run.agent.stats.pushed


async def test_a_server_answering_503_only_delays_the_results(
    server: FakeExwatch, tmp_path: Path
) -> None:
    server.fail_pushes_with = 503
    async with running(settings_for(server, tmp_path)) as run:
        await until(lambda: run.agent.stats.buffered >= 2)
        assert server.received == []
        server.fail_pushes_with = None
        await until(lambda: len(server.received) >= 2)
    assert_no_duplicates(server)
    assert len(server.received) == run.agent.stats.buffered
    assert run.agent.stats.rejected_results == 0


async def test_a_restarted_agent_sends_the_backlog_of_the_last_run(
    server: FakeExwatch, tmp_path: Path
) -> None:
    settings = settings_for(server, tmp_path)
    earlier = DiskBuffer(settings.buffer_path, settings.max_buffered)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    old = [
        result_payload("a", start + timedelta(seconds=i), ProbeResult(True, 0.1)) for i in range(3)
    ]
    await earlier.append(old)
    earlier.close()

    stop = asyncio.Event()
    task = asyncio.create_task(run_agent(settings, stop=stop))
    await until(lambda: len(server.received) >= 3)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [r["observed_at"] for r in server.received[:3]] == [
        json.loads(p)["observed_at"] for p in old
    ]
    assert_no_duplicates(server)


async def test_a_rejected_batch_is_dropped_and_counted_and_the_next_ones_flow(
    server: FakeExwatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(settings_for(server, tmp_path)) as run:
        await until(lambda: len(server.received) >= 1)
        server.reject_next_pushes = 1
        await until(lambda: bool(server.rejected))
        before = len(server.received)
        await until(lambda: len(server.received) > before)
    assert run.agent.stats.rejected_batches == 1
    assert run.agent.stats.rejected_results == len(server.rejected) >= 1
    sent_again = {r["observed_at"] for r in server.received} & {
        r["observed_at"] for r in server.rejected
    }
    assert sent_again == set()
    assert "the server rejected a batch of results" in caplog.text


async def test_a_new_check_set_version_is_run(
    server: FakeExwatch, target: Target, tmp_path: Path
) -> None:
    async with running(settings_for(server, tmp_path, refetch_interval=0.2)) as run:
        await until(lambda: bool(server.ids("b")))
        server.checks, server.version = [target.check("a"), target.check("c")], "v2"
        await until(lambda: bool(server.ids("c")))
        hits_of_b = target.hits["/b"]
        await until(lambda: len(server.ids("c")) >= 2)  # a whole interval later
    assert target.hits["/b"] == hits_of_b  # b no longer runs
    assert run.agent.check_ids == {"a", "c"}


async def test_a_rejection_refetches_and_drops_only_results_of_removed_checks(
    server: FakeExwatch, target: Target, tmp_path: Path
) -> None:
    # A long refetch interval: only the rejection can make the agent notice the new set.
    async with running(settings_for(server, tmp_path, push_interval=0.3)) as run:
        await until(lambda: bool(server.ids("a")) and bool(server.ids("b")))
        server.checks, server.version = [target.check("a")], "v2"
        await until(lambda: run.agent.check_ids == {"a"})
        runs_of_a = len(server.ids("a"))
        await until(lambda: len(server.ids("a")) > runs_of_a)
    stats = run.agent.stats
    assert stats.rejected_batches == 0
    assert stats.rejected_results >= 1
    assert stats.buffered == stats.pushed + stats.rejected_results
    never_arrived = {r["check_id"] for r in server.rejected if r not in server.received_bare()}
    assert never_arrived == {"b"}  # a's results of a rejected batch were sent again
    assert_no_duplicates(server)


async def test_a_wrong_token_is_logged_clearly_and_retried(
    server: FakeExwatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    settings = settings_for(server, tmp_path, token="wrong-token-1234")
    task = asyncio.create_task(run_agent(settings, stop=stop))
    await until(lambda: server.unauthorized >= 3)
    assert not task.done()  # still retrying
    stop.set()
    await asyncio.wait_for(task, 5)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("401 Unauthorized" in e and "--token" in e for e in errors)
    assert len(errors) == 1  # the same failure is not logged at every retry
    assert all("wrong-token-1234" not in r.getMessage() for r in caplog.records)


async def test_the_token_never_shows_in_a_log_line_or_a_repr(
    server: FakeExwatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger's every line, httpx's and httpcore's too
    settings = settings_for(server, tmp_path)
    server.echo_token_with = 400
    async with running(settings) as run:
        await until(lambda: server.echoed >= 1)
        server.echo_token_with = None
        await until(lambda: len(server.received) >= 1)
        reprs = [repr(settings), str(settings), repr(run.agent), repr(run.agent._api)]
    assert "Authorization: Bearer <token>" in caplog.text  # the echo, redacted
    assert run.agent.stats.rejected_results == 0  # and a 400 drops nothing
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in text for text in reprs)
