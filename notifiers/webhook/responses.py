"""What an HTTP answer means for a delivery: sent, worth another try, or never going to work.

2xx is sent. 408, 425, 429 and 5xx are retryable, with the ``Retry-After`` the receiver asked
for (seconds or an HTTP date). Any other status (a 3xx, since redirects are not followed, or
a 4xx) is permanent, with the status and the start of the body so a responder can see why.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from notifiers.channel import SendOutcome

RETRYABLE_STATUSES = frozenset({408, 425, 429})
EXCERPT_LIMIT = 200


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Read ``Retry-After`` (delta seconds or an HTTP date) as seconds from ``now``."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


def excerpt(body: bytes, limit: int = EXCERPT_LIMIT) -> str:
    """The start of a response body on one line, for a failure reason."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(status: int, body: bytes) -> str:
    snippet = excerpt(body)
    return f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"


def classify(status: int, headers: Mapping[str, str], body: bytes, now: float) -> SendOutcome:
    """Turn a receiver's status, headers and (the start of its) body into an outcome."""
    if 200 <= status < 300:
        return SendOutcome.ok()
    if status in RETRYABLE_STATUSES or 500 <= status < 600:
        return SendOutcome.retryable(_reason(status, body), retry_after=retry_after(headers, now))
    if 300 <= status < 400:
        location = headers.get("location", "")
        return SendOutcome.permanent(f"HTTP {status}: redirect to {location!r} not followed")
    return SendOutcome.permanent(_reason(status, body))
