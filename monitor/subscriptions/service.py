"""Subscriptions as a service: subscribe, confirm, manage, unsubscribe; admin reads; mail links.

Double opt-in: a request stores the address (normalised) as pending, or the change it asks for
beside an existing subscription, and appends the timeline event
``subscription_confirmation_requested`` with ``data = {"subscriber_id", "language"}`` only (no
address, no token). The mail channel (#6) answers that event with ``confirmation_mail(id)``: it
mints the same link again from the stored request with the same key, so retries send the same
mail. Nothing changes what an address receives until its newest link is followed.

The answer to a request is the same whether or not the address is known or subscribed.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.clock import Clock
from monitor.config import Config
from monitor.reload.live import ConfigSource, live_config
from monitor.storage.database import Database
from monitor.storage.subscribers import (
    ACTIVE,
    PENDING,
    UNSUBSCRIBED,
    MailSubscriber,
    PendingChoice,
    SubscriberRow,
    active_subscribers,
    claim_subscriber,
    confirm_request,
    delete_subscriber,
    get_subscriber,
    list_subscribers,
    mark_unsubscribed,
    purge_subscribers,
    record_confirmation_request,
    set_choice,
    subscriber_counts,
)
from monitor.storage.timeline import append_event
from monitor.subscriptions.limits import ClientGate, Refused, SubscriptionLimits, address_window
from monitor.subscriptions.normalisation import normalise_address
from monitor.subscriptions.tokens import Claims, Purpose, Rejection, TokenSigner

REQUESTED_EVENT = "subscription_confirmation_requested"
DELETED_EVENT = "subscriber_deleted"
CONFIRM_PATH = "/subscribe/confirm"
MANAGE_PATH = "/subscriptions/manage"
UNSUBSCRIBE_PATH = "/subscriptions/unsubscribe"  # GET shows a button; POST (RFC 8058) leaves

Choice = PendingChoice  # language and components (None: all) as the subscriber chose them


@dataclass(frozen=True, slots=True)
class ComponentChoice:
    """A component a subscriber can choose, with its names and group."""

    id: str
    names: dict[str, str]
    group: str | None


@dataclass(frozen=True, slots=True)
class Requested:
    """A confirmation was asked for (the public answer never says more)."""

    subscriber_id: int


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a token holder sees of their subscription; ``manage_token`` opens it again."""

    subscriber_id: int
    state: str
    choice: Choice
    manage_token: str


@dataclass(frozen=True, slots=True)
class ConfirmationMail:
    """What the mail channel needs to send one confirmation (the address stays private)."""

    subscriber_id: int
    address: str
    choice: Choice
    confirm_url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class MailLinks:
    """Links every mail to a subscriber carries: preferences, and one-click unsubscribe."""

    manage_url: str
    unsubscribe_url: str


@dataclass(frozen=True, slots=True)
class _Held:
    """A token's subscriber row, locked in the open transaction, with the token's claims."""

    session: AsyncSession
    row: SubscriberRow
    claims: Claims


class SubscriptionService:
    """Subscriptions with double opt-in, token-held management and per-client/address limits."""

    def __init__(
        self,
        database: Database,
        config: ConfigSource,
        clock: Clock,
        *,
        key: bytes,
        limits: SubscriptionLimits | None = None,
    ) -> None:
        self._database = database
        self._clock = clock
        self.limits = limits or SubscriptionLimits()
        self._signer = TokenSigner(key)
        self._gate = ClientGate(self.limits, key)
        self._live = live_config(config)  # names and components follow a config reload
        start = self._live.current.site  # signed links and languages wait for a restart
        self._base_url = start.url.rstrip("/")
        self.languages: tuple[str, ...] = tuple(start.languages)
        self._choices = self._live.derived(_component_choices)

    @property
    def site_name(self) -> str:
        """The site's name in force."""
        return self._live.current.site.name

    @property
    def components(self) -> tuple[ComponentChoice, ...]:
        """The components a subscriber can choose, in config order."""
        return self._choices()

    @property
    def group_names(self) -> dict[str, dict[str, str]]:
        """Each group's name per language, in config order."""
        return {g.id: {"ja": g.names.ja, "en": g.names.en} for g in self._live.current.groups}

    @property
    def component_ids(self) -> tuple[str, ...]:
        """The ids of the components a subscriber can choose."""
        return tuple(c.id for c in self.components)

    async def subscribe(self, address: str, choice: Choice, client: str) -> Requested | Refused:
        """Ask ``address`` to confirm ``choice``, within the limits (AddressError if no address)."""
        address = normalise_address(address)
        now = self._clock.now()
        refused = self._gate.admit(client, now)
        if refused is not None:
            return refused
        async with self._database.transaction() as session:
            row = await claim_subscriber(
                session=session, address=address, nonce=secrets.token_hex(16), at=now
            )
            recent, refused = address_window(row.request_times, now, self.limits)
            if refused is not None:
                return refused
            await self._request(session, row, choice, [*recent, now.timestamp()])
        return Requested(row.id)

    async def confirm(self, token: str) -> Subscription | Rejection:
        """Apply the request a confirmation token names (again: the same answer)."""
        now = self._clock.now()
        async with self._held(token, Purpose.CONFIRM, now) as held:
            if isinstance(held, Rejection):
                return held
            row, generation = held.row, held.claims.generation
            if row.confirmed_generation == generation and row.state == ACTIVE:
                return self._subscription(row)  # followed again: already done
            if row.generation != generation or row.pending is None:
                return Rejection.INVALID  # a newer request replaced this link
            await confirm_request(session=held.session, subscriber=row, at=now)
            confirmed = await get_subscriber(session=held.session, subscriber_id=row.id)
        return Rejection.INVALID if confirmed is None else self._subscription(confirmed)

    async def subscription(self, token: str) -> Subscription | Rejection:
        """Return the subscription a manage token opens."""
        async with self._held(token, Purpose.MANAGE, self._clock.now()) as held:
            if isinstance(held, Rejection):
                return held
        return self._subscription(held.row)

    async def update(self, token: str, choice: Choice) -> Subscription | Rejection:
        """Change what a manage token's subscriber receives (and resubscribe it if it left)."""
        now = self._clock.now()
        async with self._held(token, Purpose.MANAGE, now) as held:
            if isinstance(held, Rejection):
                return held
            row_id = held.row.id
            await set_choice(session=held.session, subscriber_id=row_id, choice=choice, at=now)
            updated = await get_subscriber(session=held.session, subscriber_id=row_id)
        return Rejection.INVALID if updated is None else self._subscription(updated)

    async def unsubscribe(self, token: str) -> Subscription | Rejection:
        """Stop all mail to a manage token's subscriber (again: the same answer)."""
        now = self._clock.now()
        async with self._held(token, Purpose.MANAGE, now) as held:
            if isinstance(held, Rejection):
                return held
            row: SubscriberRow | None = held.row
            if held.row.state != UNSUBSCRIBED:
                await mark_unsubscribed(session=held.session, subscriber_id=held.row.id, at=now)
                row = await get_subscriber(session=held.session, subscriber_id=held.row.id)
        return Rejection.INVALID if row is None else self._subscription(row)

    async def confirmation_mail(self, subscriber_id: int) -> ConfirmationMail | None:
        """Return the confirmation the mail channel should send now, or None if none is due."""
        now = self._clock.now()
        async with self._database.transaction() as session:
            row = await get_subscriber(session=session, subscriber_id=subscriber_id)
        if row is None or row.pending is None or row.requested_at is None:
            return None
        expires_at = row.requested_at + self.limits.confirm_ttl
        if now >= expires_at:
            return None
        claims = Claims(Purpose.CONFIRM, row.id, row.generation, expires_at, row.nonce)
        url = f"{self._base_url}{CONFIRM_PATH}?token={self._signer.mint(claims)}"
        return ConfirmationMail(row.id, row.address, row.pending, url, claims.expires_at)

    def mail_links(self, subscriber: SubscriberRow | MailSubscriber) -> MailLinks:
        """Return the manage and one-click unsubscribe links for a mail to ``subscriber``."""
        token = self.manage_token(subscriber)
        return MailLinks(
            manage_url=f"{self._base_url}{MANAGE_PATH}?token={token}",
            unsubscribe_url=f"{self._base_url}{UNSUBSCRIBE_PATH}?token={token}",
        )

    def manage_token(self, subscriber: SubscriberRow | MailSubscriber) -> str:
        """Return a fresh manage token for ``subscriber``."""
        expires_at = self._clock.now() + self.limits.manage_ttl
        claims = Claims(Purpose.MANAGE, subscriber.id, 0, expires_at, subscriber.nonce)
        return self._signer.mint(claims)

    async def recipients(
        self, component_ids: list[str], *, after_id: int = 0, limit: int = 1000
    ) -> list[SubscriberRow]:
        """Return a page of active subscribers of any of ``component_ids`` (for #6)."""
        async with self._database.transaction() as session:
            return await active_subscribers(
                session=session, component_ids=component_ids, after_id=after_id, limit=limit
            )

    async def counts(self) -> dict[str, dict[str, int]]:
        """Return how many subscribers there are per state and language (admin)."""
        async with self._database.transaction() as session:
            return await subscriber_counts(session=session)

    async def listing(self, *, state: str | None, after_id: int, limit: int) -> list[SubscriberRow]:
        """Return a page of subscribers with their addresses (admin only)."""
        async with self._database.transaction() as session:
            return await list_subscribers(
                session=session, state=state, after_id=after_id, limit=limit
            )

    async def delete(self, subscriber_id: int, *, actor: str) -> bool:
        """Erase a subscriber on request; return False if there was none."""
        async with self._database.transaction() as session:
            deleted = await delete_subscriber(session=session, subscriber_id=subscriber_id)
            if deleted:
                await append_event(
                    session=session, at=self._clock.now(), kind=DELETED_EVENT,
                    data={"subscriber_id": subscriber_id}, actor=actor,
                )  # fmt: skip
        return deleted

    async def tick(self, now: datetime) -> None:
        """Erase never-confirmed requests and old unsubscriptions no longer needed."""
        limits = self.limits
        async with self._database.transaction() as session:
            await purge_subscribers(
                session=session,
                requested_before=now - limits.confirm_ttl - limits.pending_retention,
                unsubscribed_before=now - limits.unsubscribed_retention,
            )

    async def _request(
        self, session: AsyncSession, row: SubscriberRow, choice: Choice, times: list[float]
    ) -> None:
        now = self._clock.now()
        await record_confirmation_request(
            session=session, subscriber_id=row.id, choice=choice, request_times=times,
            at=now, provisional_language=row.state == PENDING,
        )  # fmt: skip
        data: dict[str, Any] = {"subscriber_id": row.id, "language": choice.language}
        await append_event(
            session=session, at=now, kind=REQUESTED_EVENT, data=data, actor="subscriber"
        )

    @asynccontextmanager
    async def _held(
        self, token: str, purpose: Purpose, now: datetime
    ) -> AsyncIterator[_Held | Rejection]:
        """Verify ``token`` and, in a transaction, yield the row it holds; else why it holds none."""
        claims = self._signer.verify(token, purpose, now)
        if isinstance(claims, Rejection):
            yield claims
            return
        async with self._database.transaction() as session:
            row = await self._holder(session, claims)
            yield Rejection.INVALID if row is None else _Held(session, row, claims)

    async def _holder(self, session: AsyncSession, claims: Claims) -> SubscriberRow | None:
        """Return the row a token names, locked, if the token was minted for that very row."""
        row = await get_subscriber(session=session, subscriber_id=claims.subscriber_id, lock=True)
        if row is None or not secrets.compare_digest(row.nonce, claims.nonce):
            return None
        if claims.purpose is Purpose.MANAGE and row.confirmed_generation is None:
            return None  # never confirmed: nothing to manage yet
        return row

    def _subscription(self, row: SubscriberRow) -> Subscription:
        language = row.language or self.languages[0]
        choice = Choice(language, row.components)
        return Subscription(row.id, row.state, choice, self.manage_token(row))


def _component_choices(config: Config) -> tuple[ComponentChoice, ...]:
    return tuple(
        ComponentChoice(c.id, {"ja": c.names.ja, "en": c.names.en}, c.group)
        for c in config.components
    )
