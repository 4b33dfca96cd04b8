"""A full outbox is sent batch after batch in one run, each claimed while the last still sends."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from monitor.domain import ComponentStatus
from monitor.storage.database import Database
from monitor.storage.tables import deliveries
from notifiers.dispatcher import MAX_BATCHES_AT_ONCE
from tests.notifiers.outbox_support import NOTIFICATIONS, Outbox, outbox_config
from tests.support import FakeClock

BATCH = 3


async def full_outbox(database: Database, clock: FakeClock, subscribers: int) -> Outbox:
    """An incident mailing ``subscribers`` people, claimed BATCH deliveries at a time."""
    delivery = {**NOTIFICATIONS["delivery"], "batch": BATCH}
    outbox = Outbox(database, outbox_config(delivery=delivery), clock)
    await outbox.engine.start()
    for number in range(subscribers):
        await outbox.subscribe(f"person{number}@example.com")
    await outbox.open_manual({"btc-trading": ComponentStatus.MAJOR_OUTAGE}, severity="critical")
    return outbox


async def test_one_run_sends_every_batch_it_claims_and_stops_after_its_limit(
    database: Database, clock: FakeClock
) -> None:
    outbox = await full_outbox(database, clock, subscribers=40)
    planned = len(await outbox.rows())
    assert planned > BATCH * MAX_BATCHES_AT_ONCE  # more than one run takes
    claimed = await outbox.dispatcher.run_once()
    assert claimed == BATCH * MAX_BATCHES_AT_ONCE
    async with database.transaction() as session:
        leased = await session.scalar(
            select(deliveries.c.id).where(deliveries.c.lease_owner.is_not(None)).limit(1)
        )
    assert leased is None  # nothing claimed was left unsent, waiting for its lease to run out
    sent = sum(len(channel.sent) for channel in outbox.channels.values())
    assert sent == claimed


async def test_a_fan_out_over_many_runs_sends_each_delivery_once(
    database: Database, clock: FakeClock
) -> None:
    outbox = await full_outbox(database, clock, subscribers=70)
    await outbox.drain(rounds=50)
    rows = await outbox.rows()
    assert {row.status for row in rows} == {"sent"}
    sent = Counter(d.id for channel in outbox.channels.values() for d in channel.sent)
    assert set(sent) == {row.id for row in rows} and set(sent.values()) == {1}
