"""A dispatcher in its own process, for the crash test: ``python -m tests.notifiers.crash_worker
DATABASE_URL SMTP_PORT``. It sends the outbox through the real email channel until nothing is
left to send, then exits 0; the test SIGKILLs it at random points on the way.
"""

from __future__ import annotations

import asyncio
import sys

from prometheus_client import CollectorRegistry

from monitor.ack_links import AckLinks
from monitor.clock import SystemClock
from monitor.storage.database import Database
from monitor.storage.deliveries import delivery_counts
from monitor.subscriptions.service import SubscriptionService
from notifiers.email import build_email_channel
from notifiers.service import NotificationService
from tests.notifiers.outbox_support import KEY, SITE_URL, crash_config


async def main(url: str, port: int) -> None:
    """Dispatch until no delivery is pending."""
    config = crash_config(port)
    database = Database(url)
    clock = SystemClock()
    channel = build_email_channel(config, {})
    assert channel is not None
    service = NotificationService(
        database=database, config=config, clock=clock, channels={"email": channel},
        subscriptions=SubscriptionService(database, config, clock, key=KEY),
        acks=AckLinks(KEY, SITE_URL), registry=CollectorRegistry(),
    )  # fmt: skip
    try:
        while await _pending(database):
            if await service.dispatcher.run_once() == 0:
                await asyncio.sleep(0.2)  # leases of a killed predecessor are running out
    finally:
        await service.stop()
        await database.close()


async def _pending(database: Database) -> int:
    async with database.transaction() as session:
        counts = await delivery_counts(session=session)
    return sum(n for (_, status), n in counts.items() if status == "pending")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
