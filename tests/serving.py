"""Serving exwatch's app on a free loopback port for tests that need a real HTTP server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from monitor.app import Services, create_app
from monitor.server import uvicorn_server


@asynccontextmanager
async def serving(services: Services) -> AsyncIterator[str]:
    """Serve the app of ``services`` on a free loopback port; yields its URL."""
    app = create_app(services, run_checks=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn_server(app, "127.0.0.1", sock.getsockname()[1])
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "exwatch did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()
