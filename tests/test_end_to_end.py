"""End to end: exwatch as its own process watching the simulated exchange, faults in, incidents out."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitor.demo.exchange import start_exchange
from monitor.demo.faults import FaultMode

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_S = 60


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fast_config(tmp_path: Path) -> Path:
    """The demo's config with every check at a 1 s interval and no notifications (their stand-ins
    are the demo's; tests/notifiers covers sending)."""
    document = yaml.safe_load((ROOT / "examples" / "exchange.yaml").read_text())
    document.pop("notifications")
    for check in document["checks"]:
        check.update(interval="1s", timeout="900ms")
    zero = {"minor": "0s", "moderate": "0s", "critical": "0s"}
    document["incidents"] = {**document.get("incidents", {}), "resolve_after": zero}
    path = tmp_path / "exchange.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    return path


@contextmanager
def exwatch_process(
    tmp_path: Path, *args: str, log_name: str = "exwatch.log", **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Run ``exwatch ARGS`` on a fresh SQLite file; stop it with SIGINT afterwards."""
    log_path = tmp_path / log_name
    environment = {
        **os.environ,
        "EXWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        yield process, log_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_for(url: str, accept: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    """Poll ``url`` until ``accept`` holds for its JSON, or fail after DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    last: Any = None
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(url)
                last = response.json() if response.status_code == 200 else response.status_code
            except httpx.HTTPError as error:
                last = repr(error)
            if isinstance(last, dict) and accept(last):
                return last
            await asyncio.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; last answer: {last}")


def status_of(summary: dict[str, Any], component_id: str) -> str:
    return str(next(c["status"] for c in summary["components"] if c["id"] == component_id))


def all_operational(summary: dict[str, Any]) -> bool:
    return all(c["status"] == "operational" for c in summary["components"])


def critical_and_open(summary: dict[str, Any]) -> bool:
    return status_of(summary, "trading-engine") == "major_outage" and any(
        i["impact"] == "critical" and i["status"] != "resolved" for i in summary["incidents"]
    )


async def test_trading_engine_down_opens_a_critical_incident_that_resolves(
    tmp_path: Path, database_url: str
) -> None:
    exchange = await start_exchange("127.0.0.1", 0)
    port = free_port()
    args = ("run", "--config", str(fast_config(tmp_path)), "--port", str(port))
    summary_url = f"http://127.0.0.1:{port}/api/v2/summary.json?lang=en"
    env = {"EXWATCH_DEMO_EXCHANGE_URL": exchange.url, "EXWATCH_DATABASE_URL": database_url}
    try:
        with exwatch_process(tmp_path, *args, **env) as (process, log):
            healthy = await wait_for(summary_url, all_operational, "every component operational")
            assert healthy["status"]["indicator"] == "none"
            exchange.faults.inject("trading-engine", FaultMode.DOWN, 120)
            down = await wait_for(
                summary_url, critical_and_open, "a critical incident for the trading engine"
            )
            assert down["status"]["indicator"] == "critical"
            [incident] = [i for i in down["incidents"] if i["impact"] == "critical"]
            exchange.faults.clear()
            recovered = await wait_for(
                summary_url, lambda s: all_operational(s) and not s["incidents"], "recovery"
            )
            assert recovered["status"]["indicator"] == "none"
            history = await wait_for(
                f"http://127.0.0.1:{port}/api/v2/incidents.json?lang=en",
                lambda s: bool(s["incidents"]),
                "history",
            )
            [past] = [i for i in history["incidents"] if i["id"] == incident["id"]]
            assert past["status"] == "resolved" and past["resolved_at"] is not None
            assert past["name"] == "Trading engine: major outage"
        assert process.returncode == 0, log.read_text()
    finally:
        await exchange.stop()


async def test_the_demo_prints_its_urls_and_serves_the_page(tmp_path: Path) -> None:
    port, exchange_port = free_port(), free_port()
    args = ("demo", "--no-scenario", "--port", str(port), "--exchange-port", str(exchange_port))
    with exwatch_process(tmp_path, *args) as (process, log):
        summary = await wait_for(
            f"http://127.0.0.1:{port}/api/v2/summary.json",
            all_operational,
            "the demo's components operational",
        )
        assert len([c for c in summary["components"] if not c["group"]]) >= 12
        printed = log.read_text()
        assert f"status page          http://127.0.0.1:{port}/" in printed
        assert f"simulated exchange   http://127.0.0.1:{exchange_port}/" in printed
        async with httpx.AsyncClient() as client:
            page = await client.get(f"http://127.0.0.1:{port}/")
        assert "すべてのシステムが正常に稼働しています" in page.text
    assert process.returncode == 0, log.read_text()


async def test_an_agent_region_and_the_server_decide_by_quorum(tmp_path: Path) -> None:
    exchange = await start_exchange("127.0.0.1", 0)
    document = yaml.safe_load(fast_config(tmp_path).read_text())
    for check in document["checks"]:
        if check["component"] == "trading-engine":
            check.update(regions=["local", "tokyo"], quorum=2)  # both must see it down
    config = tmp_path / "regional.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True))
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    summary_url = f"{server}/api/v2/summary.json?lang=en"
    env = {"EXWATCH_DEMO_EXCHANGE_URL": exchange.url, "EXWATCH_AGENT_TOKEN": "test-agent-token"}
    agent_args = (
        "agent",
        "--server",
        server,
        "--region",
        "tokyo",
        "--buffer-dir",
        str(tmp_path / "agent"),
    )
    try:
        with (
            exwatch_process(tmp_path, "run", "--config", str(config), "--port", str(port), **env),
            exwatch_process(tmp_path, *agent_args, log_name="agent.log", **env) as (
                agent,
                agent_log,
            ),
        ):
            await wait_for(summary_url, all_operational, "every component operational")
            exchange.faults.inject("trading-engine", FaultMode.DOWN, 120)
            down = await wait_for(
                summary_url, critical_and_open, "a critical incident seen from both regions"
            )
            assert down["status"]["indicator"] == "critical"
            exchange.faults.clear()
            await wait_for(
                summary_url, lambda s: all_operational(s) and not s["incidents"], "recovery"
            )
        assert agent.returncode == 0, agent_log.read_text()
    finally:
        await exchange.stop()
