"""``exwatch run`` answers the page on the connection, rendered in a separate process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from tests.export.test_cli_export import CONFIG, ROOT

BOUND = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_exwatch_run_serves_the_snapshot_on_the_connection(tmp_path: Path) -> None:
    config = tmp_path / "exwatch.yaml"
    config.write_text(CONFIG)
    port = free_port()
    env = {**os.environ, "EXWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "run", "--config", str(config), "--port", str(port),
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            page = await first_answer(client, "/")
            assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
            assert "server" not in page.headers  # answered by the snapshot protocol
            assert "エンジン" in page.text
            health = await client.get("/healthz")  # uvicorn and FastAPI behind it
            assert health.status_code == 200 and health.headers["server"] == "uvicorn"
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), BOUND)
    assert process.returncode == 0, errors.decode()
    assert b"statuspage" not in errors and b"render" not in errors, errors.decode()


async def first_answer(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """GET ``path`` once exwatch listens (bounded)."""
    deadline = time.monotonic() + BOUND
    while True:
        try:
            return await client.get(path)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "exwatch run did not start"
            await asyncio.sleep(0.2)
