"""``exwatch simulate``: the simulated exchange alone, stopped by SIGTERM as a container is."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import httpx

from monitor.demo.simulate import run_simulator

# The console script's entry point, run the same way wherever the package is installed.
EXWATCH = (sys.executable, "-m", "monitor.cli")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_simulator_serves_the_exchange_and_the_stand_ins_until_stopped() -> None:
    port, stop = _free_port(), asyncio.Event()
    task = asyncio.create_task(run_simulator("127.0.0.1", port, stop=stop))
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        health = await _get_when_up(client, "/api/v1/trading/health")
        metrics = await client.get("/metrics")
        x_page = await client.get("/_demo/x")
        webhook = await client.post("/_demo/webhook", json={"kind": "incident_opened"})
    assert health.json()["status"] == "ok"
    assert 'exchange_up{component="trading-engine"} 1' in metrics.text
    assert (x_page.status_code, webhook.status_code) == (200, 200)
    stop.set()
    assert await asyncio.wait_for(task, 5) == 0


async def test_exwatch_simulate_exits_cleanly_on_sigterm() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        *EXWATCH, "simulate", "--port", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    banner = await asyncio.wait_for(process.stdout.readline(), 30)
    assert f"http://127.0.0.1:{port}/" in banner.decode()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/metrics")).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 10) == 0


async def _get_when_up(client: httpx.AsyncClient, path: str) -> httpx.Response:
    for _ in range(100):
        try:
            return await client.get(path)
        except httpx.ConnectError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never answered")
