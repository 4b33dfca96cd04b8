"""What the console's deliveries page shows: failed and dead deliveries, filtered and paged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from monitor.console.gate import RefusedError
from monitor.console.parts import MAX_ID
from monitor.storage.database import Database
from monitor.storage.deliveries import STATUSES, SUBSCRIBER_PREFIX, DeliveryRow, delivery_counts
from monitor.storage.delivery_reads import (
    FAILED,
    PROBLEMS,
    EventFact,
    event_facts,
    failed_counts,
    problem_deliveries,
)
from monitor.storage.subscribers import SubscriberRow, subscribers_by_ids

PAGE_SIZE = 50
MAX_CHANNEL = 32  # as the deliveries table's column


@dataclass(frozen=True, slots=True)
class Filters:
    """The page's query string: failed, dead or (None) both; one channel or all; where to start."""

    status: str | None = None
    channel: str | None = None
    after_id: int = 0

    def link(self, **changes: object) -> str:
        """This page's URL with some filters changed (empty ones left out)."""
        values: dict[str, object] = {
            "status": self.status, "channel": self.channel, "after_id": self.after_id
        }  # fmt: skip
        values.update(changes)
        query = urlencode({k: v for k, v in values.items() if v})
        return "/console/deliveries" + (f"?{query}" if query else "")


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """One delivery with its event and, for a subscriber, the address it goes to."""

    delivery: DeliveryRow
    event: EventFact | None
    address: str | None


@dataclass(frozen=True, slots=True)
class DeliveriesPage:
    """A page of problem deliveries, the counts per status and the channels there are."""

    filters: Filters
    lines: list[DeliveryLine]
    counts: dict[str, int]
    channels: list[str]
    next_after_id: int | None


def parse_filters(query: Mapping[str, str]) -> Filters:
    """The filters of a query string; anything unusable is a 422 naming the parameter."""
    status = query.get("status", "") or None
    if status is not None and status not in PROBLEMS:
        raise RefusedError(422, f"status: {status!r} is not one of {', '.join(PROBLEMS)}")
    channel = query.get("channel", "") or None
    if channel is not None and len(channel) > MAX_CHANNEL:
        raise RefusedError(422, f"channel: at most {MAX_CHANNEL} characters")
    text = query.get("after_id", "") or "0"
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise RefusedError(422, f"after_id: {text!r} is not a delivery id")
    return Filters(status, channel, int(text))


async def load_deliveries(database: Database, filters: Filters) -> DeliveriesPage:
    """Read one page of problem deliveries with their events and counts (one transaction)."""
    async with database.transaction() as session:
        rows = await problem_deliveries(
            session=session, status=filters.status, channel=filters.channel,
            after_id=filters.after_id, limit=PAGE_SIZE,
        )  # fmt: skip
        events = await event_facts(session=session, event_ids={r.event_id for r in rows})
        ids = [_subscriber_id(r.recipient) for r in rows]
        people = await subscribers_by_ids(session=session, subscriber_ids={i for i in ids if i})
        per_channel = await delivery_counts(session=session)
        failed = await failed_counts(session=session)
    lines = [
        DeliveryLine(row, events.get(row.event_id), _address(people, subscriber))
        for row, subscriber in zip(rows, ids, strict=True)
    ]
    counts = {status: 0 for status in (*STATUSES, FAILED)}
    for (_, status), count in per_channel.items():
        counts[status] = counts.get(status, 0) + count
    counts[FAILED] = sum(failed.values())
    channels = sorted({channel for channel, _ in per_channel})
    more = rows[-1].id if len(rows) == PAGE_SIZE else None
    return DeliveriesPage(filters, lines, counts, channels, more)


def _subscriber_id(recipient: str) -> int | None:
    """N of "subscriber:N" (the address is looked up: the outbox never holds it)."""
    value = recipient.removeprefix(SUBSCRIBER_PREFIX)
    if value == recipient or not value.isascii() or not value.isdigit():
        return None
    return int(value) if 1 <= int(value) <= MAX_ID else None


def _address(people: Mapping[int, SubscriberRow], subscriber_id: int | None) -> str | None:
    person = people.get(subscriber_id) if subscriber_id is not None else None
    return None if person is None else person.address
