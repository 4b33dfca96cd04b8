"""The X channel: each delivery becomes one post, the incident's later ones replies in its thread.

The dispatcher hands one delivery at a time per account, in thread order; ``delivery.thread``
holds the ids of the posts already made in this incident's thread on this account, so the first
post is a plain ``create_tweet`` and every later one replies to the newest id. The new post's id
is the outcome's ``external_id``, which the dispatcher stores for the next reply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor.config import Config
from monitor.config.notifications import XAccount
from notifiers.channel import Delivery, SendOutcome
from notifiers.x.client import make_client
from notifiers.x.compose import compose
from notifiers.x.outcomes import from_error


@dataclass(frozen=True, slots=True)
class Account:
    """One configured account and its tweepy client."""

    config: XAccount
    client: Any  # tweepy.Client (untyped)


class XPoster:
    """Posts deliveries to X accounts; never raises."""

    def __init__(self, accounts: Mapping[str, Account], clock: Callable[[], float] = time.time):
        self._accounts = dict(accounts)
        self._clock = clock

    async def send(self, delivery: Delivery) -> SendOutcome:
        """Post ``delivery`` to the account named by its recipient's address."""
        account = self._accounts.get(delivery.recipient.address)
        if account is None:
            return SendOutcome.permanent(f"no X account named {delivery.recipient.address!r}")
        try:
            text = compose(delivery.notice, account.config.language)
            return await asyncio.to_thread(_post, account.client, text, delivery.thread)
        except Exception as error:  # a channel never raises
            return from_error(error, self._clock)

    async def aclose(self) -> None:
        """Close every account's HTTP session."""
        for account in self._accounts.values():
            account.client.session.close()


def _post(client: Any, text: str, thread: tuple[str, ...]) -> SendOutcome:
    """Create the post (a reply to the thread's newest post, if any); runs in a worker thread."""
    reply_to = {"in_reply_to_tweet_id": thread[-1]} if thread else {}
    answer = client.create_tweet(text=text, **reply_to)
    tweet_id = (answer.get("data") or {}).get("id") if isinstance(answer, dict) else None
    if not tweet_id:
        return SendOutcome.permanent(f"X answered without a post id: {answer!r:.200}")
    return SendOutcome.ok(external_id=str(tweet_id))


def build_x_channel(
    config: Config, env: Mapping[str, str], *, clock: Callable[[], float] = time.time
) -> XPoster | None:
    """The X channel for ``config``, or None when no X accounts are configured.

    ``clock`` gives epoch seconds (for how long a rate limit lasts).

    Raises MissingCredentialError naming the first missing ``<prefix>_...`` variable.
    """
    settings = config.notifications.x
    if settings is None:
        return None
    base_url = str(settings.api_base_url)
    accounts = {
        account.name: Account(account, make_client(account.credentials_env_prefix, env, base_url))
        for account in settings.accounts
    }
    return XPoster(accounts, clock)
