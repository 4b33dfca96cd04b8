"""How the agent meets failures: each status, a 422's aftermath, a broken disk, odd httpx errors.

The server here is in-process (``httpx.MockTransport``), so each push is one call, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.agent import Agent, AgentApi, AgentSettings, DiskBuffer, result_payload
from probes import ProbeResult

TOKEN = "s3cret-agent-token"
REGION = "tokyo"
START = datetime(2026, 1, 1, tzinfo=UTC)
Answer = httpx.Response | Exception


def heartbeat(check_id: str) -> dict[str, Any]:
    """A check the agent knows but never runs itself: no probe disturbs the buffer."""
    return {"id": check_id, "component": "c", "kind": "heartbeat", "token": "x" * 16, "every": "1m"}


@dataclass
class Server:
    """The agent API, answering like the real server unless told to answer otherwise."""

    checks: list[str] = field(default_factory=lambda: ["a", "b"])
    version: str = "v1"
    check_answers: list[Answer] = field(default_factory=list)  # used up before the default
    push_answers: list[Answer] = field(default_factory=list)
    max_batch: int | None = None  # bigger batches get a 413
    received: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[int] = field(default_factory=list)  # the size of each batch pushed

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        if request.url.path == "/api/agent/checks":
            return self._answer(self.check_answers) or httpx.Response(
                200, json={"version": self.version, "checks": [heartbeat(c) for c in self.checks]}
            )
        results: list[dict[str, Any]] = json.loads(request.content)["results"]
        self.pushes.append(len(results))
        return self._answer(self.push_answers) or self._results(results)

    def _answer(self, answers: list[Answer]) -> httpx.Response | None:
        if not answers:
            return None
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _results(self, results: list[dict[str, Any]]) -> httpx.Response:
        if self.max_batch is not None and len(results) > self.max_batch:
            return httpx.Response(413, text="<html>413 Request Entity Too Large</html>")
        for index, result in enumerate(results):
            if result["check_id"] not in self.checks:  # as the real server words it
                why = f"results[{index}].check_id: {result['check_id']!r}: unknown check"
                return httpx.Response(422, json={"error": why})
        self.received += results
        return httpx.Response(200, json={"accepted": len(results)})

    def received_ids(self) -> list[str]:
        return [f"{r['check_id']}{r['duration_s']}" for r in self.received]


def payload(check_id: str, n: int) -> str:
    """A result of ``check_id``; ``n`` tells it apart (as its duration)."""
    return result_payload(check_id, START + timedelta(seconds=n), ProbeResult(True, float(n)))


@contextlib.asynccontextmanager
async def offline(
    server: Server, tmp_path: Path, backlog: list[str], **overrides: Any
) -> AsyncIterator[Agent]:
    """An agent with ``backlog`` in its buffer and its check set fetched, not running."""
    fields: dict[str, Any] = {
        "server_url": "https://exwatch.test", "region": REGION, "token": TOKEN,
        "buffer_dir": tmp_path, "push_interval": 0.05,
    }  # fmt: skip
    settings = AgentSettings(**(fields | overrides))
    buffer = DiskBuffer(settings.buffer_path, settings.max_buffered)
    await buffer.append(backlog)
    async with AgentApi(settings, transport=httpx.MockTransport(server.handle)) as api:
        agent = Agent(settings, api, buffer)
        try:
            yield agent
        finally:
            await agent._stop_scheduler()
            buffer.close()


async def buffered(agent: Agent) -> int:
    return await agent._buffer.count()


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


NO_STOP = asyncio.Event()
ABC = [payload("a", 1), payload("b", 2), payload("a", 3)]


@pytest.mark.parametrize("status", [400, 403, 404, 408, 429, 500, 503])
async def test_every_status_but_422_keeps_the_batch_for_the_next_push(
    status: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.agent")
    server = Server(push_answers=[httpx.Response(status, text="<html>nope</html>")])
    async with offline(server, tmp_path, ABC) as agent:
        await agent.push_backlog(NO_STOP)
        assert (await buffered(agent), server.received) == (3, [])
        await agent.push_backlog(NO_STOP)
        assert (await buffered(agent), server.received_ids()) == (0, ["a1.0", "b2.0", "a3.0"])
    assert (agent.stats.rejected_results, agent.stats.rejected_batches) == (0, 0)
    [failure] = [r for r in caplog.records if "will retry" in r.getMessage()]
    assert f"{status} '<html>nope</html>'" in failure.getMessage()
    if status in (400, 403, 404):  # not the agent API speaking: someone must look
        assert failure.levelno == logging.ERROR
        assert "--server URL" in failure.getMessage()


async def test_a_413_halves_the_batch_size_down_to_one_and_nothing_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server(max_batch=1)
    backlog = [payload("a", n) for n in range(5)]
    async with offline(server, tmp_path, backlog, batch_size=8) as agent:
        for _ in range(3):
            await agent.push_backlog(NO_STOP)
        assert agent.batch_size == 1
        assert server.pushes == [5, 2, 1, 1, 1, 1, 1]
        assert server.received_ids() == [f"a{n}.0" for n in range(5)]
        await agent._buffer.append([payload("a", 9)])
        server.max_batch = 0  # even one result is too large: kept, retried, never dropped
        await agent.push_backlog(NO_STOP)
        assert (agent.batch_size, await buffered(agent)) == (1, 1)
    assert agent.stats.rejected_results == 0
    assert "too large: sending at most 2 per request from now on" in caplog.text
    assert "sending at most 1 per request" in caplog.text


async def test_a_422_naming_a_result_of_a_removed_check_drops_that_checks_results_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server()
    async with offline(server, tmp_path, [*ABC, payload("b", 4)]) as agent:
        await agent.refetch()
        server.checks, server.version = ["a"], "v2"
        await agent.push_backlog(NO_STOP)
        assert agent.check_ids == {"a"}
        assert (await buffered(agent), server.received_ids()) == (0, ["a1.0", "a3.0"])
    assert (agent.stats.rejected_results, agent.stats.rejected_batches) == (2, 0)
    assert "rejected results of checks no longer in this region: dropped 2 of 4" in caplog.text


async def test_a_422_naming_a_result_of_a_known_check_drops_only_the_named_result(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = httpx.Response(422, json={"error": "results[1].duration_s: must be finite"})
    server = Server(push_answers=[bad])
    async with offline(server, tmp_path, ABC) as agent:
        await agent.push_backlog(NO_STOP)
        assert (await buffered(agent), server.received_ids()) == (0, ["a1.0", "a3.0"])
    assert (agent.stats.rejected_results, agent.stats.rejected_batches) == (1, 0)
    assert "rejected the results it named: dropped 1 of 3" in caplog.text


async def test_a_422_naming_nothing_drops_the_batch_and_counts_and_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server(push_answers=[httpx.Response(422, json={"detail": "malformed batch"})])
    async with offline(server, tmp_path, ABC) as agent:
        await agent.push_backlog(NO_STOP)
        assert (await buffered(agent), server.received) == (0, [])
    assert (agent.stats.rejected_results, agent.stats.rejected_batches) == (3, 1)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "rejected a batch of results: dropped 3 of 3 (3 rejected in all)" in error.getMessage()


async def test_a_422_keeps_the_batch_while_the_check_set_cannot_be_fetched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server()
    async with offline(server, tmp_path, ABC) as agent:
        await agent.refetch()
        server.checks, server.version = ["a"], "v2"
        server.check_answers = [httpx.Response(503), httpx.ConnectError("refused")]
        for _ in range(2):
            await agent.push_backlog(NO_STOP)
            assert (await buffered(agent), agent.stats.rejected_results) == (3, 0)
        assert "kept until the check set can be fetched again" in caplog.text
        await agent.push_backlog(NO_STOP)  # the check set arrives: b's result goes
        assert (await buffered(agent), server.received_ids()) == (0, ["a1.0", "a3.0"])
    assert agent.stats.rejected_results == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.DecodingError("bad gzip"),
        httpx.RemoteProtocolError("odd"),
        httpx.TooManyRedirects("x"),
    ],
)
async def test_an_unexpected_httpx_error_keeps_the_batch(
    failure: Exception, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server(push_answers=[failure])
    async with offline(server, tmp_path, ABC) as agent:
        await agent.push_backlog(NO_STOP)
        assert await buffered(agent) == 3
        await agent.push_backlog(NO_STOP)
        assert len(server.received) == 3
    assert f"{type(failure).__name__}: {failure}" in caplog.text


async def test_neither_the_disk_nor_httpx_failing_stops_the_agent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.agent")
    server = Server()
    async with offline(server, tmp_path, ABC) as agent:
        # The disk fails three reads, httpx fails oddly, then the disk fails one delete.
        fail(monkeypatch, agent._buffer, "peek", [sqlite3.OperationalError("disk I/O error")] * 3)
        fail(monkeypatch, agent._api, "push", [httpx.HTTPError("something new")])
        fail(monkeypatch, agent._buffer, "remove", [sqlite3.OperationalError("disk is full")])
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run(stop))
        # The batch whose removal failed is sent again: at least once, never lost.
        await until(lambda: len(server.received) >= 6 or task.done())
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 5)
        assert await buffered(agent) == 0
    assert server.received_ids() == ["a1.0", "b2.0", "a3.0"] * 2
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3  # the same failure is not logged at every retry
    assert "OperationalError: disk I/O error" in errors[0]
    assert "HTTPError: something new" in errors[1]
    assert "OperationalError: disk is full" in errors[2]
    assert "pushing results works again after 4 failed attempts" in caplog.text


def fail(
    monkeypatch: pytest.MonkeyPatch, owner: object, method: str, errors: list[Exception]
) -> None:
    """Make ``owner.method`` raise ``errors`` one by one, then work again."""
    operation = getattr(owner, method)

    async def failing(*args: Any) -> Any:
        if errors:
            raise errors.pop(0)
        return await operation(*args)

    monkeypatch.setattr(owner, method, failing)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://status.example.com", True),
        ("http://10.0.0.7:8000/", True),
        ("https://status.example.com", False),
        ("http://127.0.0.1:8000", False),
        ("http://127.8.0.1", False),
        ("http://[::1]:8000", False),
        ("http://localhost:8000", False),
        ("http://agent.localhost", False),
    ],
)
async def test_a_token_sent_in_clear_text_is_warned_of_once_at_start(
    url: str, warned: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert AgentSettings(url, REGION, TOKEN).sends_token_in_clear is warned
    server = Server()
    async with offline(server, tmp_path, ABC, server_url=url) as agent:
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run(stop))
        await until(lambda: len(server.received) == 3)
        stop.set()
        await asyncio.wait_for(task, 5)
    warnings = [r.getMessage() for r in caplog.records if "clear text" in r.getMessage()]
    assert len(warnings) == (1 if warned else 0)
    assert all(
        r.levelno == logging.WARNING for r in caplog.records if "clear text" in r.getMessage()
    )
