"""Test helpers: a clock tests move by hand, and scripted probe results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from probes import ProbeResult

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        """Return the test's current time."""
        return self.current

    def advance(self, seconds: float) -> datetime:
        """Move time forward and return the new now."""
        self.current += timedelta(seconds=seconds)
        return self.current


OK = ProbeResult(ok=True, duration_s=0.01, observed={"STATUS": 200})
FAIL = ProbeResult(
    ok=False, duration_s=0.01, observed={"STATUS": 503}, error="status 503, expected 200"
)

# A database that refuses every connection at once. PostgreSQL on a closed port rather than an
# SQLite file in a missing directory: aiosqlite's worker thread outlives the failed connect and
# can raise in a later test once that test's event loop is gone.
UNREACHABLE_DATABASE_URL = "postgresql+asyncpg://exwatch@127.0.0.1:9/unreachable"
