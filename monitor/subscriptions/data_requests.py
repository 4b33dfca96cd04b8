"""A subscriber's own data on request (GDPR-style): export it, or erase it, found by address.

The export is everything stored about the address: the subscription (state, language,
components, a pending change) and when it was requested, confirmed and left. The token
nonce and counters that sign links are exwatch's, not the subscriber's, and stay out. Erasing
removes the subscriber and its choices, as ``DELETE /api/admin/subscribers/{id}`` does, with the
same timeline event (naming the id, never the address); deliveries still queued for it are
dropped when their turn comes (``monitor.outbox.addressing``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.clock import Clock
from monitor.storage.database import Database
from monitor.storage.subscribers import SubscriberRow, delete_subscriber, get_subscriber_by_address
from monitor.storage.timeline import append_event
from monitor.subscriptions.normalisation import normalise_address
from monitor.subscriptions.service import DELETED_EVENT


class DataRequests:
    """Answers a subscriber's access and erasure requests (admin only)."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def export(self, address: str) -> dict[str, Any] | None:
        """Everything stored about ``address``, or None (AddressError if it is no address)."""
        normalised = normalise_address(address)
        async with self._database.transaction() as session:
            row = await get_subscriber_by_address(session=session, address=normalised)
        return None if row is None else subscriber_export(row)

    async def erase(self, address: str, *, actor: str) -> int | None:
        """Erase the subscriber of ``address``; return its id, or None if there was none."""
        normalised = normalise_address(address)
        async with self._database.transaction() as session:
            row = await get_subscriber_by_address(session=session, address=normalised)
            if row is None or not await delete_subscriber(session=session, subscriber_id=row.id):
                return None
            await append_event(
                session=session, at=self._clock.now(), kind=DELETED_EVENT,
                data={"subscriber_id": row.id, "on_request": True}, actor=actor,
            )  # fmt: skip
        return row.id


def subscriber_export(row: SubscriberRow) -> dict[str, Any]:
    """The JSON document of one subscriber's data."""
    pending = row.pending
    return {
        "id": row.id,
        "address": row.address,
        "state": row.state,
        "language": row.language,
        "components": "all" if row.components is None else list(row.components),
        "pending_change": None
        if pending is None
        else {
            "language": pending.language,
            "components": "all" if pending.components is None else list(pending.components),
        },
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "requested_at": _iso(row.requested_at),
        "confirmed_at": _iso(row.confirmed_at),
        "unsubscribed_at": _iso(row.unsubscribed_at),
        "recent_requests": [
            datetime.fromtimestamp(t, UTC).isoformat() for t in sorted(row.request_times)
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
