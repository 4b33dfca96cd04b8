"""Debian's Prometheus scrapes a running exwatch: one component-status series per component."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.metrics.support import break_component, services_on
from tests.metrics.tools import PROMETHEUS, require
from tests.serving import serving
from tests.support import FakeClock
from tests.test_engine import COMPONENTS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@asynccontextmanager
async def prometheus(target: str, tmp_path: Path) -> AsyncIterator[str]:
    """Run Prometheus on loopback, scraping ``target`` every second; yields its URL."""
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: exwatch\n"
        f"    static_configs: [{{targets: ['{target.removeprefix('http://')}']}}]\n"
    )
    log = tmp_path / "prometheus.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(PROMETHEUS), f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            stdout=output, stderr=output,
        )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _query(server: str, query: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server, timeout=2) as client:
        try:
            response = await client.get("/api/v1/query", params={"query": query})
        except httpx.TransportError:
            return []  # not listening yet
    if response.status_code != 200:
        return []
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


async def _wait_for(server: str, query: str, accept: Any, log: Path) -> list[dict[str, Any]]:
    """Poll, at most 30 s, until ``accept`` takes the query's result."""
    deadline = time.monotonic() + 30
    result: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        result = await _query(server, query)
        if accept(result):
            return result
        await asyncio.sleep(0.3)
    output = await asyncio.to_thread(log.read_text)
    pytest.fail(f"{query} never matched; last {result}\nPrometheus:\n{output[-2000:]}")


def _by_component(result: list[dict[str, Any]]) -> dict[str, float]:
    return {s["metric"]["component"]: float(s["value"][1]) for s in result}


async def test_prometheus_sees_each_components_status(tmp_path: Path) -> None:
    require(PROMETHEUS)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}")
    await upgrade(database)
    clock = FakeClock()
    services = services_on(database, clock)
    log = tmp_path / "prometheus.log"
    expected = {cid: 0.0 for cid, *_ in COMPONENTS}
    try:
        async with serving(services) as url, prometheus(url, tmp_path) as server:
            query = "exwatch_component_status"
            first = await _wait_for(server, query, lambda r: _by_component(r) == expected, log)
            assert len(first) == len(COMPONENTS)
            await break_component(services, clock, "trading-engine")
            expected["trading-engine"] = 4.0
            after = await _wait_for(server, query, lambda r: _by_component(r) == expected, log)
            assert {s["metric"]["job"] for s in after} == {"exwatch"}
            hot = 'exwatch_component_state{component="trading-engine"} == 1'
            state = await _wait_for(server, hot, lambda r: len(r) == 1, log)
            assert state[0]["metric"]["state"] == "major_outage"
            open_ = await _wait_for(server, "exwatch_incidents_open > 0", bool, log)
            assert [s["metric"]["severity"] for s in open_] == ["critical"]
    finally:
        await database.close()
