"""The channel interface: what a channel is handed to send, and what it answers.

A channel renders one Delivery (a Notice for one recipient) and sends it. It never raises:
every failure is a SendOutcome that says whether trying again can help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from monitor.notices import Links, Notice, Recipient

__all__ = ["Channel", "Closable", "Delivery", "Links", "Outcome", "Recipient", "SendOutcome"]


class Outcome(StrEnum):
    """ok: sent; retryable: try again later; permanent: trying again cannot help."""

    OK = "ok"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """A channel's answer, with the reason and what the far side called the message."""

    outcome: Outcome
    reason: str = ""
    external_id: str | None = None  # the Message-ID sent, the tweet's id, ...
    retry_after: float | None = None  # seconds the far side asked us to wait (HTTP 429)

    @classmethod
    def ok(cls, external_id: str | None = None) -> SendOutcome:
        """Sent."""
        return cls(Outcome.OK, external_id=external_id)

    @classmethod
    def retryable(cls, reason: str, *, retry_after: float | None = None) -> SendOutcome:
        """Not sent; a later attempt may succeed."""
        return cls(Outcome.RETRYABLE, reason, retry_after=retry_after)

    @classmethod
    def permanent(cls, reason: str) -> SendOutcome:
        """Not sent, and never will be (bad address, rejected content)."""
        return cls(Outcome.PERMANENT, reason)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notice to one recipient on one channel; ``thread`` holds the earlier messages' ids."""

    id: int
    channel: str
    recipient: Recipient
    notice: Notice
    attempt: int  # 1 on the first try
    links: Links = field(default_factory=Links)
    thread: tuple[str, ...] = ()  # external ids sent before in this thread, oldest first


class Channel(Protocol):
    """Sends one delivery; never raises."""

    async def send(self, delivery: Delivery) -> SendOutcome:
        """Render and send ``delivery``; every failure is an outcome, not an exception."""
        ...


@runtime_checkable
class Closable(Protocol):
    """A channel holding connections (an SMTP pool, an HTTP session) closes them at shutdown."""

    async def aclose(self) -> None:
        """Close what the channel holds open."""
        ...
