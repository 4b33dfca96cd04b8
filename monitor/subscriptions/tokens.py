"""Signed, expiring tokens: the only credential a subscriber ever holds (there is no login).

A token is ``{purpose}.{subscriber id}.{generation}.{expires}.{nonce}.{signature}``:

- ``purpose`` is ``c`` (confirm one request, short-lived) or ``m`` (manage and unsubscribe,
  long-lived); a token of one purpose is refused for the other;
- ``generation`` (confirm tokens) names the confirmation request it confirms, so an older link
  never applies a newer request (which anyone can make for any address); ``0`` for manage;
- ``expires`` is a Unix time in whole seconds: the token is refused from that second on;
- ``nonce`` is the subscriber row's random nonce: a token never outlives its row, even where a
  database reuses a deleted row's id;
- ``signature`` is HMAC-SHA256 over everything before it (the exact text, so no two spellings
  of one token verify), base64url without padding, compared in constant time.

The HMAC key is derived from ``EXWATCH_SUBSCRIPTION_KEY`` (at least 32 bytes) with a label, so
the same secret never signs two kinds of thing. Tokens are deterministic: the same fields give
the same token, so #6 can mint a link again (retries send identical mail).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

MIN_KEY_BYTES = 32
MAX_TOKEN_LENGTH = 200
_SHAPE = re.compile(
    r"(?P<payload>(?P<purpose>[cm])\.(?P<id>[1-9][0-9]{0,18})\.(?P<generation>0|[1-9][0-9]{0,9})"
    r"\.(?P<expires>[1-9][0-9]{0,11})\.(?P<nonce>[0-9a-f]{32}))\.(?P<signature>[A-Za-z0-9_-]{43})"
)


class Purpose(StrEnum):
    """What a token lets its holder do."""

    CONFIRM = "c"
    MANAGE = "m"


class Rejection(StrEnum):
    """Why a token was refused: the page tells an expired link from any other bad one."""

    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says."""

    purpose: Purpose
    subscriber_id: int
    generation: int
    expires_at: datetime
    nonce: str


def check_subscription_key(key: bytes) -> bytes:
    """Return ``key`` if it is long enough to sign tokens, else raise ValueError saying so."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"EXWATCH_SUBSCRIPTION_KEY must be at least {MIN_KEY_BYTES} bytes")
    return key


def derive_key(key: bytes, label: str) -> bytes:
    """Return a key for one use (``label``) derived from the subscription key."""
    return hmac.new(key, f"exwatch/subscriptions/{label}".encode(), hashlib.sha256).digest()


class TokenSigner:
    """Mints and verifies subscription tokens with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = derive_key(check_subscription_key(key), "token/v1")

    def mint(self, claims: Claims) -> str:
        """Return the token for ``claims``."""
        expires = int(claims.expires_at.timestamp())
        payload = (
            f"{claims.purpose.value}.{claims.subscriber_id}.{claims.generation}"
            f".{expires}.{claims.nonce}"
        )
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, purpose: Purpose, now: datetime) -> Claims | Rejection:
        """Return the claims of a genuine, unexpired token of ``purpose``, else why not."""
        match = _SHAPE.fullmatch(token) if len(token) <= MAX_TOKEN_LENGTH else None
        if match is None:
            return Rejection.INVALID
        expected = self._sign(match["payload"]).encode()
        if not hmac.compare_digest(expected, match["signature"].encode()):
            return Rejection.INVALID
        if match["purpose"] != purpose.value:
            return Rejection.INVALID
        expires = int(match["expires"])
        if now.timestamp() >= expires:
            return Rejection.EXPIRED
        return Claims(
            purpose=purpose,
            subscriber_id=int(match["id"]),
            generation=int(match["generation"]),
            expires_at=datetime.fromtimestamp(expires, UTC),
            nonce=match["nonce"],
        )

    def _sign(self, payload: str) -> str:
        digest = hmac.digest(self._key, payload.encode(), "sha256")  # one call: OpenSSL's HMAC
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
