"""Building the mail as SMTP-ready bytes: headers, then a multipart/alternative of text and HTML.

The bytes are written directly rather than through ``EmailMessage``: building and flattening
one with the email package's header registry cost ~1.9 ms a mail (header parsing and folding),
ten times the cost of sending it. Plain ASCII header values are written as they are (folded at
spaces past 78 characters); anything else (Japanese subjects, display names, non-ASCII
addresses) is folded by the email package's own policy, cached per value because one notice's
subject is the same for all its recipients. Bodies are quoted-printable or base64, whichever is
shorter, or 7bit when they are short-lined ASCII.
"""

from __future__ import annotations

import binascii
import random
import re
from datetime import datetime
from email.headerregistry import Address
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime
from functools import lru_cache

from notifiers.channel import Delivery
from notifiers.email.headers import message_id, thread_root
from notifiers.email.render import Rendered

MAX_LINE = 78
MAX_SMTP_LINE = 998  # octets in a line without its CRLF (RFC 5321 §4.5.3.1.6)
RAW = ("7bit", "8bit")  # transfer encodings that leave the body as it is
SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
ADDRESS_HEADERS = frozenset({"From", "To"})
# Headers that differ between a fan-out's mails; the others (From, Subject, Date within a
# second, the thread's ids) are formatted once and reused.
PER_RECIPIENT = frozenset({"To", "Message-ID", "List-Unsubscribe"})


def compose(
    delivery: Delivery,
    rendered: Rendered,
    sender: Address,
    now: datetime,
    *,
    eight_bit: bool = False,
) -> bytes:
    """Return the mail for ``delivery``: From, To, Date, ids, threading, list headers, body.

    With ``eight_bit`` (the server takes 8BITMIME) bodies go as they are when their lines
    fit SMTP's 998 octets; otherwise quoted-printable or base64. Raises ValueError for a
    header value with a line break (as the email package does).
    """
    return assemble(
        head(delivery, rendered.subject, sender, now),
        encode_body(rendered.text, eight_bit),
        encode_body(rendered.html, eight_bit),
    )


def head(delivery: Delivery, subject: str, sender: Address, now: datetime) -> bytes:
    """The mail's header lines, up to the MIME ones."""
    recipient = delivery.recipient.address
    from_header, from_ascii = _sender(sender.display_name, sender.username, sender.domain)
    utf8 = not (recipient.isascii() and from_ascii)
    headers = [
        ("From", from_header),
        ("To", recipient),
        ("Subject", subject),
        ("Date", date_value(now)),
        ("Message-ID", message_id(delivery, sender.domain)),
    ]
    root = thread_root(delivery.notice, sender.domain)
    if root is not None:
        headers += [("In-Reply-To", root), ("References", root)]
    unsubscribe = delivery.links.unsubscribe_url
    if unsubscribe is not None:
        headers += [
            ("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    headers.append(("Auto-Submitted", "auto-generated"))
    return b"".join(
        _header(name, value, utf8) if name in PER_RECIPIENT else _shared_header(name, value, utf8)
        for name, value in headers
    )


def assemble(head: bytes, text: tuple[str, bytes], html: tuple[str, bytes]) -> bytes:
    """The whole mail: ``head``, then a multipart/alternative of the encoded text and HTML."""
    text_cte, text_body = text
    html_cte, html_body = html
    boundary = _boundary(
        text_body if text_cte in RAW else b"", html_body if html_cte in RAW else b""
    )
    return b"".join((
        head,
        b"MIME-Version: 1.0\r\n",
        b'Content-Type: multipart/alternative;\r\n boundary="', boundary, b'"\r\n\r\n',
        b"--", boundary, b'\r\nContent-Type: text/plain; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: ", text_cte.encode(), b"\r\n\r\n", text_body,
        b"\r\n--", boundary, b'\r\nContent-Type: text/html; charset="utf-8"\r\n',
        b"Content-Transfer-Encoding: ", html_cte.encode(), b"\r\n\r\n", html_body,
        b"\r\n--", boundary, b"--\r\n",
    ))  # fmt: skip


def plain_address(address: str) -> bool:
    """Whether the To header holds ``address`` as it is (ASCII, no quoting, no folding)."""
    return address.isascii() and SIMPLE_ADDRESS.fullmatch(address) is not None


def date_value(now: datetime) -> str:
    """The Date header's value: to the second, formatted once a second."""
    return _date(now.replace(microsecond=0))


def raw_encoding(longest: int, ascii_only: bool, eight_bit: bool) -> str | None:
    """The transfer encoding that leaves a body as it is, if one fits; else None."""
    if longest <= MAX_LINE and ascii_only:
        return "7bit"
    if eight_bit and longest <= MAX_SMTP_LINE:
        return "8bit"
    return None


# A fan-out's mails share their sender and, within a second, their Date: each is formatted once.
@lru_cache(maxsize=16)
def _sender(display_name: str, username: str, domain: str) -> tuple[str, bool]:
    """The From header's value, and whether the sender's address is ASCII."""
    address = Address(display_name=display_name, username=username, domain=domain)
    return str(address), address.addr_spec.isascii()


@lru_cache(maxsize=4)
def _date(now: datetime) -> str:
    return format_datetime(now)


@lru_cache(maxsize=256)
def _shared_header(name: str, value: str, utf8: bool) -> bytes:
    return _header(name, value, utf8)


def _header(name: str, value: str, utf8: bool) -> bytes:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header may not contain a line break")
    plain = plain_address(value) if name in ADDRESS_HEADERS else value.isascii()
    if plain and len(name) + 2 + len(value) <= MAX_LINE:
        return f"{name}: {value}\r\n".encode("ascii")
    if plain and " " not in value and len(name) + 2 + len(value) <= 998:
        return f"{name}: {value}\r\n".encode("ascii")  # a URL: unfolded, as RFC 2369 wants
    if plain:
        return _fold_at_spaces(name, value)
    return _folded(name, value, utf8)


def _fold_at_spaces(name: str, value: str) -> bytes:
    lines: list[str] = []
    line = f"{name}: {value}"
    while len(line) > MAX_LINE:
        cut = line.rfind(" ", len(name) + 2, MAX_LINE + 1)
        if cut <= len(name) + 2:
            cut = line.find(" ", MAX_LINE + 1)
            if cut < 0:
                break
        lines.append(line[:cut])
        line = line[cut:]  # the continuation starts with the space that was there
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


@lru_cache(maxsize=1024)
def _folded(name: str, value: str, utf8: bool) -> bytes:
    """The email package's own encoding and folding (RFC 2047 words, quoted display names)."""
    policy = SMTPUTF8 if utf8 else SMTP
    folded: str = policy.header_factory(name, value).fold(policy=policy)
    return folded.encode("utf-8")


def encode_body(text: str, eight_bit: bool) -> tuple[str, bytes]:
    """Return the transfer encoding and the encoded body, with CRLF line endings."""
    data, lines = _lines(text.encode("utf-8"))
    raw = raw_encoding(max(map(len, lines), default=0), data.isascii(), eight_bit)
    if raw is not None:
        return raw, data.replace(b"\n", b"\r\n")
    sniff = b"\n".join(lines[:10]) + b"\n"  # the email package's choice: by the first lines
    if len(binascii.b2a_qp(sniff, istext=True)) <= len(binascii.b2a_base64(sniff)):
        return "quoted-printable", binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")
    encoded = binascii.b2a_base64(data, newline=False)
    return "base64", b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _lines(data: bytes) -> tuple[bytes, list[bytes]]:
    """The body with each line ended by LF (as set_content makes them), and its lines."""
    if data and b"\r" not in data:  # the templates' usual output: LF only
        if data.endswith(b"\n"):
            return data, data[:-1].split(b"\n")
        return data + b"\n", data.split(b"\n")
    lines = data.splitlines()
    return b"\n".join(lines) + b"\n", lines


class _Boundary:
    """A boundary no 7bit body contains (encoded bodies never hold a run of '=').

    Not a secret: it only has to be absent from the bodies, as in the email package's own.
    The last one drawn is used again while it is: a fan-out's mails share one.
    """

    def __init__(self) -> None:
        self._current = self._draw()

    def avoiding(self, *bodies: bytes) -> bytes:
        """A boundary none of ``bodies`` contains."""
        while any(self._current in body for body in bodies):
            self._current = self._draw()
        return self._current

    @staticmethod
    def _draw() -> bytes:
        return f"==============={random.randrange(10**19):019d}==".encode("ascii")


_boundary = _Boundary().avoiding
