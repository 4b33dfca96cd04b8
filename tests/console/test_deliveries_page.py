"""The console's deliveries page: failed and dead notifications, filtered, paged, and retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from monitor.console.deliveries_view import Filters, parse_filters
from monitor.console.gate import RefusedError
from monitor.storage.database import Database
from monitor.storage.tables import audit_log, deliveries, subscribers
from monitor.storage.timeline import append_event
from tests.access.support import Access, running
from tests.console.support import csrf_of, open_incident, post_form, signed_in
from tests.support import FakeClock

PAGE = "/console/deliveries"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


class Outbox:
    """Writes outbox rows for one event of an incident, as the dispatcher would have left them."""

    def __init__(self, access: Access, incident_id: int, event_id: int) -> None:
        self.access, self.incident_id, self.event_id = access, incident_id, event_id

    @classmethod
    async def of_incident(cls, access: Access) -> Outbox:
        number = await open_incident(access)
        async with access.services.database.transaction() as session:
            event = await append_event(
                session=session, at=access.clock.now(), kind="page", incident_id=number
            )
        return cls(access, number, event)

    async def add(self, recipient: str, status: str, **fields: Any) -> int:
        """One delivery (channel from the recipient's kind); return its id."""
        now = self.access.clock.now()
        channel = fields.pop("channel", "webhook" if recipient.startswith("webhook") else "email")
        values = {
            "event_id": self.event_id, "channel": channel, "recipient": recipient, "status": status,
            "attempts": 3, "next_attempt_at": now + timedelta(minutes=5), "created_at": now, **fields,
        }  # fmt: skip
        async with self.access.services.database.transaction() as session:
            result = await session.execute(
                insert(deliveries).values(**values).returning(deliveries.c.id)
            )
            return int(result.scalar_one())


async def add_subscriber(database: Database, clock: FakeClock, address: str) -> int:
    async with database.transaction() as session:
        result = await session.execute(insert(subscribers).values(
            address=address, nonce="n" * 32, state="active", created_at=clock.now(),
            updated_at=clock.now(),
        ).returning(subscribers.c.id))  # fmt: skip
        return int(result.scalar_one())


async def delivery(database: Database, number: int) -> Any:
    async with database.transaction() as session:
        return (await session.execute(select(deliveries).where(deliveries.c.id == number))).one()


async def test_a_viewer_sees_failed_and_dead_deliveries_with_their_recipients(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        outbox = await Outbox.of_incident(access)
        person = await add_subscriber(database, clock, "alice@example.com")
        dead = await outbox.add("webhook:ops", "dead", last_error="404 from hooks.example.com")
        failed = await outbox.add(f"subscriber:{person}", "pending", last_error="421 try later")
        await outbox.add("email:oncall@example.com", "dead", last_error="550 no such user")
        await outbox.add("webhook:audit", "sent", last_error=None)
        await outbox.add(
            "webhook:fresh", "pending", last_error=None
        )  # not tried yet: not a problem
        client = await signed_in(access, "viewer")
        page = await client.get(PAGE)
        assert page.status_code == 200
        text = page.text
        assert "2 dead · 1 failed, waiting to retry" in text
        assert "404 from hooks.example.com" in text and "421 try later" in text
        assert "email:oncall@example.com" in text and "550 no such user" in text
        assert (
            f"subscriber:{person}" in text and "alice@example.com" in text
        )  # staff see the address
        assert f'href="/console/incidents/{outbox.incident_id}"' in text and "page" in text
        assert "webhook:audit" not in text and "webhook:fresh" not in text
        assert "Retry #" not in text  # a viewer gets no button
        refused = await client.post(f"{PAGE}/{dead}/retry", data={"csrf_token": csrf_of(text)})
        assert refused.status_code == 403 and "needs the responder role" in refused.text
        assert (await delivery(database, dead)).status == "dead"
        assert (await delivery(database, failed)).status == "pending"


async def test_retry_puts_a_dead_delivery_back_and_is_audited(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        outbox = await Outbox.of_incident(access)
        dead = await outbox.add("webhook:ops", "dead", last_error="404 from hooks.example.com")
        failed = await outbox.add("webhook:other", "pending", last_error="timeout")
        client = await signed_in(access, "responder")
        page = await client.get(PAGE)
        assert f'action="/console/deliveries/{dead}/retry"' in page.text
        assert (
            f'action="/console/deliveries/{failed}/retry"' not in page.text
        )  # it retries by itself
        answer = await post_form(client, PAGE, f"{PAGE}/{dead}/retry")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{PAGE}?done=retried"
        row = await delivery(database, dead)
        assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == (
            "pending",
            0,
            None,
            clock.now(),
        )
        assert "Delivery queued again." in (await client.get(answer.headers["location"])).text
        again = await post_form(client, PAGE, f"{PAGE}/{dead}/retry")
        assert again.status_code == 409 and f"delivery {dead} is pending, not dead" in again.text
        missing = await post_form(client, PAGE, f"{PAGE}/424242/retry")
        assert missing.status_code == 404 and "no delivery 424242" in missing.text
        for bad in ("abc", "0", "99999999999999999999999"):
            assert (await post_form(client, PAGE, f"{PAGE}/{bad}/retry")).status_code == 404, bad
        async with database.transaction() as session:
            audited = (
                await session.execute(
                    select(audit_log)
                    .where(audit_log.c.route == "/console/deliveries/{delivery_id}/retry")
                    .order_by(audit_log.c.id)
                )
            ).all()
        assert [(a.actor, a.status) for a in audited][:3] == [
            ("token:responder-1", 303), ("token:responder-1", 409), ("token:responder-1", 404),
        ]  # fmt: skip
        assert f'"delivery_id": "{dead}"' in (audited[0].summary or "")


async def test_a_retry_without_the_csrf_token_is_refused(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        outbox = await Outbox.of_incident(access)
        dead = await outbox.add("webhook:ops", "dead", last_error="gone")
        client = await signed_in(access, "responder")
        await client.get(PAGE)
        for fields in ({"note": "no token"}, {"csrf_token": "forged"}):
            answer = await client.post(f"{PAGE}/{dead}/retry", data=fields)
            assert answer.status_code == 403
            assert "did not come from the console" in answer.text
        assert (await delivery(database, dead)).status == "dead"


async def test_filters_and_pages_follow_the_query_string(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        outbox = await Outbox.of_incident(access)
        ids = [
            await outbox.add(f"email:user{n}@example.com", "dead", last_error=f"bounce {n}")
            for n in range(52)
        ]
        hook = await outbox.add("webhook:ops", "pending", last_error="503 from hooks")
        client = await signed_in(access, "viewer")
        first = (await client.get(PAGE, params={"status": "dead"})).text
        assert "bounce 0<" in first and "bounce 49<" in first and "bounce 50<" not in first
        assert f'href="/console/deliveries?status=dead&amp;after_id={ids[49]}"' in first
        second = (await client.get(PAGE, params={"status": "dead", "after_id": ids[49]})).text
        assert "bounce 50<" in second and "bounce 51<" in second and "bounce 49<" not in second
        assert "Next page" not in second and "First page" in second
        webhooks = (await client.get(PAGE, params={"channel": "webhook"})).text
        assert "503 from hooks" in webhooks and "bounce" not in webhooks
        failed = (await client.get(PAGE, params={"status": "failed"})).text
        assert f">{hook}<" in failed and "bounce" not in failed
        none = (await client.get(PAGE, params={"channel": "x"})).text
        assert "No failed or dead delivery on x." in none
        for params, message in (
            ({"status": "sent"}, "status: &#39;sent&#39; is not one of failed, dead"),
            ({"after_id": "-1"}, "after_id: &#39;-1&#39; is not a delivery id"),
            ({"after_id": "99999999999999999999999"}, "is not a delivery id"),
            ({"channel": "c" * 33}, "channel: at most 32 characters"),
        ):
            answer = await client.get(PAGE, params=params)
            assert answer.status_code == 422, params
            assert message in answer.text


async def test_errors_and_recipients_are_shown_escaped(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        outbox = await Outbox.of_incident(access)
        await outbox.add(f"webhook:{XSS}"[:400], "dead", last_error=XSS, channel=XSS[:32])
        person = await add_subscriber(database, clock, XSS)
        await outbox.add(f"subscriber:{person}", "dead", last_error="x")
        client = await signed_in(access, "responder")
        text = (await client.get(PAGE)).text
        assert "<script>alert(1)" not in text and "<img src=x" not in text
        assert ESCAPED in text
        filtered = await client.get(PAGE, params={"channel": XSS[:32]})
        assert "<script>alert(1)" not in filtered.text


QUERY_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["", "dead", "failed", "0", "17"]))


@settings(max_examples=300, deadline=None)
@given(
    query=st.dictionaries(st.sampled_from(["status", "channel", "after_id", "done"]), QUERY_TEXT)
)
def test_any_query_string_is_filters_or_a_422(query: dict[str, str]) -> None:
    try:
        filters = parse_filters(query)
    except RefusedError as refused:
        assert refused.status == 422
        assert refused.message.split(":")[0] in ("status", "channel", "after_id")
        return
    assert filters.status in (None, "failed", "dead") and filters.after_id >= 0
    link = urlsplit(filters.link())
    assert link.path == PAGE
    assert parse_filters(dict(parse_qsl(link.query))) == filters  # the page's links keep them


def test_links_change_one_filter_and_keep_the_others() -> None:
    filters = Filters("dead", "email", 40)
    assert filters.link(after_id=0) == f"{PAGE}?status=dead&channel=email"
    assert filters.link(status="failed", after_id=0) == f"{PAGE}?status=failed&channel=email"
    assert Filters().link() == PAGE
