"""The real thing on loopback: the exchange's metrics → Prometheus rule → Alertmanager → exwatch.

Debian's ``prometheus`` and ``prometheus-alertmanager`` run as subprocesses; exwatch serves the
real app with uvicorn in this event loop. Skipped without the binaries, failed under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from monitor.alertmanager.payload import label_fingerprint
from monitor.app import build_services, create_app
from monitor.demo.exchange import start_exchange
from monitor.server import uvicorn_server
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from monitor.storage.tables import alerts, components, incidents
from tests.alertmanager.support import TOKEN, make_config

WAIT = 60.0
T = TypeVar("T")

RULES = """
groups:
  - name: exchange
    rules:
      - alert: ExchangeComponentDown
        expr: exchange_up == 0
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.component }} does not serve requests"}
"""


def _binary(name: str) -> str:
    """Return the binary's path; skip without it, and fail under CI (which installs it)."""
    found = shutil.which(name)
    if found is not None:
        return found
    reason = f"{name} is not installed (apt-get install {name})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _until(what: str, probe: Callable[[], Awaitable[T | None]], logs: list[Path]) -> T:
    """Poll ``probe`` until it returns a value, at most WAIT seconds; fail with the logs."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = await probe()
        if value is not None:
            return value
        await asyncio.sleep(0.25)
    tails = [f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs]
    pytest.fail(f"{what}: not within {WAIT:g} s\n" + "\n".join(tails))


@asynccontextmanager
async def _process(log: Path, *command: str) -> AsyncIterator[None]:
    """Run ``command`` with its output in ``log``; terminate it (then kill) on the way out."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(*command, stdout=output, stderr=output)
    try:
        yield
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def _exwatch(tmp_path: Path) -> AsyncIterator[tuple[str, Database]]:
    """Serve the real app (receiver included) on a loopback port with an SQLite file."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}")
    await upgrade(database)
    services = build_services(
        make_config(), database, metrics_registry=CollectorRegistry(), admin_token=TOKEN
    )
    app = create_app(services, run_checks=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound before serving: no race for the port
    server = uvicorn_server(app, "127.0.0.1", sock.getsockname()[1])
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "exwatch did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", database
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()
        await database.close()


def _prometheus_config(tmp_path: Path, exchange: str, alertmanager: int) -> Path:
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{rules}']\n"
        "alerting:\n"
        f"  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{alertmanager}']}}]}}]\n"
        "scrape_configs:\n"
        "  - job_name: exchange\n"
        f"    static_configs: [{{targets: ['{exchange.removeprefix('http://')}']}}]\n"
    )
    return config


def _alertmanager_config(tmp_path: Path, exwatch: str) -> Path:
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "global: {resolve_timeout: 10s}\n"
        "route:\n"
        "  receiver: exwatch\n"
        "  group_by: [alertname, component]\n"
        "  group_wait: 1s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: exwatch\n"
        "    webhook_configs:\n"
        f"      - url: {exwatch}/api/alertmanager\n"
        "        send_resolved: true\n"
        f"        http_config: {{authorization: {{type: Bearer, credentials: {TOKEN}}}}}\n"
    )
    return config


async def _rows(database: Database, table: Any, *where: Any) -> list[Any]:
    async with database.transaction() as session:
        return list((await session.execute(select(table).where(*where))).all())


async def _status(database: Database, component_id: str) -> str:
    [row] = await _rows(database, components, components.c.id == component_id)
    return str(row.status)


@pytest.mark.timeout(240)
async def test_a_prometheus_rule_opens_and_resolves_an_alert_through_alertmanager(
    tmp_path: Path,
) -> None:
    prometheus, alertmanager = _binary("prometheus"), _binary("prometheus-alertmanager")
    prometheus_port, alertmanager_port = _free_port(), _free_port()
    logs = [tmp_path / "prometheus.log", tmp_path / "alertmanager.log"]
    exchange = await start_exchange("127.0.0.1", 0)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(exchange.stop)
        exwatch, database = await stack.enter_async_context(_exwatch(tmp_path))
        await stack.enter_async_context(
            _process(
                logs[1],
                alertmanager,
                f"--config.file={_alertmanager_config(tmp_path, exwatch)}",
                f"--storage.path={tmp_path / 'alertmanager'}",
                f"--web.listen-address=127.0.0.1:{alertmanager_port}",
                "--cluster.listen-address=",  # no gossip: one peer, no port beyond loopback
            )
        )
        await stack.enter_async_context(
            _process(
                logs[0],
                prometheus,
                f"--config.file={_prometheus_config(tmp_path, exchange.url, alertmanager_port)}",
                f"--storage.tsdb.path={tmp_path / 'prometheus'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            )
        )
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=5))

        async def answers(url: str, **params: str) -> bool | None:
            try:
                response = await client.get(url, params=params)
            except httpx.TransportError:
                return None
            ok = response.status_code == 200 and (not params or response.json()["data"]["result"])
            return True if ok else None

        await _until(
            "Alertmanager ready",
            lambda: answers(f"http://127.0.0.1:{alertmanager_port}/-/ready"),
            logs,
        )
        query = f"http://127.0.0.1:{prometheus_port}/api/v1/query"
        await _until(
            "Prometheus scraped the exchange",
            lambda: answers(query, query='up{job="exchange"} == 1'),
            logs,
        )
        assert await _status(database, "charts") == "operational"

        # A fault: charts stops serving, exchange_up{component="charts"} drops to 0.
        injected = await client.post(
            f"{exchange.url}/_faults", json={"target": "charts", "mode": "down", "seconds": 300}
        )
        assert injected.status_code == 200, injected.text

        async def firing() -> Any:
            rows = await _rows(database, alerts, alerts.c.source == "alertmanager")
            return rows[0] if rows else None

        row = await _until("Alertmanager posted the firing alert", firing, logs)
        assert (row.status, row.component_id) == ("firing", "charts")
        assert row.summary == "charts does not serve requests"
        assert row.labels["alertname"] == "ExchangeComponentDown"
        # The fingerprint Alertmanager sent is the one exwatch computes for senders without it.
        assert row.fingerprint == f"alertmanager:{label_fingerprint(row.labels)}"
        assert await _status(database, "charts") == "major_outage"  # severity=critical
        open_incidents = await _rows(database, incidents, incidents.c.status != "resolved")
        assert len(open_incidents) == 1

        # The fault clears: the rule resolves, Alertmanager posts the resolve.
        cleared = await client.delete(f"{exchange.url}/_faults/charts")
        assert cleared.status_code == 200, cleared.text

        async def resolved() -> bool | None:
            rows = await _rows(database, alerts, alerts.c.id == row.id)
            return True if rows[0].status == "resolved" else None

        await _until("Alertmanager posted the resolve", resolved, logs)
        assert await _status(database, "charts") == "operational"
        # Alertmanager's repeated flushes were one alert, not several.
        assert len(await _rows(database, alerts, alerts.c.fingerprint == row.fingerprint)) == 1
