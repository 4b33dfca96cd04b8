"""One engine candidate in its own process, for the pause drill: prints its events as JSON lines.

``python -m tests.cluster.leader_process URL HOLDER LEASE``. On deposition it tries one fenced
write with the epoch it led with and prints whether the database refused it. Stops on SIGTERM
(or after a minute, so a forgotten process cannot linger).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

from monitor.cluster.fencing import Fence, StaleLeaderError
from monitor.cluster.leadership import Leadership
from monitor.storage.database import Database

LIFETIME_S = 60.0
STOP_S = 20.0


def emit(event: str, **fields: Any) -> None:
    """Print one event as a JSON line, at once."""
    print(json.dumps({"event": event, **fields}), flush=True)


async def fenced_write(database: Database, epoch: int) -> None:
    """Try a write fenced with ``epoch``; report whether it was refused."""
    try:
        async with database.transaction() as session:
            await Fence(epoch).check(session)
    except StaleLeaderError as error:
        emit("write", refused=str(error))
    else:
        emit("write", refused=None)


async def main(url: str, holder: str, lease: float) -> None:
    """Campaign until SIGTERM."""
    database = Database(url)
    led: list[int] = []

    async def on_elected(epoch: int) -> None:
        led.append(epoch)
        emit("elected", epoch=epoch)

    async def on_deposed(reason: str) -> None:
        emit("deposed", reason=reason)
        await fenced_write(database, led[-1])

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    leadership = Leadership(url, holder, on_elected=on_elected, on_deposed=on_deposed, lease=lease)
    leadership.start()
    emit("started")
    with contextlib.suppress(TimeoutError):  # lived its full minute: stop all the same
        await asyncio.wait_for(stop.wait(), LIFETIME_S)
    await asyncio.wait_for(leadership.stop(), STOP_S)
    await database.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
