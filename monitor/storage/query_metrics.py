"""Database query latency: ``exwatch_db_query_seconds{operation}`` from SQLAlchemy cursor events.

Timing wraps the DBAPI cursor call only (no ORM work), which is what a slow database shows as.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

OPERATIONS = ("select", "insert", "update", "delete")
# Loopback SQLite answers in ~50 µs; a loaded remote PostgreSQL in tens to hundreds of ms.
QUERY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                 0.5, 1, 2.5, 5)  # fmt: skip
_STARTED = "exwatch.query_started"
_KEYWORD_ENDS = frozenset({"", " ", "\t", "\n", "\r", "("})


def operation_of(statement: str) -> str:
    """Return ``select``, ``insert``, ``update``, ``delete`` or ``other`` from the first keyword."""
    head = statement.lstrip()[:7].lower()
    word = head[:6]
    if word in OPERATIONS and head[6:] in _KEYWORD_ENDS:
        return word
    return "other"


class QueryMetrics:
    """Observes every query's duration on a histogram by operation."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            "exwatch_db_query_seconds",
            "Duration of each database query (the cursor call), by operation",
            ("operation",),
            buckets=QUERY_BUCKETS,
            registry=registry,
        )
        self._children = {name: self.seconds.labels(name) for name in (*OPERATIONS, "other")}

    def attach(self, engine: AsyncEngine) -> None:
        """Time every query ``engine`` runs from now on."""
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def detach(self, engine: AsyncEngine) -> None:
        """Stop timing ``engine``'s queries."""
        event.remove(engine.sync_engine, "before_cursor_execute", self._before)
        event.remove(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, connection: Any, *_: Any) -> None:
        # One cursor call at a time per connection: a failed query's start is simply overwritten.
        connection.info[_STARTED] = time.perf_counter()

    def _after(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        started = connection.info.pop(_STARTED, None)
        if started is not None:
            self._children[operation_of(statement)].observe(time.perf_counter() - started)
