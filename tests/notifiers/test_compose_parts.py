"""The mail's bytes: line endings as the email package makes them, one boundary per fan-out."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes

from hypothesis import given
from hypothesis import strategies as st

from notifiers.email.compose import _boundary, _lines, compose
from notifiers.email.headers import sender_address
from notifiers.email.render import Rendered, Renderer
from tests.notifiers.email_support import delivery, notice

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SENDER = sender_address("Exchange Status <status@example.com>")


@given(st.binary(max_size=200) | st.text(alphabet="ab\r\n", max_size=40).map(str.encode))
def test_lines_end_as_splitlines_would_end_them(data: bytes) -> None:
    lines = data.splitlines()
    assert _lines(data) == (b"\n".join(lines) + b"\n", lines)


def test_a_fan_out_shares_one_boundary_until_a_body_holds_it() -> None:
    first = _boundary(b"hello")
    assert _boundary(b"another body") == first
    moved = _boundary(b"quoting " + first)
    assert moved != first and moved not in b"quoting " + first


def test_mails_sharing_a_boundary_still_part_correctly() -> None:
    renderer = Renderer()
    mails = [
        compose(mail, renderer.render(mail), SENDER, NOW, eight_bit=True)
        for mail in (delivery(notice(), delivery_id=n, address=f"u{n}@example.org") for n in (1, 2))
    ]
    parsed = [message_from_bytes(mail) for mail in mails]
    assert parsed[0].get_boundary() == parsed[1].get_boundary()
    for message, number in zip(parsed, (1, 2), strict=True):
        assert message["To"] == f"u{number}@example.org"
        assert message["Message-ID"] == f"<delivery-{number}.42@example.com>"
        text, html = message.get_payload()
        assert "Orders are not being accepted." in text.get_payload(decode=True).decode()
        assert html.get_content_type() == "text/html"


def test_a_shared_header_follows_a_changed_subject() -> None:
    mail = delivery(notice(), delivery_id=3)
    one = compose(mail, Rendered("First subject", "text\n", "<p>html</p>\n"), SENDER, NOW)
    two = compose(mail, Rendered("Second subject", "text\n", "<p>html</p>\n"), SENDER, NOW)
    assert message_from_bytes(one)["Subject"] == "First subject"
    assert message_from_bytes(two)["Subject"] == "Second subject"
