"""Signed, expiring one-click acknowledge links for page messages: one incident, one recipient.

A token is ``{incident id}.{expires}.{who}.{signature}``: ``who`` is the paged recipient
(base64url), so the ack is recorded as theirs; ``expires`` is a Unix time in whole seconds,
taken from the page's own time so a retried page carries the same link; the signature is
HMAC-SHA256 over the text before it with a key used for nothing else, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ACK_PATH = "/ack"
_SHAPE = re.compile(
    r"(?P<payload>(?P<incident>[0-9]{1,18})\.(?P<expires>[0-9]{1,12})\.(?P<who>[A-Za-z0-9_-]{1,400}))"
    r"\.(?P<signature>[A-Za-z0-9_-]{43})"
)


@dataclass(frozen=True, slots=True)
class AckClaim:
    """What a genuine, unexpired ack token says."""

    incident_id: int
    who: str
    expires_at: datetime


class AckLinks:
    """Mints and verifies acknowledge links."""

    def __init__(self, key: bytes, base_url: str, *, ttl: timedelta = timedelta(hours=24)) -> None:
        self._key = hmac.new(key, b"exwatch/ack-link/v1", hashlib.sha256).digest()
        self._base_url = base_url.rstrip("/")
        self.ttl = ttl

    def link(self, incident_id: int, who: str, paged_at: datetime) -> str:
        """Return the link acknowledging ``incident_id`` as ``who``, valid for ``ttl``."""
        expires = int((paged_at + self.ttl).timestamp())
        name = base64.urlsafe_b64encode(who.encode()).rstrip(b"=").decode()
        payload = f"{incident_id}.{expires}.{name}"
        return f"{self._base_url}{ACK_PATH}?token={payload}.{self._sign(payload)}"

    def verify(self, token: str, now: datetime) -> AckClaim | str:
        """Return the claim of a genuine, unexpired token, else why it is refused."""
        match = _SHAPE.fullmatch(token) if len(token) <= 600 else None
        if match is None:
            return "this link is not valid"
        expected = self._sign(match["payload"]).encode()
        if not hmac.compare_digest(expected, match["signature"].encode()):
            return "this link is not valid"
        expires = int(match["expires"])
        if now.timestamp() >= expires:
            return "this link has expired: acknowledge in the console or the API"
        padded = match["who"] + "=" * (-len(match["who"]) % 4)
        who = base64.urlsafe_b64decode(padded).decode(errors="replace")
        return AckClaim(int(match["incident"]), who, datetime.fromtimestamp(expires, UTC))

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
