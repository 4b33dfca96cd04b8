"""The engine leader election on PostgreSQL: one leader, fast hand-over, bounded retries."""

from __future__ import annotations

import asyncio
import logging
import socket

import asyncpg  # type: ignore[import-untyped]
import pytest

from monitor.cluster import leader_sql as sql
from monitor.cluster.leader_connection import LeaderConnection, connect_leader
from monitor.cluster.leadership import Leadership
from monitor.storage.database import Database
from tests.cluster.leader_support import (
    DSN,
    STOP_S,
    Candidate,
    MakeCandidate,
    Recorder,
    admin_query,
    candidates,
    eventually,
    leader_database,
    leader_row,
)

pytestmark = pytest.mark.postgres
__all__ = ["candidates", "leader_database"]  # fixtures, imported for pytest

LEASE = 0.6


def _leader_of(*pair: Candidate) -> Candidate:
    leaders = [c for c in pair if c.leadership.is_leader]
    assert len(leaders) == 1, [c.name for c in leaders]
    return leaders[0]


async def test_exactly_one_of_two_is_elected_and_each_election_adds_one(
    candidates: MakeCandidate,
) -> None:
    first, second = candidates("a:1"), candidates("b:2")
    await eventually(lambda: first.leadership.is_leader or second.leadership.is_leader)
    await asyncio.sleep(3 * LEASE)  # several renewals and standby polls: still only one
    leader = _leader_of(first, second)
    standby = second if leader is first else first
    assert leader.epochs == [1] and standby.epochs == []
    assert leader.registry.get_sample_value("exwatch_engine_leader") == 1
    assert standby.registry.get_sample_value("exwatch_engine_leader") == 0
    row = await leader_row()
    assert (row["epoch"], row["holder"]) == (1, leader.name)

    await asyncio.wait_for(leader.leadership.stop(), STOP_S)
    await eventually(lambda: standby.leadership.is_leader)
    assert standby.epochs == [2] and standby.leadership.epoch == 2
    assert standby.registry.get_sample_value("exwatch_engine_elections_total") == 1
    assert leader.recorder.deposed[0][0] == "stopped"


async def test_a_leader_whose_connection_is_killed_is_replaced_within_two_leases(
    candidates: MakeCandidate,
) -> None:
    first = candidates("a:1")
    await eventually(lambda: first.leadership.is_leader)
    second = candidates("b:2")
    await asyncio.sleep(LEASE)
    assert not second.leadership.is_leader

    pid = (await leader_row())["backend_pid"]
    assert await admin_query("SELECT pg_terminate_backend($1)", pid)
    took = await eventually(lambda: second.leadership.is_leader)
    assert took < 2 * LEASE
    assert second.epochs == [2]
    await eventually(lambda: bool(first.recorder.deposed))
    assert not first.leadership.is_leader
    assert "renewal failed" in first.recorder.deposed[0][0]


async def test_stop_hands_over_at_once_not_after_the_lease(candidates: MakeCandidate) -> None:
    lease = 4.0
    first = candidates("a:1", lease=lease)
    await eventually(lambda: first.leadership.is_leader)
    second = candidates("b:2", lease=lease)
    await asyncio.sleep(0.2)

    await asyncio.wait_for(first.leadership.stop(), STOP_S)
    took = await eventually(lambda: second.leadership.is_leader)
    assert took < lease / 2  # the standby's next poll (lease/4), not the lease running out
    ((reason, deposed_at),) = first.recorder.deposed
    assert reason == "stopped"
    assert deposed_at < second.recorder.elected[0][1]  # the old leader stopped working first


async def test_an_unreachable_database_is_retried_quietly_until_it_answers(
    leader_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    attempts: list[str] = []

    async def connect(dsn: str) -> LeaderConnection:
        attempts.append(dsn)
        # Refused five times (a closed port), then the database is back.
        return await connect_leader(DSN if len(attempts) > 5 else dsn)

    recorder = Recorder()
    leadership = Leadership(
        f"postgresql+asyncpg://postgres@127.0.0.1:{port}/exwatch",
        "a:1",
        on_elected=recorder.on_elected,
        on_deposed=recorder.on_deposed,
        lease=0.4,
        connect=connect,
    )
    caplog.set_level(logging.DEBUG, logger="monitor.cluster.leadership")
    leadership.start()
    try:
        await eventually(lambda: leadership.is_leader)
    finally:
        await asyncio.wait_for(leadership.stop(), STOP_S)

    assert len(attempts) == 6 and f":{port}/exwatch" in attempts[0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings  # one line for the whole outage, not one per attempt
    assert "failed, retrying until it works" in warnings[0]
    assert any("works again after 5 failures" in r.getMessage() for r in caplog.records)
    assert recorder.elected == [(1, recorder.elected[0][1])]


async def test_a_failing_on_elected_steps_down_and_tries_again_later(
    leader_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    deposed: list[str] = []

    async def on_elected(epoch: int) -> None:
        calls.append(epoch)
        if len(calls) == 1:
            raise RuntimeError("engine would not start")

    async def on_deposed(reason: str) -> None:
        deposed.append(reason)

    leadership = Leadership(DSN, "a:1", on_elected=on_elected, on_deposed=on_deposed, lease=LEASE)
    leadership.start()
    try:
        await eventually(lambda: len(calls) == 2)
        assert leadership.is_leader and leadership.epoch == 2
    finally:
        await asyncio.wait_for(leadership.stop(), STOP_S)
    assert calls == [1, 2]
    assert deposed[0].startswith("on_elected failed: RuntimeError")
    assert deposed[1] == "stopped"
    assert not leadership.is_leader


async def test_the_lease_is_renewed_while_a_slow_on_elected_runs(
    leader_database: Database,
) -> None:
    recorder = Recorder()

    async def slow_start(epoch: int) -> None:
        await asyncio.sleep(3 * LEASE)  # an engine loading its state
        await recorder.on_elected(epoch)

    leadership = Leadership(
        DSN, "a:1", on_elected=slow_start, on_deposed=recorder.on_deposed, lease=LEASE
    )
    leadership.start()
    try:
        await eventually(lambda: bool(recorder.elected))
        await asyncio.sleep(LEASE)
        assert leadership.is_leader and leadership.epoch == 1
        assert recorder.deposed == []
    finally:
        await asyncio.wait_for(leadership.stop(), STOP_S)
    assert [reason for reason, _ in recorder.deposed] == ["stopped"]


async def test_a_lock_holder_that_never_writes_the_row_is_ended_after_a_lease(
    candidates: MakeCandidate,
) -> None:
    # Like an engine paused between taking the lock and bumping the epoch.
    stuck = await asyncpg.connect(DSN, timeout=5)
    try:
        assert await stuck.fetchval(sql.TRY_LOCK, sql.LOCK_KEY)
        waiting = candidates("b:2")
        await asyncio.sleep(LEASE / 2)
        assert not waiting.leadership.is_leader  # quiet for less than a lease: left alone
        took = await eventually(lambda: waiting.leadership.is_leader)
        assert took < 2 * LEASE
        assert waiting.epochs == [1]
        assert stuck.is_closed() or not await _answers(stuck)
    finally:
        stuck.terminate()


async def _answers(connection: asyncpg.Connection) -> bool:
    try:
        await connection.fetchval("SELECT 1", timeout=2)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False
    return True
