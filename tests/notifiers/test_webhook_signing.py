"""Webhook signatures and what HTTP answers mean, without a network."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from notifiers.channel import Outcome
from notifiers.webhook import classify, signature_header, verify_signature
from notifiers.webhook.responses import excerpt, retry_after

SECRET = "whsec-test"
BODY = b'{"schema":"exwatch.notification.v1","title":"<script>&"}'
T = 1_800_000_000


def test_header_is_timestamp_and_hmac_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_a_good_signature_verifies() -> None:
    assert verify_signature(SECRET, signature_header(SECRET, T, BODY), BODY, now=T + 5)
    assert verify_signature(SECRET.encode(), signature_header(SECRET, T, BODY), BODY, now=T)


def test_a_tampered_body_fails() -> None:
    header = signature_header(SECRET, T, BODY)
    assert not verify_signature(SECRET, header, BODY.replace(b"<script>", b"<scripT>"), now=T)


def test_a_wrong_secret_fails() -> None:
    assert not verify_signature("other", signature_header(SECRET, T, BODY), BODY, now=T)


@pytest.mark.parametrize("now", [T + 301, T - 301])
def test_a_stale_or_future_timestamp_fails(now: int) -> None:
    assert verify_signature(SECRET, signature_header(SECRET, T, BODY), BODY, now=T + 300)
    assert not verify_signature(SECRET, signature_header(SECRET, T, BODY), BODY, now=now)


def test_tolerance_can_be_set() -> None:
    header = signature_header(SECRET, T, BODY)
    assert not verify_signature(SECRET, header, BODY, now=T + 61, tolerance=60)


def test_a_replayed_signature_with_a_new_timestamp_fails() -> None:
    good = signature_header(SECRET, T, BODY)
    forged = good.replace(f"t={T}", f"t={T + 1000}")
    assert not verify_signature(SECRET, forged, BODY, now=T + 1000)


def test_any_of_several_signatures_may_match_during_rotation() -> None:
    old = signature_header("old-secret", T, BODY).split(",")[1]
    header = f"{signature_header(SECRET, T, BODY)},{old}"
    assert verify_signature("old-secret", header, BODY, now=T)
    assert verify_signature(SECRET, header, BODY, now=T)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={T}",
        "v1=abc",
        f"t=-{T},v1=00",
        f"t={T},v1=",
        f"t={T},v1=é",
        "t=１２,v1=00",
    ],
)
def test_malformed_headers_fail_without_raising(header: str) -> None:
    assert not verify_signature(SECRET, header, BODY, now=T)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_sent(status: int) -> None:
    assert classify(status, {}, b"", now=T).outcome is Outcome.OK


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_timeouts_throttling_and_server_errors_are_retryable(status: int) -> None:
    outcome = classify(status, {}, b"busy", now=T)
    assert (outcome.outcome, outcome.reason, outcome.retry_after) == (
        Outcome.RETRYABLE,
        f"HTTP {status}: busy",
        None,
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_other_4xx_are_permanent_with_the_status_and_body(status: int) -> None:
    outcome = classify(status, {}, b"no_service\n  channel_not_found", now=T)
    assert (outcome.outcome, outcome.reason) == (
        Outcome.PERMANENT,
        f"HTTP {status}: no_service channel_not_found",
    )


def test_a_redirect_is_permanent_and_names_where_it_pointed() -> None:
    outcome = classify(301, {"location": "https://elsewhere.example/"}, b"", now=T)
    assert outcome.outcome is Outcome.PERMANENT
    assert "https://elsewhere.example/" in outcome.reason


def test_retry_after_in_seconds_or_as_a_date() -> None:
    later = format_datetime(datetime.fromtimestamp(T + 90, UTC), usegmt=True)
    assert classify(429, {"retry-after": "30"}, b"", now=T).retry_after == 30.0
    assert classify(503, {"retry-after": later}, b"", now=T).retry_after == 90.0
    assert retry_after({"retry-after": later}, now=T + 100) == 0.0
    assert retry_after({"retry-after": "soon"}, now=T) is None
    assert retry_after({"retry-after": "-5"}, now=T) is None


def test_the_body_excerpt_is_short_and_one_line() -> None:
    text = excerpt(b"x" * 10_000 + b"\xff")
    assert len(text) == 200 and text.endswith("…")
    assert excerpt(b"\xffbad\r\nutf8") == "\ufffdbad utf8"
