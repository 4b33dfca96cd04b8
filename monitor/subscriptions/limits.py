"""How often confirmation mail may be asked for: per client, per address, and from everyone.

- **Per client** (the sender's IP, kept only as a keyed HMAC, see ``monitor.reports.limits``)
  and **from everyone at once** (a flood): in-memory sliding windows in front of the database,
  so a flood is turned away before it costs a query.
- **Per address**: the times of an address's recent requests are stored on its row, so the
  limit holds across restarts and processes. It counts requests, not subscriptions, so a 429
  says nothing about whether the address is subscribed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.reports.limits import SlidingWindow, client_key
from monitor.subscriptions.tokens import derive_key


@dataclass(frozen=True, slots=True)
class SubscriptionLimits:
    """The limits and lifetimes of subscriptions (defaults suit a public page)."""

    per_client: int = 10
    per_client_window: float = 3600.0
    per_address: int = 3
    per_address_window: float = 3600.0
    flood: int = 600
    flood_window: float = 60.0
    confirm_ttl: timedelta = timedelta(hours=48)
    manage_ttl: timedelta = timedelta(days=400)
    # Never-confirmed requests are erased this long after their link expired; unsubscribed rows
    # this long after unsubscribing (the address is not kept once it is not needed).
    pending_retention: timedelta = timedelta(days=1)
    unsubscribed_retention: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Refused:
    """Too many requests: ``scope`` is ``client``, ``address`` or ``everyone``."""

    retry_after: float
    scope: str


class ClientGate:
    """The in-memory limits: per client (hashed address) and for everyone at once."""

    def __init__(self, limits: SubscriptionLimits, key: bytes) -> None:
        self._key = derive_key(key, "client/v1")
        self._clients = SlidingWindow(limits.per_client, limits.per_client_window)
        self._flood = SlidingWindow(limits.flood, limits.flood_window, max_keys=1)

    def admit(self, client_address: str, now: datetime) -> Refused | None:
        """Count one request from ``client_address``; return None if admitted."""
        moment = now.timestamp()
        wait = self._clients.admit(client_key(client_address, self._key), moment)
        if wait is not None:
            return Refused(wait, "client")
        wait = self._flood.admit("all", moment)
        return None if wait is None else Refused(wait, "everyone")


def address_window(
    times: list[float], now: datetime, limits: SubscriptionLimits
) -> tuple[list[float], Refused | None]:
    """Return the stored request times still in the window, and a refusal if they are full."""
    moment = now.timestamp()
    window = limits.per_address_window
    recent = sorted(t for t in times if t + window > moment)
    if len(recent) < limits.per_address:
        return recent, None
    # Once the request at this position ages out, the address is under its limit again.
    frees_at = recent[len(recent) - limits.per_address] + window
    return recent, Refused(min(window, frees_at - moment), "address")
