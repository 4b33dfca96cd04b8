"""The fencing token: a stale epoch is refused, and FOR SHARE orders writes and elections."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.exc import DBAPIError

from monitor.cluster.fencing import Fence, StaleLeaderError, check_epoch
from monitor.cluster.leader_sql import LOCK_CLASSID, LOCK_OBJID
from monitor.storage.database import Database
from tests.cluster.leader_support import (
    STOP_S,
    MakeCandidate,
    admin_query,
    candidates,
    eventually,
    leader_database,
)

pytestmark = pytest.mark.postgres
__all__ = ["candidates", "leader_database"]  # fixtures, imported for pytest

HOLDERS_OF_THE_LEADER_LOCK = f"""
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
AND classid = {LOCK_CLASSID} AND objid = {LOCK_OBJID} AND objsubid = 1
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


async def test_the_current_epoch_passes_and_an_old_one_is_refused_after_an_election(
    leader_database: Database, candidates: MakeCandidate
) -> None:
    first = candidates("a:1")
    await eventually(lambda: first.leadership.is_leader)
    async with leader_database.transaction() as session:
        await check_epoch(session, 1)
        await Fence(1).check(session)

    second = candidates("b:2")
    await asyncio.wait_for(first.leadership.stop(), STOP_S)
    await eventually(lambda: second.leadership.is_leader)
    with pytest.raises(StaleLeaderError, match="epoch 1, current is 2") as raised:
        async with leader_database.transaction() as session:
            await Fence(1).check(session)
    assert (raised.value.mine, raised.value.current) == (1, 2)
    async with leader_database.transaction() as session:
        await Fence(2).check(session)


async def test_a_fence_without_an_epoch_refuses_every_write(leader_database: Database) -> None:
    with pytest.raises(StaleLeaderError, match="not the engine leader"):
        async with leader_database.transaction() as session:
            await Fence().check(session)


async def test_an_election_waits_for_a_write_that_already_checked_the_epoch(
    leader_database: Database, candidates: MakeCandidate
) -> None:
    first = candidates("a:1")
    await eventually(lambda: first.leadership.is_leader)
    lease = 4.0  # the election ends idle blockers only after lease/4 = 1 s; this write is faster
    async with leader_database.transaction() as session:
        await check_epoch(session, 1)  # holds the row FOR SHARE until this transaction ends
        await asyncio.wait_for(first.leadership.stop(), STOP_S)
        second = candidates("b:2", lease=lease)  # the lock is free: only the row holds it back
        await asyncio.sleep(0.5)
        assert await admin_query(HOLDERS_OF_THE_LEADER_LOCK) == 1  # "b" has the lock …
        assert not second.leadership.is_leader  # … but its epoch bump waits for this write
        committing_at = time.monotonic()
    await eventually(lambda: second.leadership.is_leader)
    ((epoch, elected_at),) = second.recorder.elected
    assert epoch == 2 and elected_at > committing_at


async def test_a_paused_writer_holding_the_epoch_is_ended_so_the_election_proceeds(
    leader_database: Database, candidates: MakeCandidate
) -> None:
    first = candidates("a:1")
    await eventually(lambda: first.leadership.is_leader)
    lease = 0.8
    with pytest.raises(DBAPIError, match="connection is closed"):
        async with leader_database.transaction() as session:
            await check_epoch(session, 1)
            await asyncio.wait_for(first.leadership.stop(), STOP_S)
            second = candidates("b:2", lease=lease)
            # This transaction now sits idle, like a leader SIGSTOPped in the middle of a write.
            took = await eventually(lambda: second.leadership.is_leader)
    assert took < lease
    assert second.epochs == [2]
