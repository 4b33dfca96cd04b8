"""Mails joined from a stencil are byte for byte what composing each one in full gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from notifiers.channel import Delivery, Links
from notifiers.email.compose import compose
from notifiers.email.headers import sender_address
from notifiers.email.mail_stencil import MailStencils
from notifiers.email.render import Rendered, Renderer
from tests.notifiers.email_support import delivery, notice

NOW = datetime(2026, 11, 22, 9, 30, 15, 250_000, tzinfo=UTC)
SENDER = sender_address("Exchange Status <status@example.com>")
TOKENS = st.text(alphabet=st.sampled_from("abcXYZ019-_.~&<>\"'=%"), min_size=1, max_size=60)
ADDRESSES = st.sampled_from([
    "bob@example.org", "o'hara+news@example.org", "ユーザー@example.jp", "x" * 80 + "@example.org",
    "Bob Smith <bob@example.org>", "bob@例え.jp",
])  # fmt: skip


class Counting(MailStencils):
    """Counts the mails composed in full."""

    full = 0

    def _composed(self, delivery: Delivery, now: datetime, eight_bit: bool) -> bytes:
        self.full += 1
        return super()._composed(delivery, now, eight_bit)


def stencils() -> Counting:
    return Counting(Renderer(), SENDER, "0123456789abcdef")


def in_full(mail: Delivery, eight_bit: bool, now: datetime = NOW) -> bytes:
    return compose(mail, Renderer().render(mail), SENDER, now, eight_bit=eight_bit)


def linked(number: int, token: str, language: str | None = "en", address: str = "") -> Delivery:
    links = Links(
        unsubscribe_url=f"https://status.example.com/unsubscribe?token={token}",
        manage_url=f"https://status.example.com/manage?token={token}",
    )
    return delivery(
        notice(), delivery_id=number, language=language, links=links,
        address=address or f"user{number}@example.org",
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    tokens=st.lists(st.tuples(TOKENS, st.integers(0, 1100), ADDRESSES), min_size=1, max_size=5),
    language=st.sampled_from(["ja", "en", None]),
    eight_bit=st.booleans(),
)
def test_stencilled_mails_equal_full_compositions(
    tokens: list[tuple[str, int, str]], language: str | None, eight_bit: bool
) -> None:
    mails = stencils()
    for number in range(1, 4):  # plain ones first: the stencil is trusted after two
        mail = linked(number, f"plain{number}", language)
        assert mails.mail(mail, NOW, eight_bit=eight_bit) == in_full(mail, eight_bit)
    for number, (token, padding, address) in enumerate(tokens, start=10):
        # Long links push their lines past 78 octets (7bit → 8bit) and past 998 (→ encoded).
        mail = linked(number, token + "p" * padding, language, address)
        assert mails.mail(mail, NOW, eight_bit=eight_bit) == in_full(mail, eight_bit)


def test_a_fan_out_composes_only_the_first_mails_in_full() -> None:
    mails = stencils()
    for number in range(1, 40):
        mail = linked(number, f"token{number:04d}", "ja" if number % 2 else "en")
        later = NOW.replace(second=number)  # the Date moves on
        assert mails.mail(mail, later, eight_bit=True) == in_full(mail, True, later)
    assert mails.full == 2 * 2  # per language: the two mails that verify the stencil


def test_each_recipients_own_values_go_in() -> None:
    mails = stencils()
    made = [mails.mail(linked(n, f"tok{n}"), NOW, eight_bit=True) for n in range(1, 6)]
    last = made[-1].decode()
    assert "To: user5@example.org\r\n" in last and "<delivery-5.42@example.com>" in last
    assert last.count("tok5") >= 3 and "tok4" not in last  # header, text and HTML


def test_a_link_that_needs_escaping_is_escaped_in_the_html_only() -> None:
    mails = stencils()
    for number in range(1, 4):
        mails.mail(linked(number, f"t{number}"), NOW, eight_bit=True)
    made = mails.mail(linked(9, "a&b"), NOW, eight_bit=True).decode()
    text, html = made.split('Content-Type: text/html; charset="utf-8"')
    assert "token=a&b" in text and "token=a&amp;b" in html and "token=a&b" not in html


class ShowsTheDeliveryId(Renderer):
    """A template that writes each mail's own number into the body."""

    def render(self, delivery: Delivery) -> Rendered:
        rendered = super().render(delivery)
        return replace(rendered, text=f"{rendered.text}ref {delivery.id}\n")


def test_a_body_that_differs_beyond_the_links_is_composed_in_full() -> None:
    renderer = ShowsTheDeliveryId()
    mails = Counting(renderer, SENDER, "0123456789abcdef")
    for number in range(1, 8):
        mail = linked(number, f"token{number}")
        expected = compose(mail, renderer.render(mail), SENDER, NOW, eight_bit=True)
        assert mails.mail(mail, NOW, eight_bit=True) == expected
    assert mails.full == 7


def test_a_link_holding_the_mime_boundary_is_composed_in_full_with_another() -> None:
    mails = stencils()
    for number in range(1, 4):
        mails.mail(linked(number, f"t{number}"), NOW, eight_bit=True)
    first = mails.mail(linked(4, "t4"), NOW, eight_bit=True)
    boundary = first.split(b'boundary="', 1)[1].split(b'"', 1)[0].decode()
    composed = mails.full
    mail = linked(5, f"x{boundary}x")
    made = mails.mail(mail, NOW, eight_bit=True)
    assert mails.full == composed + 1  # not joined from the stencil
    assert made == in_full(mail, True)
    used = made.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    assert used.decode() != boundary and made.count(used) == 4
