"""The subscription service on SQLite and PostgreSQL: double opt-in, tokens, limits, mail, purge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from monitor.storage.database import Database
from monitor.storage.subscribers import ACTIVE, PENDING, UNSUBSCRIBED, get_subscriber
from monitor.storage.tables import subscriber_components, subscribers, timeline_events
from monitor.subscriptions import (
    REQUESTED_EVENT,
    Choice,
    Refused,
    Rejection,
    Requested,
    Subscription,
    SubscriptionLimits,
    SubscriptionService,
)
from tests.subscriptions.support import SITE_URL, new_service, token_of
from tests.support import FakeClock

ADDRESS = "alice@example.com"
SPOT = Choice("en", ("spot",))


async def requested(service: SubscriptionService, choice: Choice = SPOT, **kw: str) -> int:
    outcome = await service.subscribe(kw.get("address", ADDRESS), choice, kw.get("client", "c"))
    assert isinstance(outcome, Requested)
    return outcome.subscriber_id


async def confirm_token(service: SubscriptionService, subscriber_id: int) -> str:
    mail = await service.confirmation_mail(subscriber_id)
    assert mail is not None
    return token_of(mail.confirm_url)


async def count(database: Database, table: object) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def test_a_request_is_pending_until_confirmed(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    subscriber_id = await requested(service)
    assert await service.recipients(["spot"]) == []  # nobody is mailed before confirming
    mail = await service.confirmation_mail(subscriber_id)
    assert mail is not None
    assert (mail.address, mail.choice) == (ADDRESS, SPOT)
    assert mail.confirm_url.startswith(f"{SITE_URL}/subscribe/confirm?token=c.")
    assert mail.expires_at == clock.now() + timedelta(hours=48)
    assert await service.confirmation_mail(subscriber_id) == mail  # minted again: the same link

    confirmed = await service.confirm(token_of(mail.confirm_url))
    assert isinstance(confirmed, Subscription)
    assert (confirmed.state, confirmed.choice) == (ACTIVE, SPOT)
    assert [r.address for r in await service.recipients(["spot"])] == [ADDRESS]
    assert await service.recipients(["website"]) == []
    assert await service.confirmation_mail(subscriber_id) is None  # nothing left to confirm


async def test_confirming_twice_gives_the_same_answer(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    token = await confirm_token(service, await requested(service))
    first = await service.confirm(token)
    clock.advance(60)
    again = await service.confirm(token)
    assert isinstance(first, Subscription) and isinstance(again, Subscription)
    assert (again.state, again.choice) == (first.state, first.choice)


async def test_the_timeline_event_names_the_subscriber_and_language_only(
    database: Database, clock: FakeClock
) -> None:
    service = new_service(database, clock)
    subscriber_id = await requested(service, Choice("ja", None))
    async with database.transaction() as session:
        [event] = (await session.execute(select(timeline_events))).all()
    assert event.kind == REQUESTED_EVENT == "subscription_confirmation_requested"
    assert event.data == {"subscriber_id": subscriber_id, "language": "ja"}
    assert (event.at, event.actor, event.incident_id) == (clock.now(), "subscriber", None)
    token = await confirm_token(service, subscriber_id)
    assert ADDRESS not in repr(tuple(event)) and token not in repr(tuple(event))


async def test_subscribing_again_changes_nothing_until_the_new_link_is_followed(
    database: Database, clock: FakeClock
) -> None:
    service = new_service(database, clock)
    subscriber_id = await requested(service, SPOT)
    first = await confirm_token(service, subscriber_id)
    assert isinstance(await service.confirm(first), Subscription)

    again = await requested(service, Choice("ja", None), address="  ALICE@Example.com")
    assert again == subscriber_id  # one row per normalised address
    assert await count(database, subscribers) == 1
    [row] = await service.recipients(["spot"])
    assert (row.language, row.components) == ("en", ("spot",))  # unchanged so far
    assert await service.recipients(["website"]) == []

    second = await confirm_token(service, subscriber_id)
    assert second != first
    assert await service.confirm(first) is not Rejection.INVALID  # the old link: already done
    confirmed = await service.confirm(second)
    assert isinstance(confirmed, Subscription)
    assert confirmed.choice == Choice("ja", None)
    assert [r.id for r in await service.recipients(["website"])] == [subscriber_id]


async def test_an_older_link_never_applies_a_newer_request(
    database: Database, clock: FakeClock
) -> None:
    service = new_service(database, clock)
    subscriber_id = await requested(service, SPOT)
    older = await confirm_token(service, subscriber_id)
    await requested(service, Choice("ja", ("website",)))  # anyone may ask, for any address
    assert await service.confirm(older) is Rejection.INVALID
    newer = await confirm_token(service, subscriber_id)
    confirmed = await service.confirm(newer)
    assert isinstance(confirmed, Subscription) and confirmed.choice.components == ("website",)


async def test_confirmation_links_expire(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    subscriber_id = await requested(service)
    token = await confirm_token(service, subscriber_id)
    clock.advance(48 * 3600)
    assert await service.confirm(token) is Rejection.EXPIRED
    assert await service.confirmation_mail(subscriber_id) is None  # too late to send it


async def test_manage_update_and_unsubscribe(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    confirmed = await service.confirm(await confirm_token(service, await requested(service)))
    assert isinstance(confirmed, Subscription)
    manage = confirmed.manage_token
    assert await service.confirm(manage) is Rejection.INVALID  # purposes do not mix
    updated = await service.update(manage, Choice("ja", ("btc-withdrawals", "website")))
    assert isinstance(updated, Subscription)
    assert updated.choice == Choice("ja", ("btc-withdrawals", "website"))
    assert await service.recipients(["spot"]) == []
    assert len(await service.recipients(["website", "btc-withdrawals"])) == 1

    left = await service.unsubscribe(manage)
    assert isinstance(left, Subscription) and left.state == UNSUBSCRIBED
    assert await service.recipients(["website"]) == []
    again = await service.unsubscribe(manage)
    assert isinstance(again, Subscription) and again.state == UNSUBSCRIBED  # idempotent
    back = await service.update(manage, Choice("en", None))
    assert isinstance(back, Subscription) and back.state == ACTIVE
    assert len(await service.recipients(["spot"])) == 1


async def test_a_pending_request_cannot_be_managed(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    subscriber_id = await requested(service)
    async with database.transaction() as session:
        row = await get_subscriber(session=session, subscriber_id=subscriber_id)
    assert row is not None and row.state == PENDING
    assert await service.subscription(service.manage_token(row)) is Rejection.INVALID


async def test_mail_links_carry_a_manage_token(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    await service.confirm(await confirm_token(service, await requested(service)))
    [row] = await service.recipients(["spot"])
    links = service.mail_links(row)
    assert links.manage_url.startswith(f"{SITE_URL}/subscriptions/manage?token=m.")
    assert links.unsubscribe_url.startswith(f"{SITE_URL}/subscriptions/unsubscribe?token=m.")
    opened = await service.subscription(token_of(links.manage_url))
    assert isinstance(opened, Subscription) and opened.choice == SPOT
    clock.advance(401 * 86400)
    assert await service.subscription(token_of(links.manage_url)) is Rejection.EXPIRED


async def test_tokens_die_with_their_row(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    confirmed = await service.confirm(await confirm_token(service, await requested(service)))
    assert isinstance(confirmed, Subscription)
    assert await service.delete(confirmed.subscriber_id, actor="admin")
    assert await count(database, subscriber_components) == 0
    assert await service.subscription(confirmed.manage_token) is Rejection.INVALID
    # The same address again gets a new row and nonce: the old token opens nothing.
    await requested(service, address=ADDRESS)
    assert await service.subscription(confirmed.manage_token) is Rejection.INVALID
    assert not await service.delete(10**12, actor="admin")


async def test_a_restart_keeps_the_per_address_limit(database: Database, clock: FakeClock) -> None:
    limits = SubscriptionLimits(per_address=3, per_address_window=3600)
    service = new_service(database, clock, limits)
    for client in ("a", "b"):
        await requested(service, client=client)
    restarted = new_service(database, clock, limits)
    await requested(restarted, client="c")
    clock.advance(600)
    refused = await restarted.subscribe(ADDRESS, SPOT, "d")
    assert isinstance(refused, Refused) and refused.scope == "address"
    assert refused.retry_after == 3000
    assert len(await _events(database)) == 3  # no event, no mail for the refused request
    clock.advance(3000)
    assert isinstance(await restarted.subscribe(ADDRESS, SPOT, "d"), Requested)


async def test_the_tick_erases_what_is_no_longer_needed(
    database: Database, clock: FakeClock
) -> None:
    service = new_service(database, clock)
    await requested(service, address="never@example.com")
    confirmed = await service.confirm(await confirm_token(service, await requested(service)))
    assert isinstance(confirmed, Subscription)
    await service.unsubscribe(confirmed.manage_token)
    kept = await requested(service, address="kept@example.com")
    assert isinstance(await service.confirm(await confirm_token(service, kept)), Subscription)
    clock.advance(3 * 86400 - 1)  # the link's 48 h and a day of grace
    await service.tick(clock.now())
    assert await count(database, subscribers) == 3
    clock.advance(2)
    await service.tick(clock.now())
    async with database.transaction() as session:
        left = list((await session.execute(select(subscribers.c.address))).scalars())
    assert sorted(left) == [ADDRESS, "kept@example.com"]
    clock.advance(30 * 86400)
    await service.tick(clock.now())
    async with database.transaction() as session:
        left = list((await session.execute(select(subscribers.c.address))).scalars())
    assert left == ["kept@example.com"]


async def test_counts_by_state_and_language(database: Database, clock: FakeClock) -> None:
    service = new_service(database, clock)
    await requested(service, Choice("ja", None), address="p@example.com")
    await service.confirm(await confirm_token(service, await requested(service)))
    assert await service.counts() == {
        "pending": {"ja": 1}, "active": {"en": 1}, "unsubscribed": {},
    }  # fmt: skip


async def _events(database: Database) -> list[object]:
    async with database.transaction() as session:
        query = select(timeline_events).where(timeline_events.c.kind == REQUESTED_EVENT)
        return list((await session.execute(query)).all())
