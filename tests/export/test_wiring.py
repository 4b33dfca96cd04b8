"""The app ``create_app`` builds serves the snapshot through the middleware, next to its API."""

from __future__ import annotations

from pathlib import Path

import httpx

from monitor.app import build_services, create_app
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from statuspage.routes import SnapshotMiddleware
from statuspage.snapshot import PAGE_CACHE
from tests.support import FakeClock
from tests.test_engine import make_config


async def test_create_app_serves_the_page_ahead_of_its_routes(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'page.db'}")
    await upgrade(database)
    application = create_app(build_services(make_config(), database, FakeClock()), run_checks=False)
    assert [m.cls for m in application.user_middleware].count(SnapshotMiddleware) == 1
    transport = httpx.ASGITransport(app=application)
    try:
        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            page = await client.get("/", headers={"accept-encoding": "gzip"})
            assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
            assert page.headers["cache-control"] == PAGE_CACHE
            assert (await client.get("/api/v2/summary.json")).json()["status"][
                "indicator"
            ] == "none"
            assert (await client.get("/healthz")).json() == {"ok": True}
            assert (await client.get("/metrics")).status_code == 200
            assert (await client.get("/api/v2/nothing.json")).status_code == 404
            assert "/api/v2/{name}" in (await client.get("/openapi.json")).json()["paths"]
    finally:
        await database.close()
