"""Signing webhook bodies so receivers can tell they came from exwatch, unaltered and recent.

The ``X-Exwatch-Signature`` header reads ``t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 keyed with the webhook's secret over ``f"{t}."`` followed by the raw body bytes.
A receiver recomputes it over the bytes it got (before parsing the JSON), compares in constant
time and rejects timestamps older (or further ahead) than a few minutes, which stops replays.
Several ``v1=`` values may appear while a secret is being rotated; any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Exwatch-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300.0


def _as_bytes(secret: str | bytes) -> bytes:
    """Return the secret as bytes (a str secret is taken as UTF-8)."""
    return secret.encode() if isinstance(secret, str) else secret


def compute_signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``f"{timestamp}."`` + ``body`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def signature_header(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """Return the ``X-Exwatch-Signature`` value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},{SCHEME}={compute_signature(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int | None, list[str]]:
    """Split a signature header into its timestamp (None if absent or bad) and v1 values."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str | bytes,
    header: str,
    body: bytes,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Tell whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` s of ``now``.

    ``now`` is the receiver's clock in epoch seconds. A header without a timestamp or a
    signature, a timestamp more than ``tolerance`` seconds away, or no matching signature
    all answer False; the comparison runs in constant time.
    """
    timestamp, signatures = _parse(header)
    if timestamp is None or not signatures or abs(now - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body).encode()
    matches = [hmac.compare_digest(expected, candidate.encode()) for candidate in signatures]
    return any(matches)
