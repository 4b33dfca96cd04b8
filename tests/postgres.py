"""The PostgreSQL the tests use: its URL, whether it answers, and how to empty it."""

from __future__ import annotations

import asyncio
import functools
import os

import asyncpg
import pytest

SHARED_URL = os.environ.get(
    "EXWATCH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1 … when pytest-xdist runs the tests
# Each xdist worker empties its database before every test: workers get one each ("test_gw0").
POSTGRES_URL = f"{SHARED_URL}_{WORKER}" if WORKER else SHARED_URL


@functools.cache
def postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers (asked once)."""

    async def ping() -> None:
        if WORKER:
            await _create_worker_database()
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=3)
        await connection.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error}"
    return None


async def _create_worker_database() -> None:
    """Create this worker's database beside the shared one, unless it exists."""
    connection = await asyncpg.connect(SHARED_URL.replace("+asyncpg", ""), timeout=3)
    name = POSTGRES_URL.rsplit("/", 1)[1]
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # another worker of the same run made it meanwhile
    finally:
        await connection.close()


def require_postgres() -> None:
    """Skip without PostgreSQL locally; under CI=true its absence is a failure."""
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(problem)
    pytest.skip(problem)


async def reset_postgres() -> None:
    """Drop and recreate the public schema: every test starts from an empty database."""
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


# Asked at import, outside any event loop: the async fixtures cannot run asyncio.run themselves.
postgres_problem()
