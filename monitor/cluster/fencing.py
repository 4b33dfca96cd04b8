"""The fencing token: engine writes carry the leader's epoch and are refused once it is stale.

Every election bumps ``engine_leader.epoch`` (``monitor.cluster.leadership``). An engine
transaction first reads that epoch ``FOR SHARE`` and compares it with the one its process was
elected with. The row lock is what makes this a fence rather than a hint:

- a new leader's bump (an UPDATE of the same row) waits until every transaction holding the row
  FOR SHARE has finished, so a write the old leader had already checked commits *before* the new
  epoch exists, never after it;
- once the bump has committed, the old leader's next transaction reads the new epoch and raises
  StaleLeaderError, so a leader paused past its lease cannot write when it wakes up, even before
  its own renewal loop notices it was deposed.

(A transaction left open by a paused old leader would hold up the bump; the election ends such
idle transactions after a quarter of the lease.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.storage.tables import engine_leader
from monitor.write_refused import WriteRefusedError


class StaleLeaderError(WriteRefusedError):
    """An engine write from a process that is no longer (or not) the leader."""

    def __init__(self, mine: int | None, current: int | None) -> None:
        self.mine = mine
        self.current = current
        if mine is None:
            message = "this process is not the engine leader"
        else:
            message = f"stale engine leader: this process has epoch {mine}, current is {current}"
        super().__init__(message)


async def check_epoch(session: AsyncSession, epoch: int) -> None:
    """Raise StaleLeaderError unless ``epoch`` is current; hold the row FOR SHARE till commit."""
    current = await session.scalar(
        select(engine_leader.c.epoch).where(engine_leader.c.id == 1).with_for_update(read=True)
    )
    if current != epoch:
        raise StaleLeaderError(epoch, current)


class Fence:
    """The epoch this process leads with (None: not leader); the engine checks writes with it."""

    def __init__(self, epoch: int | None = None) -> None:
        self.epoch = epoch

    async def check(self, session: AsyncSession) -> None:
        """Raise StaleLeaderError unless this process leads with the current epoch."""
        if self.epoch is None:
            raise StaleLeaderError(None, None)
        await check_epoch(session, self.epoch)
