"""Signed, expiring tokens: minted, verified, and refused once expired or changed in any way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.subscriptions.tokens import Claims, Purpose, Rejection, TokenSigner

KEY = b"k" * 32
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
NONCE = "0123456789abcdef0123456789abcdef"
TOKEN_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.="

claims_strategy = st.builds(
    Claims,
    purpose=st.sampled_from(Purpose),
    subscriber_id=st.integers(min_value=1, max_value=2**63 - 1),
    generation=st.integers(min_value=0, max_value=10**9),
    expires_at=st.integers(min_value=1, max_value=10**4).map(lambda s: NOW + timedelta(seconds=s)),
    nonce=st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
)


def claims(purpose: Purpose = Purpose.CONFIRM, seconds: int = 3600) -> Claims:
    return Claims(purpose, 42, 3, NOW + timedelta(seconds=seconds), NONCE)


def test_a_token_verifies_with_its_claims_and_purpose() -> None:
    signer = TokenSigner(KEY)
    token = signer.mint(claims())
    assert signer.verify(token, Purpose.CONFIRM, NOW) == claims()
    assert signer.mint(claims()) == token  # deterministic: the mail channel can mint it again
    assert len(token) < 120


def test_a_token_of_one_purpose_is_refused_for_the_other() -> None:
    signer = TokenSigner(KEY)
    assert signer.verify(signer.mint(claims()), Purpose.MANAGE, NOW) is Rejection.INVALID
    manage = signer.mint(claims(Purpose.MANAGE))
    assert signer.verify(manage, Purpose.CONFIRM, NOW) is Rejection.INVALID


def test_expired_is_told_apart_from_invalid() -> None:
    signer = TokenSigner(KEY)
    token = signer.mint(claims(seconds=60))
    assert isinstance(signer.verify(token, Purpose.CONFIRM, NOW + timedelta(seconds=59)), Claims)
    assert signer.verify(token, Purpose.CONFIRM, NOW + timedelta(seconds=60)) is Rejection.EXPIRED
    assert TokenSigner(b"x" * 32).verify(token, Purpose.CONFIRM, NOW) is Rejection.INVALID


@pytest.mark.parametrize(
    "token", ["", "c", "c.1.1.1.x.y", "x" * 500, f"c.01.3.99999999999.{NONCE}.{'A' * 43}"]
)
def test_malformed_tokens_are_invalid(token: str) -> None:
    assert TokenSigner(KEY).verify(token, Purpose.CONFIRM, NOW) is Rejection.INVALID


def test_the_key_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="EXWATCH_SUBSCRIPTION_KEY must be at least 32 bytes"):
        TokenSigner(b"short")


@given(token_claims=claims_strategy, after=st.integers(min_value=0, max_value=10**6))
def test_a_token_never_verifies_from_its_expiry_on(token_claims: Claims, after: int) -> None:
    signer = TokenSigner(KEY)
    token = signer.mint(token_claims)
    when = token_claims.expires_at + timedelta(seconds=after)
    assert signer.verify(token, token_claims.purpose, when) is Rejection.EXPIRED
    assert signer.verify(token, token_claims.purpose, NOW) == token_claims


@given(
    token_claims=claims_strategy,
    position=st.integers(min_value=0),
    replacement=st.sampled_from(TOKEN_CHARACTERS),
)
def test_a_token_with_any_character_changed_never_verifies(
    token_claims: Claims, position: int, replacement: str
) -> None:
    signer = TokenSigner(KEY)
    token = signer.mint(token_claims)
    index = position % len(token)
    changed = token[:index] + replacement + token[index + 1 :]
    if changed == token:
        return
    assert signer.verify(changed, token_claims.purpose, NOW) is Rejection.INVALID


@given(token_claims=claims_strategy, data=st.binary(min_size=1, max_size=4))
def test_a_token_with_bytes_added_or_cut_never_verifies(token_claims: Claims, data: bytes) -> None:
    signer = TokenSigner(KEY)
    token = signer.mint(token_claims)
    for changed in (token + data.hex(), token[: -len(data)], data.hex() + token):
        assert signer.verify(changed, token_claims.purpose, NOW) is Rejection.INVALID
