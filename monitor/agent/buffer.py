"""The agent's on-disk result buffer: SQLite, oldest first, bounded by dropping the oldest.

Results land here before they are pushed, so a server outage or an agent restart loses nothing
(up to the bound). SQLite runs in worker threads so the event loop, which times probes, never
waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('dropped', 0);
"""


class BufferInUseError(Exception):
    """Another agent holds the buffer file."""


class DiskBuffer:
    """A bounded FIFO of JSON payloads in one SQLite file; ``dropped`` counts what fell off."""

    def __init__(self, path: Path, max_items: int) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by worker threads; the lock serialises them.
        self._db = sqlite3.connect(path, timeout=0.5, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._max_items = max_items
        try:
            self._open()
        except sqlite3.OperationalError as error:
            self._db.close()
            if "locked" not in str(error):
                raise
            raise BufferInUseError(
                f"{path} is in use by another agent (run one agent per buffer directory)"
            ) from None

    def _open(self) -> None:
        with self._lock:
            # Held until closed: two agents sharing a buffer would push every result twice.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            # WAL + NORMAL: a crash may lose the last moments, never corrupt the file.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._count = self._scalar("SELECT COUNT(*) FROM results")
            self._dropped = self._scalar("SELECT value FROM counters WHERE name = 'dropped'")
            self._append([])  # trims a file reopened with a smaller bound

    @property
    def dropped(self) -> int:
        """Results deleted unsent because the buffer was full, over the file's lifetime."""
        return self._dropped

    @property
    def max_items(self) -> int:
        """The most results kept."""
        return self._max_items

    async def append(self, payloads: Iterable[str]) -> None:
        """Add payloads after the newest; past the bound the oldest are dropped and counted."""
        rows = [(payload,) for payload in payloads]
        if rows:
            await asyncio.to_thread(self._call, self._append, rows)

    async def peek(self, n: int) -> list[tuple[int, str]]:
        """Return the oldest ``n`` (id, payload) pairs, oldest first, without removing them."""
        return await asyncio.to_thread(self._call, self._peek, n)

    async def remove(self, ids: Sequence[int]) -> None:
        """Delete the given ids (ones already gone are ignored)."""
        if ids:
            await asyncio.to_thread(self._call, self._remove, list(ids))

    async def count(self) -> int:
        """Return how many results are buffered."""
        return self._count

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    def _call(self, operation: Callable[..., T], *args: object) -> T:
        with self._lock:
            return operation(*args)

    def _append(self, rows: list[tuple[str]]) -> None:
        excess = max(0, self._count + len(rows) - self._max_items)
        with self._transaction():
            self._db.executemany("INSERT INTO results (payload) VALUES (?)", rows)
            if excess:
                self._delete_oldest(excess)
        # Counted only once committed, so a failed write leaves the counts true.
        self._count += len(rows) - excess
        if excess:
            self._dropped += excess
            log.warning(
                "result buffer full (%d): dropped the %d oldest results (%d dropped in all)",
                self._max_items, excess, self._dropped,
            )  # fmt: skip

    def _delete_oldest(self, n: int) -> None:
        self._db.execute(
            "DELETE FROM results WHERE id IN (SELECT id FROM results ORDER BY id LIMIT ?)", (n,)
        )
        self._db.execute("UPDATE counters SET value = value + ? WHERE name = 'dropped'", (n,))

    def _peek(self, n: int) -> list[tuple[int, str]]:
        cursor = self._db.execute("SELECT id, payload FROM results ORDER BY id LIMIT ?", (n,))
        return [(int(row[0]), str(row[1])) for row in cursor]

    def _remove(self, ids: list[int]) -> None:
        removed = 0
        with self._transaction():
            # Chunks stay under SQLite's limit on bound parameters.
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"DELETE FROM results WHERE id IN ({marks})"
                removed += self._db.execute(sql, chunk).rowcount
        self._count -= removed

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")  # may fail too (disk full): then roll back as well
        except BaseException:
            # SQLite may have rolled back already (e.g. on an I/O error); a transaction left
            # open would make every later BEGIN fail, so the buffer would never work again.
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _scalar(self, sql: str) -> int:
        row = self._db.execute(sql).fetchone()
        return int(row[0]) if row else 0
