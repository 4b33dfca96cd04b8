"""Another process that commits a change and announces it: ``python -m tests.cluster.announce_process URL``.

Prints the id of the timeline event it committed.
"""

from __future__ import annotations

import asyncio
import sys

from monitor.storage.database import Database
from tests.cluster.change_feed_support import append


async def main(url: str) -> None:
    """Commit one announced timeline event in a Database of this process's own."""
    database = Database(url)
    try:
        print(await append(database, announced=True, kind="test.other_process"))
    finally:
        await database.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
