"""Shared by the metrics tests: the app's services on a database, a failing component, serving."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services, create_app
from monitor.server import uvicorn_server
from monitor.storage.database import Database
from tests.lifecycle_support import lifecycle_config
from tests.support import FAIL, FakeClock


def services_on(database: Database, clock: FakeClock) -> Services:
    """The app's services for the lifecycle test config, on a registry of their own."""
    return build_services(
        lifecycle_config(), database, clock, metrics_registry=CollectorRegistry(), channels={}
    )


async def break_component(services: Services, clock: FakeClock, component_id: str) -> None:
    """Fail the component's check until its alert fires (the config fails into major_outage)."""
    check = next(c for c in services.config.checks if c.component == component_id)
    for _ in range(check.failures_to_alert):
        clock.advance(10)
        await services.engine.ingest(check, FAIL)


def value(services: Services, name: str, **labels: str) -> float | None:
    """One sample of the services' registry."""
    return services.metrics_registry.get_sample_value(name, labels)


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
