"""Who a delivery's recipient key stands for, at send time, with the links the message carries.

Subscribers are looked up when their mail is sent, not when it was planned: one who left in
between gets nothing (the delivery is dropped), and addresses never sit in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.ack_links import AckLinks
from monitor.config import Config
from monitor.notices import Links, Notice, Recipient
from monitor.outbox.routing import PAGES
from monitor.storage.deliveries import SUBSCRIBER_PREFIX, Claimed
from monitor.storage.subscribers import ACTIVE, MailSubscriber, mail_subscribers_by_ids
from monitor.subscriptions.service import SubscriptionService


@dataclass(frozen=True, slots=True)
class Dropped:
    """Nothing to send any more, and why."""

    reason: str


@dataclass(frozen=True, slots=True)
class Addressed:
    """Where a delivery goes, the links it carries, and facts for its notice (an expiry)."""

    recipient: Recipient
    links: Links = field(default_factory=Links)
    facts: tuple[tuple[str, str], ...] = ()


class Addressing:
    """Resolves recipient keys ("subscriber:17", "email:…", "account:ja", "webhook:ops")."""

    def __init__(self, config: Config, subscriptions: SubscriptionService, acks: AckLinks) -> None:
        x = config.notifications.x
        self._accounts = {a.name: a.language for a in (x.accounts if x else ())}
        self._subscriptions = subscriptions
        self._acks = acks

    async def subscribers(
        self, session: AsyncSession, rows: Sequence[Claimed]
    ) -> dict[int, MailSubscriber]:
        """Load what the batch's mails need of their subscribers, in one query."""
        ids = [_subscriber_id(r.recipient) for r in rows]
        return await mail_subscribers_by_ids(session=session, subscriber_ids=[i for i in ids if i])

    async def resolve(
        self, row: Claimed, notice: Notice, subscribers: dict[int, MailSubscriber]
    ) -> Addressed | Dropped:
        """Return the recipient and links for ``row``, or why it has nothing to send."""
        kind, _, value = row.recipient.partition(":")
        if kind == "subscriber":
            return await self._subscriber(int(value), notice, subscribers.get(int(value)))
        if kind == "account":
            language = self._accounts.get(value)
            if language is None:
                return Dropped(f"X account {value!r} is no longer configured")
            chosen = None if language == "both" else language
            return Addressed(Recipient(row.recipient, value, chosen))
        return Addressed(Recipient(row.recipient, value, None), self._page_links(row, notice))

    def _page_links(self, row: Claimed, notice: Notice) -> Links:
        if notice.kind not in PAGES or notice.incident is None:
            return Links()
        return Links(ack_url=self._acks.link(notice.incident.id, row.recipient, notice.at))

    async def _subscriber(
        self, subscriber_id: int, notice: Notice, row: MailSubscriber | None
    ) -> Addressed | Dropped:
        key = f"{SUBSCRIBER_PREFIX}{subscriber_id}"
        if notice.kind == "subscription_confirmation":
            mail = await self._subscriptions.confirmation_mail(subscriber_id)
            if mail is None:
                return Dropped("the confirmation is no longer due (confirmed, expired or erased)")
            recipient = Recipient(key, mail.address, mail.choice.language)
            expiry = (("expires_at", mail.expires_at.isoformat()),)
            return Addressed(recipient, Links(confirm_url=mail.confirm_url), expiry)
        if row is None or row.state != ACTIVE:
            return Dropped("the subscriber unsubscribed or was erased")
        links = self._subscriptions.mail_links(row)
        recipient = Recipient(key, row.address, row.language)
        return Addressed(recipient, Links(links.unsubscribe_url, links.manage_url))


def _subscriber_id(recipient: str) -> int | None:
    if not recipient.startswith(SUBSCRIBER_PREFIX):
        return None
    value = recipient.removeprefix(SUBSCRIBER_PREFIX)
    return int(value) if value.isdigit() else None
