"""The agent's disk buffer: FIFO order, the bound, persistence, and a property over any ops."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.agent import BufferInUseError, DiskBuffer


async def payloads(buffer: DiskBuffer) -> list[str]:
    return [payload for _, payload in await buffer.peek(1_000_000)]


async def test_it_keeps_order_and_removes_by_id(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path / "b.sqlite3", max_items=10)
    await buffer.append(["1", "2", "3"])
    oldest = await buffer.peek(2)
    assert [p for _, p in oldest] == ["1", "2"]
    await buffer.remove([oldest[0][0], 999])  # an id that is not there is ignored
    assert await payloads(buffer) == ["2", "3"]
    assert await buffer.count() == 2
    buffer.close()


async def test_past_the_bound_the_oldest_are_dropped_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    buffer = DiskBuffer(tmp_path / "b.sqlite3", max_items=3)
    with caplog.at_level(logging.WARNING, logger="monitor.agent.buffer"):
        await buffer.append(["1", "2"])
        await buffer.append(["3", "4", "5"])
    assert await payloads(buffer) == ["3", "4", "5"]
    assert buffer.dropped == 2
    assert "dropped the 2 oldest" in caplog.text
    await buffer.append(["6"] * 5)  # more than the bound in one go
    assert await payloads(buffer) == ["6", "6", "6"]
    assert (await buffer.count(), buffer.dropped) == (3, 7)
    buffer.close()


async def test_contents_and_drops_survive_a_restart_and_ids_never_repeat(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "b.sqlite3"
    buffer = DiskBuffer(path, max_items=2)
    await buffer.append(["1", "2", "3"])
    last_id = (await buffer.peek(10))[-1][0]
    buffer.close()

    reopened = DiskBuffer(path, max_items=2)
    assert (await payloads(reopened), reopened.dropped) == (["2", "3"], 1)
    await reopened.remove([i for i, _ in await reopened.peek(10)])
    await reopened.append(["4"])
    assert (await reopened.peek(1))[0][0] > last_id  # a removed id is never handed out again
    reopened.close()

    smaller = DiskBuffer(path, max_items=1)
    await smaller.append(["5"])
    assert (await payloads(smaller), smaller.dropped) == (["5"], 2)
    smaller.close()


class FailingCommit:
    """A connection whose next COMMIT fails, as on a full disk."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.failures = 1

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def test_a_failed_commit_changes_nothing_and_the_buffer_works_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = DiskBuffer(tmp_path / "b.sqlite3", max_items=10)
    await buffer.append(["1", "2"])
    monkeypatch.setattr(buffer, "_db", FailingCommit(buffer._db))
    ids = [i for i, _ in await buffer.peek(2)]
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await buffer.remove(ids[:1])
    assert (await payloads(buffer), await buffer.count()) == (["1", "2"], 2)
    await buffer.remove(ids[:1])  # no transaction left open to refuse the next one
    await buffer.append(["3"])
    assert (await payloads(buffer), await buffer.count()) == (["2", "3"], 2)
    buffer.close()


def test_two_agents_cannot_share_a_buffer(tmp_path: Path) -> None:
    first = DiskBuffer(tmp_path / "b.sqlite3", max_items=3)
    with pytest.raises(BufferInUseError, match="in use by another agent"):
        DiskBuffer(tmp_path / "b.sqlite3", max_items=3)
    first.close()
    DiskBuffer(tmp_path / "b.sqlite3", max_items=3).close()  # free again once closed


Op = tuple[str, list[int]]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.lists(st.integers(0, 999), max_size=6)),
        st.tuples(st.just("remove"), st.lists(st.integers(0, 20), max_size=4)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(max_items=st.integers(1, 8), operations=ops)
def test_it_holds_the_newest_up_to_the_bound_in_order(max_items: int, operations: list[Op]) -> None:
    asyncio.run(_check_against_a_model(max_items, operations))


async def _check_against_a_model(max_items: int, operations: list[Op]) -> None:
    """Replay ``operations`` on a buffer and on a plain list; they must agree after each."""
    with tempfile.TemporaryDirectory() as directory:
        buffer = DiskBuffer(Path(directory) / "b.sqlite3", max_items)
        model: list[str] = []
        dropped = 0
        try:
            for step, (op, values) in enumerate(operations):
                held = await buffer.peek(max_items + 1)
                if op == "append":
                    new = [f"{step}.{n}:{v}" for n, v in enumerate(values)]  # unique payloads
                    await buffer.append(new)
                    model += new
                    excess = max(0, len(model) - max_items)
                    model, dropped = model[excess:], dropped + excess
                else:
                    # Positions into what is held; those past the end stand for ids never seen.
                    ids = [held[i][0] if i < len(held) else 10_000 + i for i in values]
                    await buffer.remove(ids)
                    gone = {held[i][1] for i in values if i < len(held)}
                    model = [payload for payload in model if payload not in gone]
                rows = await buffer.peek(max_items + 1)
                assert [payload for _, payload in rows] == model
                assert [i for i, _ in rows] == sorted({i for i, _ in rows})  # ids increase
                assert (await buffer.count(), buffer.dropped) == (len(model), dropped)
        finally:
            buffer.close()
