"""Fault drill (issue #9): PostgreSQL restarts under an api replica and an engine.

On a private PostgreSQL (the shared one is never restarted): the engine is re-elected, the api
replica's change feed listens again, and a failure that starts after the restart reaches the
replica's page; then the same after PostgreSQL was stopped for a few seconds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.cluster.cluster_support import cluster, health
from tests.cluster.drill_support import drill_document, eventually, loopback_site
from tests.cluster.private_postgres import PrivatePostgres, private_postgres  # noqa: F401

# Real processes start slowly on a busy machine: more than the suite's 120 s per test.
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

WAIT_S = 40.0
OUTAGE_S = 3.0


async def statuses(api: Any) -> dict[str, str]:
    """Each component's status on the api replica's summary.json, by id."""
    async with httpx.AsyncClient(base_url=api.base_url, timeout=3) as client:
        summary = (await client.get("/api/v2/summary.json")).json()
    return {c["id"]: c["status"] for c in summary["components"]}


async def test_every_role_reconnects_after_postgres_restarts(
    private_postgres: PrivatePostgres,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    postgres = private_postgres
    async with loopback_site() as site:
        config = yaml.safe_dump(drill_document(site, {"api": "access", "wallet": "assets"}))
        async with cluster(config, tmp_path, url=postgres.url) as drill:
            api = await drill.start_api()
            engine = await drill.start_engine()
            await leading(engine)
            site.answer("wallet", 503)
            await shown(api, "wallet", "major_outage")
            postgres.restart()
            await leading(engine)
            site.answer("api", 503)  # judged by the re-elected engine, shown by the replica
            await shown(api, "api", "major_outage")
            postgres.stop()
            await asyncio.sleep(OUTAGE_S)
            postgres.start()
            await leading(engine)
            site.answer("wallet", 200)
            await shown(api, "wallet", "operational")
            assert api.alive and engine.alive
            assert "Traceback" not in api.log_text() + engine.log_text()


async def leading(engine: Any) -> None:
    await eventually(
        lambda: health(engine),
        lambda h: h.get("leader") is True,
        "an elected engine",
        within=WAIT_S,
    )


async def shown(api: Any, component: str, status: str) -> None:
    await eventually(
        lambda: statuses(api), lambda found: found.get(component) == status,
        f"{component} {status} on the api replica", within=WAIT_S,
    )  # fmt: skip
