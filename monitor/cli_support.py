"""What every ``exwatch`` subcommand shares: opening the database, and failing with a message."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from monitor.storage.database import Database, DatabaseUrlError, database_url, safe_url
from monitor.storage.migrate import open_upgraded


async def open_database(**engine_options: Any) -> Database:
    """Open EXWATCH_DATABASE_URL with its schema up to date, or exit naming the problem."""
    url = database_url()
    try:
        return await open_upgraded(url, **engine_options)
    except DatabaseUrlError as error:
        fail([str(error)])
    except (SQLAlchemyError, OSError) as error:
        fail([f"cannot open the database {safe_url(url)}: {error}"])


def fail(lines: list[str]) -> NoReturn:
    """Print ``lines`` to stderr and exit with status 2."""
    for line in lines:
        print(line, file=sys.stderr)
    raise typer.Exit(2)
