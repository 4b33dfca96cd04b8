"""A full outbox is sent batch after batch in one run, each claimed while the last still sends."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select, update

from monitor.domain import ComponentStatus
from monitor.storage.database import Database
from monitor.storage.tables import deliveries, incidents
from notifiers.channel import Delivery, SendOutcome
from notifiers.dispatcher import MAX_BATCHES_AT_ONCE, NOTICE_MAX_AGE
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


async def rename_incident(database: Database, name: str) -> None:
    async with database.transaction() as session:
        await session.execute(update(incidents).values(name_en=name))


async def test_a_fan_out_reads_its_incident_again_once_the_notice_is_a_second_old(
    database: Database, clock: FakeClock
) -> None:
    outbox = await full_outbox(database, clock, subscribers=40)  # more than one run sends
    email = outbox.channels["email"]
    record = email.send
    one_at_a_time = asyncio.Lock()  # each step below is done before another send goes on

    async def send(delivery: Delivery) -> SendOutcome:
        async with one_at_a_time:
            if not email.sent:  # during the first batch: renamed, the clock standing still
                await rename_incident(database, "Renamed")
            if len(email.sent) == 3 * BATCH:  # later: the notice is a second old
                clock.advance(NOTICE_MAX_AGE.total_seconds())
            return await record(delivery)

    email.send = send  # type: ignore[method-assign]
    await outbox.dispatcher.run_once()
    # In the order the batches were claimed and prepared (by id), not the order of sending.
    mails = sorted(email.sent, key=lambda d: d.id)
    titles = [d.notice.incident.title.en for d in mails if d.notice.incident is not None]
    first_renamed = titles.index("Renamed")
    # Batches prepared within the second share one read of the incident (the old name, though
    # it changed during the first batch); the first batch prepared once the clock moved on has
    # the new name, and so does every one after it.
    assert first_renamed >= 3 * BATCH
    assert set(titles[:first_renamed]) == {"Outage"}
    assert set(titles[first_renamed:]) == {"Renamed"}
    # A new run reads the incident again, however little time has passed.
    email.send = record  # type: ignore[method-assign]
    await rename_incident(database, "Renamed again")
    email.sent.clear()
    await outbox.dispatcher.run_once()
    assert {d.notice.incident.title.en for d in email.sent if d.notice.incident} == {
        "Renamed again"
    }
