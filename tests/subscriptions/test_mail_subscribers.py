"""The dispatcher's narrow subscriber read gives the same mail as the full row (#6)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from monitor.storage.database import Database
from monitor.storage.subscribers import (
    ACTIVE,
    ID_LIST_SIZES,
    PENDING,
    get_subscriber,
    mail_subscribers_by_ids,
)
from monitor.storage.tables import subscribers
from monitor.subscriptions import Choice, Requested, Subscription
from tests.subscriptions.support import new_service, token_of
from tests.support import FakeClock


async def test_a_mail_row_matches_the_full_row(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    outcome = await service.subscribe("bob@example.com", Choice("ja", ("spot",)), "c")
    assert isinstance(outcome, Requested)
    mail = await service.confirmation_mail(outcome.subscriber_id)
    assert mail is not None
    confirmed = await service.confirm(token_of(mail.confirm_url))
    assert isinstance(confirmed, Subscription)
    pending = await service.subscribe("carol@example.com", Choice("en", None), "d")
    assert isinstance(pending, Requested)
    wanted = [outcome.subscriber_id, pending.subscriber_id, 999_999]
    async with database.transaction() as session:
        found = await mail_subscribers_by_ids(session=session, subscriber_ids=wanted)
        full = await get_subscriber(session=session, subscriber_id=outcome.subscriber_id)
    assert sorted(found) == [outcome.subscriber_id, pending.subscriber_id]  # unknown id: absent
    assert full is not None
    row = found[outcome.subscriber_id]
    assert (row.address, row.nonce, row.state, row.language) == (
        full.address, full.nonce, ACTIVE, "ja",
    )  # fmt: skip
    assert found[pending.subscriber_id].state == PENDING
    assert service.mail_links(row) == service.mail_links(full)


async def test_no_ids_read_nothing(database: Database) -> None:
    async with database.transaction() as session:
        assert await mail_subscribers_by_ids(session=session, subscriber_ids=[]) == {}


async def test_any_number_of_ids_reads_each_subscriber_once(database: Database) -> None:
    now = datetime.now(UTC)
    count = ID_LIST_SIZES[-1] + 40  # more than one query's worth
    async with database.transaction() as session:
        await session.execute(insert(subscribers), [
            {"address": f"user{i}@example.com", "nonce": f"{i:032x}", "state": ACTIVE,
             "language": "en", "all_components": True, "created_at": now, "updated_at": now}
            for i in range(count)
        ])  # fmt: skip
        ids = list(await session.scalars(select(subscribers.c.id).order_by(subscribers.c.id)))
    async with database.transaction() as session:
        for wanted in (ids[:1], ids[:9], ids[5:517], ids, [*ids[:3], ids[0], 10**9]):
            found = await mail_subscribers_by_ids(session=session, subscriber_ids=wanted)
            assert sorted(found) == sorted(set(wanted) & set(ids))
            assert all(found[i].address == f"user{i - ids[0]}@example.com" for i in found)
