"""How fast reports may come in: who a client is (a keyed hash), and an in-memory sliding window.

The database holds the limit that survives a restart (``ReportDesk`` counts a client's stored
reports); the in-memory window in front of it turns a flood away before it costs a query.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import OrderedDict, deque

MIN_KEY_BYTES = 16
IPV6_PREFIX = 64  # one host is usually given a whole /64: count the network, not the address


def client_key(address: str, key: bytes) -> str:
    """Return the HMAC-SHA256 (hex) of a client's address: the only form in which it is kept."""
    return hmac.new(key, normalized_address(address).encode(), hashlib.sha256).hexdigest()


def normalized_address(address: str) -> str:
    """Return the part of an address that names one client (an IPv6 address's /64)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip().lower()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def check_key(key: bytes) -> bytes:
    """Return ``key`` if it is long enough to keep addresses from being guessed back."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the client hash key must be at least {MIN_KEY_BYTES} bytes")
    return key


class SlidingWindow:
    """Admits at most ``limit`` arrivals per key within any ``window`` seconds.

    An arrival at ``t`` counts against every arrival in ``[t, t + window)``. Only admitted
    arrivals count, so a client that keeps knocking while refused is not locked out longer.
    At most ``max_keys`` keys are remembered (the least recently seen are forgotten first), so
    a flood from many addresses cannot exhaust memory.
    """

    def __init__(self, limit: int, window: float, *, max_keys: int = 100_000) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit, window and max_keys must be positive")
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._logs: OrderedDict[str, deque[float]] = OrderedDict()

    def admit(self, key: str, now: float) -> float | None:
        """Count one arrival; return None if admitted, else the seconds until one would be."""
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = deque()
        elif log:
            now = max(now, log[-1])  # a clock stepping back must not reopen the window
        while log and log[0] + self.window <= now:
            log.popleft()
        self._logs.move_to_end(key)
        if len(log) >= self.limit:
            return min(self.window, log[0] + self.window - now)  # min: float rounding
        log.append(now)
        if len(self._logs) > self._max_keys:
            self._logs.popitem(last=False)
        return None

    def __len__(self) -> int:
        return len(self._logs)
