"""What a failed post means: tweepy's and requests' errors as SendOutcomes.

- 429: retryable, after ``x-rate-limit-reset`` (epoch seconds) minus now;
- 403 for duplicate content: permanent — the same text will be refused forever;
- any other 4xx: permanent (bad credentials, a refused or malformed post);
- 5xx, timeouts and connection errors: retryable.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
import tweepy

from notifiers.channel import SendOutcome

DUPLICATE = "duplicate content"
"""Part of X's message when it refuses a post identical to a recent one."""


def from_error(error: Exception, now: Callable[[], float]) -> SendOutcome:
    """The outcome of a post that raised ``error``; ``now`` gives epoch seconds."""
    if isinstance(error, tweepy.TooManyRequests):
        return SendOutcome.retryable(
            f"X rate limit: {_describe(error)}", retry_after=_retry_after(error, now)
        )
    if isinstance(error, tweepy.HTTPException):
        return _refused(error)
    if isinstance(error, requests.JSONDecodeError):
        return SendOutcome.permanent(f"X answered something that is not JSON: {error}")
    if isinstance(error, requests.RequestException):
        return SendOutcome.retryable(f"X unreachable: {type(error).__name__}: {error}")
    return SendOutcome.permanent(f"posting to X failed: {type(error).__name__}: {error}")


def _refused(error: tweepy.HTTPException) -> SendOutcome:
    """A 5xx is worth retrying; any other refusal (duplicate content included) is final."""
    described = _describe(error)
    if isinstance(error, tweepy.TwitterServerError):
        return SendOutcome.retryable(f"X server error: {described}")
    if DUPLICATE in described.lower():
        return SendOutcome.permanent(f"X refused a duplicate post: {described}")
    return SendOutcome.permanent(f"X refused the post: {described}")


def _retry_after(error: tweepy.TooManyRequests, now: Callable[[], float]) -> float | None:
    """Seconds until the rate limit resets, from ``x-rate-limit-reset``; None if not given."""
    reset = error.reset_time
    if reset is None:
        header = error.response.headers.get("x-rate-limit-reset")
        reset = int(header) if header is not None and header.isdigit() else None
    return None if reset is None else max(0.0, float(reset) - now())


def _describe(error: tweepy.HTTPException) -> str:
    """The HTTP status and X's messages (v1.1 ``errors`` or v2 ``detail``), for the reason."""
    status = getattr(error.response, "status_code", "?")
    messages = [str(m) for m in error.api_messages]
    detail = _detail(error.response)
    if detail and detail not in messages:
        messages.append(detail)
    return f"HTTP {status}: {'; '.join(messages) or str(error)}"


def _detail(response: requests.Response) -> str:
    """The ``detail`` of an API v2 problem answer, or ""."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("detail", "")) if isinstance(body, dict) else ""
