"""Runs the Alembic migrations on a Database (``exwatch db upgrade``; run and demo call it too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from monitor.storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_KEY = 0x6578_7702  # the migration lock ("exw" and 2)


async def upgrade(database: Database) -> str | None:
    """Bring the schema to the newest revision and return that revision."""
    async with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            # Several processes start at once (api replicas, engines): one migrates, the
            # others wait for it and then find nothing to do.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _KEY})
        await connection.run_sync(_upgrade)
    return await current_revision(database)


async def current_revision(database: Database) -> str | None:
    """Return the schema's revision, or None for an empty database."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    """Return the newest revision the code knows."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def open_upgraded(url: str, **engine_options: Any) -> Database:
    """Open the database at ``url`` and bring its schema to the newest revision.

    Raises DatabaseUrlError for a URL exwatch cannot use, and the driver's error when the
    database cannot be reached.
    """
    database = Database(url, **engine_options)
    try:
        await upgrade(database)
    except BaseException:
        await database.close()
        raise
    return database
