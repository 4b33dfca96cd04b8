"""The transactional outbox: deliveries planned with their event, sent once, retried, dead-lettered."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

from monitor.domain import ComponentStatus, IncidentStatus
from monitor.storage.database import Database
from monitor.storage.deliveries import DEAD, PENDING, SENT, claim_deliveries
from monitor.storage.delivery_outcomes import Finished, finish_deliveries
from monitor.storage.tables import deliveries, timeline_events
from notifiers.channel import SendOutcome
from tests.notifiers.outbox_support import Outbox, outbox_config
from tests.support import FakeClock

JST = timezone(timedelta(hours=9))

MAJOR = ComponentStatus.MAJOR_OUTAGE
TEXT = {"ja": "調査中です", "en": "We are investigating"}


@pytest.fixture
async def outbox(database: Database, clock: FakeClock) -> Outbox:
    box = Outbox(database, outbox_config(), clock)
    await box.engine.start()
    return box


async def test_an_incident_plans_its_deliveries_in_the_same_transaction(outbox: Outbox) -> None:
    everyone = await outbox.subscribe("all@example.com")
    trading = await outbox.subscribe("trader@example.com", components=("btc-trading",))
    await outbox.subscribe("wallets@example.com", components=("btc-withdrawals",))
    await outbox.open_manual({"btc-trading": MAJOR}, severity="critical")
    recipients = await outbox.recipients()
    # The announcement: both interested subscribers, the X account, the ops webhook.
    assert f"subscriber:{everyone}" in recipients
    assert f"subscriber:{trading}" in recipients
    assert not any(r.endswith(":3") for r in recipients if r.startswith("subscriber:"))
    assert "account:ja" in recipients and "webhook:ops" in recipients
    async with outbox.database.transaction() as session:
        events = {e.id: e.kind for e in await session.execute(select(timeline_events))}
        planned = list(await session.execute(select(deliveries.c.event_id).distinct()))
    assert {events[row.event_id] for row in planned} <= {"update_posted", "page"}


async def test_a_rolled_back_transaction_leaves_no_delivery(outbox: Outbox) -> None:
    await outbox.subscribe("all@example.com")
    with pytest.raises(RuntimeError):
        async with outbox.engine.exclusive() as session:
            from monitor.incident_posts import post_update  # noqa: F401 - the writer under test
            from monitor.storage.timeline import append_event

            await append_event(
                session=session,
                at=outbox.clock.now(),
                kind="page",
                data={"targets": ["sre-primary"]},
            )
            raise RuntimeError("the change failed")
    assert await outbox.rows() == []


async def test_each_delivery_is_sent_once_and_marked_with_the_far_side_id(outbox: Outbox) -> None:
    await outbox.subscribe("all@example.com", language="ja")
    await outbox.open_manual({"btc-trading": MAJOR}, severity="moderate")
    claimed = await outbox.drain()
    assert claimed == len(await outbox.rows())
    assert await outbox.drain() == 0  # nothing is sent twice
    sent = await outbox.rows(status="sent")
    assert len(sent) == claimed and all(r.external_id and r.sent_at for r in sent)
    mail = [d for d in outbox.channels["email"].sent if d.recipient.key.startswith("subscriber:")]
    assert len(mail) == 1
    notice = mail[0].notice
    assert notice.kind == "incident_opened" and notice.incident is not None
    assert mail[0].recipient.address == "all@example.com" and mail[0].recipient.language == "ja"
    assert mail[0].links.unsubscribe_url and mail[0].links.unsubscribe_url.startswith(
        "https://status.example.com/subscriptions/unsubscribe?token="
    )
    assert notice.incident.url == f"https://status.example.com/incidents/{notice.incident.id}"


async def test_retryable_failures_back_off_then_dead_letter(outbox: Outbox) -> None:
    webhook = outbox.channels["webhook"]
    webhook.script.extend(SendOutcome.retryable("503 from the far side") for _ in range(3))
    await outbox.open_manual({"btc-trading": MAJOR}, severity="minor")
    await outbox.drain()
    [row] = await outbox.rows(channel="webhook")
    assert (
        row.status == "pending" and row.attempts == 1 and row.last_error == "503 from the far side"
    )
    # Not due yet: equal jitter waits at least half the first step (10s).
    assert row.next_attempt_at >= outbox.clock.now() + timedelta(seconds=5)
    for _ in range(2):
        outbox.clock.advance(120)
        await outbox.drain()
    [row] = await outbox.rows(channel="webhook")
    assert row.status == "dead" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: 503 from the far side"
    assert len(webhook.sent) == 3


async def test_a_permanent_failure_is_dead_at_once(outbox: Outbox) -> None:
    outbox.channels["x"].script.append(SendOutcome.permanent("duplicate content"))
    await outbox.open_manual({"btc-trading": MAJOR}, severity="critical")
    await outbox.drain()
    [row] = await outbox.rows(channel="x")
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "duplicate content")


async def test_x_posts_of_one_incident_go_out_in_order_as_a_thread(outbox: Outbox) -> None:
    x = outbox.channels["x"]
    incident = await outbox.open_manual({"btc-trading": MAJOR}, severity="critical")
    await outbox.responder.post(
        incident, IncidentStatus.IDENTIFIED, TEXT, outbox.clock.now(), actor="alice"
    )
    # The first post fails once: the reply must wait for it, not jump ahead.
    x.script.append(SendOutcome.retryable("timeout"))
    await outbox.drain()
    assert [d.notice.kind for d in x.sent] == ["incident_opened"]
    outbox.clock.advance(60)
    await outbox.drain()
    kinds = [d.notice.kind for d in x.sent]
    assert kinds == ["incident_opened", "incident_opened", "update_posted"]
    first_id = (await outbox.rows(channel="x"))[0].external_id
    assert x.sent[-1].thread == (first_id,)


async def test_a_subscriber_who_left_before_the_send_gets_nothing(outbox: Outbox) -> None:
    subscriber = await outbox.subscribe("gone@example.com")
    await outbox.open_manual({"btc-trading": MAJOR}, severity="minor")
    async with outbox.database.transaction() as session:
        from monitor.storage.subscribers import mark_unsubscribed

        await mark_unsubscribed(session=session, subscriber_id=subscriber, at=outbox.clock.now())
    await outbox.drain()
    [row] = [r for r in await outbox.rows() if r.recipient == f"subscriber:{subscriber}"]
    assert row.status == "dropped" and "unsubscribed" in (row.last_error or "")
    assert not any(d.recipient.key == row.recipient for d in outbox.channels["email"].sent)


async def test_a_page_reaches_each_responder_with_an_ack_link(outbox: Outbox) -> None:
    incident = await outbox.open_manual({"btc-trading": MAJOR}, severity="critical")
    await outbox.drain()
    pages = [d for ch in outbox.channels.values() for d in ch.sent if d.notice.kind == "page"]
    assert sorted(d.recipient.key for d in pages) == ["email:primary@example.com", "webhook:ops"]
    for page in pages:
        assert page.links.ack_url is not None
        claim = outbox.acks.verify(page.links.ack_url.split("token=")[1], outbox.clock.now())
        assert not isinstance(claim, str)
        assert (claim.incident_id, claim.who) == (incident, page.recipient.key)


async def test_a_lease_that_ran_out_belongs_to_the_next_claimer(outbox: Outbox) -> None:
    await outbox.open_manual({"btc-trading": MAJOR}, severity="minor")
    now = outbox.clock.now()
    async with outbox.database.transaction() as session:
        first = await claim_deliveries(
            session=session, owner="a", now=now, lease=timedelta(seconds=30), limit=10
        )
        again = await claim_deliveries(
            session=session, owner="b", now=now, lease=timedelta(seconds=30), limit=10
        )
    assert first and again == []  # leased rows are not claimed twice
    outbox.clock.advance(31)
    await outbox.drain()
    rows = await outbox.rows()
    assert all(r.status == "sent" for r in rows)
    assert {r.attempts for r in rows} == {2}  # the lost claim counted as an attempt


async def test_outcomes_of_every_kind_are_written_in_one_flush(outbox: Outbox) -> None:
    for name in ("a", "b", "c", "d", "e"):
        await outbox.subscribe(f"{name}@example.com")
    await outbox.open_manual({"btc-trading": MAJOR}, severity="minor")
    now = outbox.clock.now()
    async with outbox.database.transaction() as session:
        held = await claim_deliveries(
            session=session, owner="a", now=now, lease=timedelta(seconds=30), limit=5
        )
    sent, retry, dead, paused, lost = (row.id for row in held)
    later = now + timedelta(minutes=5)
    async with outbox.database.connection() as connection:
        await finish_deliveries(connection=connection, owner="a", finished=[
            # Given in Tokyo time: stored as the same instant (the column type's conversion).
            Finished(sent, SENT, now.astimezone(JST), external_id="<m1@example.com>"),
            Finished(retry, PENDING, now, error="451 try later", next_attempt_at=later),
            Finished(dead, DEAD, now, error="550 no such user"),
            Finished(paused, PENDING, now, next_attempt_at=later, refund_attempt=True),
        ])  # fmt: skip
        # Its lease ran out and another dispatcher holds it now: this outcome is not written.
        await finish_deliveries(
            connection=connection, owner="b", finished=[Finished(lost, SENT, now, external_id="x")]
        )
    async with outbox.database.transaction() as session:
        rows = {row.id: row for row in (await session.execute(select(deliveries))).all()}
        # Stored as every other timestamp is: the database itself finds it equal to ``now``.
        same_instant = select(deliveries.c.id).where(deliveries.c.sent_at == now)
        assert (await session.execute(same_instant)).scalars().all() == [sent]
    assert (rows[sent].status, rows[sent].external_id) == (SENT, "<m1@example.com>")
    assert rows[sent].sent_at == now and rows[sent].lease_owner is None
    assert (rows[retry].status, rows[retry].last_error) == (PENDING, "451 try later")
    assert rows[retry].next_attempt_at is not None and rows[retry].sent_at is None
    assert (rows[dead].status, rows[dead].last_error) == (DEAD, "550 no such user")
    assert rows[paused].attempts == rows[retry].attempts - 1  # not really tried
    assert (rows[lost].status, rows[lost].lease_owner, rows[lost].external_id) == (
        PENDING, "a", None,
    )  # fmt: skip
