"""The PostgreSQL the tests use: its URL, whether it answers, and how to empty it."""

from __future__ import annotations

import asyncio
import functools
import os

import asyncpg
import pytest

POSTGRES_URL = os.environ.get(
    "EXWATCH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers (asked once)."""

    async def ping() -> None:
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=3)
        await connection.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error}"
    return None


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
