"""Statements handed to the driver: each value lands where it belongs, per dialect."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite
from sqlalchemy.engine import Dialect

from monitor.storage.deliveries import _claim_statement
from monitor.storage.delivery_outcomes import SENT_STATEMENT
from monitor.storage.driver_statements import driver_statement

AT = datetime(2026, 11, 22, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=9)))
# One placeholder per dialect's paramstyle: what stands after "column = ".
PLACEHOLDER = {"qmark": r"\?", "numeric_dollar": r"\$(\d+)(?:::[A-Z ]+)?"}
SQLITE, POSTGRESQL = aiosqlite.dialect(), asyncpg.dialect()  # type: ignore[no-untyped-call]


def assigned(dialect: Dialect, sql: str, row: tuple[object, ...]) -> dict[str, object]:
    """Each column set or compared with ``=`` in ``sql``, with the value ``row`` gives it."""
    found = {}
    for index, match in enumerate(re.finditer(PLACEHOLDER[dialect.paramstyle], sql)):
        position = index if dialect.paramstyle == "qmark" else int(match[1]) - 1
        column = re.search(r"(\w+)\s*=\s*$", sql[: match.start()])
        if column is not None:
            found[column[1]] = row[position]
    return found


@pytest.mark.parametrize(
    ("dialect", "stamp"),
    [
        (SQLITE, "2026-11-22 03:30:05.123456"),  # SQLite: UTC text, no zone
        (POSTGRESQL, AT.astimezone(UTC)),
    ],
    ids=["sqlite", "postgresql"],
)
def test_each_value_of_a_sent_row_goes_to_its_column(dialect: Dialect, stamp: object) -> None:
    statement = driver_statement(SENT_STATEMENT, dialect)
    row = statement.parameters({"b_id": 42, "b_owner": "dispatcher-1", "b_status": "sent",
                                "b_sent_at": AT, "b_external_id": "<m@x>"})  # fmt: skip
    assert assigned(dialect, statement.sql, row) == {
        "status": "sent", "external_id": "<m@x>", "sent_at": stamp,
        "id": 42, "lease_owner": "dispatcher-1",
    }  # fmt: skip


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_a_claim_binds_its_values_and_the_statements_own(dialect: Dialect) -> None:
    statement = driver_statement(_claim_statement(dialect.name), dialect)
    until = AT + timedelta(seconds=30)
    row = statement.parameters({"b_owner": "d", "b_now": AT, "b_until": until, "b_limit": 500})
    found = assigned(dialect, statement.sql, row)
    assert found["lease_owner"] == "d" and found["status"] == "pending"
    in_utc = AT.astimezone(UTC)
    now, later = (in_utc, until) if dialect is POSTGRESQL else (
        "2026-11-22 03:30:05.123456", "2026-11-22 03:30:35.123456",
    )  # fmt: skip
    assert found["lease_until"] == later and now in row  # converted as the column type does
    assert 500 in row and 1 in row  # the limit, and the attempt the claim counts


def test_a_named_paramstyle_is_refused_by_name() -> None:
    with pytest.raises(RuntimeError, match="positional"):
        driver_statement(SENT_STATEMENT, aiosqlite.dialect(paramstyle="named"))
