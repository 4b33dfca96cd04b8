"""exwatch_db_query_seconds: every query timed by operation, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from monitor.storage.database import Database
from monitor.storage.query_metrics import OPERATIONS, QueryMetrics, operation_of


def observed(registry: CollectorRegistry, operation: str) -> float:
    """How many queries of ``operation`` the histogram saw."""
    labels = {"operation": operation}
    return registry.get_sample_value("exwatch_db_query_seconds_count", labels) or 0.0


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("SELECT 1", "select"),
        ("  \n\tselect id FROM t", "select"),
        ("INSERT INTO t (a) VALUES (?)", "insert"),
        ("UPDATE t SET a = 1", "update"),
        ("DELETE FROM t", "delete"),
        ("select(1)", "select"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "other"),
        ("PRAGMA journal_mode=WAL", "other"),
        ("selected", "other"),
        ("update_x", "other"),
        ("", "other"),
    ],
)
def test_the_operation_is_the_first_keyword(statement: str, operation: str) -> None:
    assert operation_of(statement) == operation


@given(st.text(max_size=40))
def test_any_statement_gets_a_bounded_operation(statement: str) -> None:
    assert operation_of(statement) in (*OPERATIONS, "other")


@given(st.sampled_from(OPERATIONS), st.sampled_from([" ", "\n", "("]), st.text(max_size=20))
def test_a_keyword_in_any_case_is_recognised(word: str, separator: str, rest: str) -> None:
    assert operation_of(word.upper() + separator + rest) == word


async def test_the_histogram_grows_with_queries(database: Database) -> None:
    registry = CollectorRegistry()
    metrics = QueryMetrics(registry)
    metrics.attach(database.engine)
    try:
        async with database.transaction() as session:
            await session.execute(text("CREATE TEMPORARY TABLE qm (a INTEGER)"))
            for value in (1, 2, 3):
                await session.execute(text("INSERT INTO qm (a) VALUES (:a)"), {"a": value})
            await session.execute(text("UPDATE qm SET a = a + 1"))
            assert (await session.execute(text("SELECT count(*) FROM qm"))).scalar_one() == 3
            await session.execute(text("DELETE FROM qm"))
    finally:
        metrics.detach(database.engine)
    assert observed(registry, "insert") == 3
    assert observed(registry, "update") == 1
    assert observed(registry, "select") >= 1
    assert observed(registry, "delete") == 1
    assert observed(registry, "other") >= 1  # the CREATE
    total = registry.get_sample_value("exwatch_db_query_seconds_sum", {"operation": "insert"})
    assert total is not None and total > 0


async def test_a_detached_engine_is_no_longer_timed(database: Database) -> None:
    registry = CollectorRegistry()
    metrics = QueryMetrics(registry)
    metrics.attach(database.engine)
    metrics.detach(database.engine)
    async with database.transaction() as session:
        await session.execute(text("SELECT 1"))
    assert observed(registry, "select") == 0


async def test_a_failing_query_is_not_observed(database: Database) -> None:
    registry = CollectorRegistry()
    metrics = QueryMetrics(registry)
    metrics.attach(database.engine)
    try:
        with pytest.raises(Exception, match="no_such_table"):
            async with database.transaction() as session:
                await session.execute(text("SELECT * FROM no_such_table"))
        async with database.transaction() as session:
            await session.execute(text("SELECT 1"))
    finally:
        metrics.detach(database.engine)
    assert observed(registry, "select") == 1
