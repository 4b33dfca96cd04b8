"""schemathesis over every operation of the OpenAPI schema, as the operator, on seeded data.

No request may end in a 5xx, and every answer must be one the schema documents: its status
code, content type, headers and body. Each operation gets schemathesis's deterministic
coverage cases (boundaries, missing and wrong-typed fields, no token) and a few fuzzed ones.

The app runs in-process on schemathesis's own event loop; the database is migrated and seeded
first, in the test's loop, through a handle of its own. SQLite only: on PostgreSQL the run
takes twice as long, and what differs there (NUL in text, 64-bit ids) is pinned by
``test_regressions`` on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (  # type: ignore[attr-defined]
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.api.support import ADMIN_TOKEN, AGENT_AUTH, build_app, running, seed
from tests.support import FakeClock

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict({
    "seed": 7,
    "cache": {"enabled": False},
    "generation": {"deterministic": True},
    "auth": {"openapi": {"HTTPBearer": {"bearer": ADMIN_TOKEN}}},
})  # fmt: skip


@pytest.fixture
async def seeded_url(tmp_path: Path, clock: FakeClock) -> str:
    """A migrated SQLite database holding a few of everything, closed again."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}"
    database = Database(url)
    try:
        await upgrade(database)
        async with running(database, clock) as api:
            await seed(api)
    finally:
        await database.close()
    return url


@pytest.fixture
def api_schema(seeded_url: str, clock: FakeClock) -> Any:
    """The schema of an app on the seeded database; the app closes its database as it stops."""
    database = Database(seeded_url)
    app, _ = build_app(database, clock)
    _close_on_shutdown(app, database)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


def _close_on_shutdown(app: FastAPI, database: Database) -> None:
    # The app's connections are made on schemathesis's event loop: they must close on it.
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with started(app):
                yield
        finally:
            await database.close()

    app.router.lifespan_context = lifespan


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    # A few fuzzed cases per operation besides the coverage cases: the file stays under 90 s.
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    # Generation speed depends on how busy the shared machine is, never on the API.
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.timeout(300)  # about 30 s alone; the default 120 s is tight on a busy machine
def test_every_operation_answers_as_its_schema_says(case: Any) -> None:
    # The agents' routes take the agent token, not an admin's (a wrong one is documented too).
    headers = AGENT_AUTH if case.path.startswith("/api/agent/") else None
    case.call_and_validate(headers=headers, checks=CHECKS)
