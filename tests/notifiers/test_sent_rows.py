"""The sent statement handed to the driver: each value lands in its own column, per dialect."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite
from sqlalchemy.engine import Dialect

from monitor.storage.delivery_outcomes import Finished, _sent_rows

AT = datetime(2026, 11, 22, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=9)))
# One placeholder per dialect's paramstyle: what stands after "column = ".
PLACEHOLDER = {"qmark": r"\?", "numeric_dollar": r"\$(\d+)(?:::[A-Z ]+)?", "named": r":(\w+)"}


def assigned(dialect: Dialect, sql: str, row: object) -> dict[str, object]:
    """Each column of ``sql`` (SET and WHERE) with the value ``row`` gives it."""
    pattern = re.compile(rf"(?:deliveries\.)?(\w+)\s*=\s*{PLACEHOLDER[dialect.paramstyle]}")
    found = {}
    for index, match in enumerate(pattern.finditer(sql)):
        if dialect.paramstyle == "qmark":
            found[match[1]] = row[index]  # type: ignore[index]
        elif dialect.paramstyle == "numeric_dollar":
            found[match[1]] = row[int(match[2]) - 1]  # type: ignore[index]
        else:
            found[match[1]] = row[match[2]]  # type: ignore[index]
    return found


@pytest.mark.parametrize(
    ("dialect", "stamp"),
    [
        (aiosqlite.dialect(), "2026-11-22 03:30:05.123456"),  # SQLite: UTC text, no zone
        (asyncpg.dialect(), AT.astimezone(UTC)),  # type: ignore[no-untyped-call]
        (aiosqlite.dialect(paramstyle="named"), "2026-11-22 03:30:05.123456"),
    ],
    ids=["sqlite", "postgresql", "named"],
)
def test_each_value_goes_to_its_column(dialect: Dialect, stamp: object) -> None:
    statement = _sent_rows(dialect)
    [row] = statement.rows("dispatcher-1", [Finished(42, "sent", AT, external_id="<m@x>")])
    assert assigned(dialect, statement.sql, row) == {
        "status": "sent", "external_id": "<m@x>", "sent_at": stamp,
        "id": 42, "lease_owner": "dispatcher-1",
    }  # fmt: skip
