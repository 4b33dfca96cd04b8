"""A read session for admin routes: a database that cannot answer is a 503, not a traceback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import HTTPException
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.database import Database


@asynccontextmanager
async def reading(database: Database) -> AsyncIterator[AsyncSession]:
    """Yield a session; a database that cannot answer is a 503 naming no internals."""
    try:
        async with database.transaction() as session:
            yield session
    except (OperationalError, InterfaceError, PoolTimeout, OSError):  # not our bugs: those are 500s
        raise HTTPException(503, "the database is not answering; try again") from None
