"""Addresses are stored in one normal form: trimmed, domain lower-cased, ASCII local lower-cased."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from monitor.subscriptions.normalisation import AddressError, normalise_address


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Alice.Smith@Example.COM \n", "alice.smith@example.com"),
        ("a.l.i.c.e+status@GMAIL.com", "a.l.i.c.e+status@gmail.com"),  # dots and tags stay
        ("user@xn--bcher-kva.example", "user@bücher.example"),  # IDNA: one spelling per domain
        ("user@BÜCHER.example", "user@bücher.example"),
        ("ÅSA@example.com", "Åsa@example.com"),  # non-ASCII letters keep their case
        ("山田@例え.jp", "山田@例え.jp"),
    ],
)
def test_addresses_are_normalised(typed: str, stored: str) -> None:
    assert normalise_address(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "enter an email address"),
        ("   ", "enter an email address"),
        ("no-at-sign", "@"),
        ("a..b@example.com", "period"),
        ("Name <a@example.com>", "display name"),
        ('"quoted"@example.com', "Quoting"),
        ("a@[192.0.2.1]", "bracketed"),
        ("a@localhost", "period"),
        ("a@" + "b" * 330 + ".com", "at most 320"),
    ],
)
def test_bad_addresses_say_why(typed: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        normalise_address(typed)


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
local_parts = st.text(alphabet=st.sampled_from("abcXYZ019._+-!#ÅäÉ山"), min_size=1, max_size=20)
domains = st.lists(
    st.text(alphabet=st.sampled_from("abcXYZ09-ü"), min_size=1, max_size=10),
    min_size=1,
    max_size=3,
).map(lambda labels: ".".join([*labels, "com"]))
spaces = st.text(alphabet=" \t\n", max_size=3)


@given(local=local_parts, domain=domains, before=spaces, after=spaces)
def test_normalising_is_idempotent(local: str, domain: str, before: str, after: str) -> None:
    try:
        once = normalise_address(f"{before}{local}@{domain}{after}")
    except AddressError:
        assume(False)
        return
    assert normalise_address(once) == once
    assert once == once.strip()
    assert once.split("@")[1] == once.split("@")[1].lower()


@given(local=local_parts, domain=domains)
def test_the_case_of_ascii_letters_never_makes_two_subscribers(local: str, domain: str) -> None:
    try:
        lower = normalise_address(f"{local}@{domain}")
    except AddressError:
        assume(False)
        return
    shouted = f"{local}@{domain}".translate(_ASCII_UPPER)
    assert normalise_address(shouted) == lower
