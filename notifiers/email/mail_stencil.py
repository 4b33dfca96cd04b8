"""A fan-out's mails as bytes with holes: each recipient's few values joined into the rest.

The mails of one notice in one language differ only in To, Date, Message-ID and the
recipient's links, yet rendering and composing each one in full (subject and bodies filled,
headers formatted, bodies split into lines and encoded) was ~30 µs of a delivery's ~130 µs of
exwatch's own work. ``MailStencils`` composes a notice's mail once with placeholder values,
through the very ``head``/``encode_body``/``assemble`` that compose uses, and splits it at
the placeholders. The head and both bodies are laid into the multipart structure once per pair
of transfer encodings, so each later mail is one join of that recipient's values into ~20
fixed pieces.

Like the render stencil it is trusted only after it gave exactly the full composition of two
deliveries. A mail the pieces cannot give exactly is composed in full: an address or a link
that would be quoted, folded or escaped differently, or a link that makes a body's line too
long for its transfer encoding (checked for every mail: the lines that hold a link are known),
or a value that puts the MIME boundary into the mail (counted in every mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from email.headerregistry import Address

from markupsafe import escape

from monitor.notices import Links, Notice
from notifiers.channel import Delivery
from notifiers.email.compose import (
    RAW,
    assemble,
    compose,
    date_value,
    encode_body,
    head,
    plain_address,
    raw_encoding,
)
from notifiers.email.headers import message_id
from notifiers.email.render import Renderer, languages
from notifiers.email.stencils import Stencils

LINK_FIELDS = tuple(f.name for f in fields(Links))
HTML_SLOTS = {name: f"html:{name}" for name in LINK_FIELDS}  # where a link goes HTML-escaped
STENCILS = 64  # events × languages × link sets × encodings remembered
VERIFIED = 2  # full compositions a stencil must match before it is trusted
PLACEHOLDER_ID = 0  # delivery ids start at 1
PLACEHOLDER_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # "Sat, 01 Jan 2000 00:00:00 +0000"
Slots = dict[str, bytes]
PLAIN_LINK = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no whitespace: goes in as it is
HTML_SPECIAL = re.compile(r"[&<>\"']")  # what escaping in HTML changes
BOUNDARY = re.compile(rb'boundary="([^"]+)"')
BOUNDARY_USES = 4  # in the Content-Type header, before each part and at the end


@dataclass(slots=True)
class _Body:
    """One encoded body in pieces: even items are bytes, odd items name the link there."""

    pieces: list[bytes | str]
    ascii_only: bool
    longest_fixed: int  # the longest line that holds no link
    link_lines: list[tuple[int, tuple[str, ...]]]  # (its fixed octets, its links) per line

    def encoding(self, values: Slots, eight_bit: bool) -> str | None:
        """The body's transfer encoding with ``values`` in; None if it would be encoded."""
        longest = max(
            [self.longest_fixed]
            + [fixed + sum(len(values[name]) for name in names) for fixed, names in self.link_lines]
        )
        return raw_encoding(longest, self.ascii_only, eight_bit)


@dataclass(slots=True)
class _Whole:
    """A whole mail in one piece list for one pair of transfer encodings.

    ``template`` holds the fixed bytes, with None where a value goes (``slots`` says which).
    """

    template: list[bytes | None]
    slots: list[tuple[int, str]]
    boundary: bytes

    def joined(self, values: Slots) -> bytes | None:
        """The mail with ``values`` in; None if a value put the MIME boundary in it."""
        parts = self.template.copy()
        for index, name in self.slots:
            parts[index] = values[name]
        mail = b"".join(parts)  # type: ignore[arg-type]  # every None was just filled
        # The boundary as the structure uses it, and nowhere else (assemble checks the bodies).
        return mail if mail.count(self.boundary) == BOUNDARY_USES else None


@dataclass(slots=True)
class _MailStencil:
    """A notice's mail in pieces, and how many full compositions it matched."""

    notice: Notice  # the notice it was made from: another notice of the event makes another
    head: list[bytes | str] | None = None
    text: _Body | None = None
    html: _Body | None = None
    verified: int = 0  # -1: it did not match, never used
    wholes: dict[tuple[str, str], _Whole] = field(default_factory=dict)  # by the encodings


class MailStencils:
    """Renders and composes mails; a fan-out's from a verified stencil."""

    def __init__(self, renderer: Renderer, sender: Address, mark: str) -> None:
        self._renderer = renderer
        self._sender = sender
        self._marks = {name: f"https://{mark}.invalid/{name}" for name in LINK_FIELDS}
        self._to_mark = f"{mark}@to.invalid"
        self._stencils: Stencils[_MailStencil] = Stencils(STENCILS)
        self._second, self._date_value = PLACEHOLDER_NOW, b""

    def mail(self, delivery: Delivery, now: datetime, *, eight_bit: bool) -> bytes:
        """The mail for ``delivery`` as ``compose`` makes it."""
        stencil = self._stencil(delivery, eight_bit)
        if stencil is None:
            return self._composed(delivery, now, eight_bit)
        made = _filled(stencil, self._values(delivery, now), eight_bit)
        if stencil.verified >= VERIFIED and made is not None:
            return made
        real = self._composed(delivery, now, eight_bit)
        if made is None:
            return real
        if made == real and stencil.verified >= 0:
            stencil.verified += 1
        else:
            stencil.verified = -1
        return real

    def _composed(self, delivery: Delivery, now: datetime, eight_bit: bool) -> bytes:
        rendered = self._renderer.render(delivery)
        return compose(delivery, rendered, self._sender, now, eight_bit=eight_bit)

    def _stencil(self, delivery: Delivery, eight_bit: bool) -> _MailStencil | None:
        """The stencil for ``delivery``'s kind of mail, made on first use; None to compose."""
        links = _links(delivery)
        if links is None or not plain_address(delivery.recipient.address):
            return None
        notice = delivery.notice
        key = (notice.event_id, languages(delivery), tuple(links), eight_bit)
        stencil = self._stencils.find(key, notice)
        if stencil is None:
            stencil = self._stencils.keep(key, self._made(delivery, tuple(links), eight_bit))
        return stencil if stencil.verified >= 0 else None

    def _made(self, delivery: Delivery, names: tuple[str, ...], eight_bit: bool) -> _MailStencil:
        """Compose ``delivery``'s mail with placeholders and cut it where they are."""
        stencil = _MailStencil(delivery.notice)
        marks = {name: self._marks[name] for name in names}
        recipient = replace(delivery.recipient, address=self._to_mark)
        model = replace(delivery, id=PLACEHOLDER_ID, recipient=recipient, links=Links(**marks))
        rendered = self._renderer.render(model)
        text = encode_body(rendered.text, eight_bit)
        html = encode_body(rendered.html, eight_bit)
        linked_subject = any(mark in rendered.subject for mark in marks.values())
        if linked_subject or text[0] not in RAW or html[0] not in RAW:
            stencil.verified = -1  # a link in the subject, or a body that is encoded
            return stencil
        cuts = {mark.encode(): name for name, mark in marks.items()}
        head_cuts = {
            **cuts,
            self._to_mark.encode(): "to",
            date_value(PLACEHOLDER_NOW).encode(): "date",
            message_id(model, self._sender.domain).encode(): "id",
        }
        model_head = head(model, rendered.subject, self._sender, PLACEHOLDER_NOW)
        stencil.head = _cut(model_head, head_cuts)
        stencil.text = _body(_cut(text[1], cuts), text[1].isascii())
        html_cuts = {mark: HTML_SLOTS[name] for mark, name in cuts.items()}  # escaped values
        stencil.html = _body(_cut(html[1], html_cuts), html[1].isascii())
        return stencil

    def _values(self, delivery: Delivery, now: datetime) -> Slots:
        links = delivery.links
        values: Slots = {
            "to": delivery.recipient.address.encode("ascii"),
            "date": self._date(now),
            "id": message_id(delivery, self._sender.domain).encode("ascii"),
        }
        for name in LINK_FIELDS:
            value = getattr(links, name)
            if value is not None:
                raw = values[name] = value.encode("ascii")
                # Most links hold nothing HTML escapes: the same bytes, without a Markup made.
                escaped = str(escape(value)).encode("ascii") if HTML_SPECIAL.search(value) else raw
                values[HTML_SLOTS[name]] = escaped
        return values

    def _date(self, now: datetime) -> bytes:
        """The Date value, formatted once a second."""
        second = now.replace(microsecond=0)
        if second != self._second:
            self._second, self._date_value = second, date_value(second).encode("ascii")
        return self._date_value


def _links(delivery: Delivery) -> list[str] | None:
    """The names of the delivery's links; None when one would not go in as it is."""
    names = []
    for name in LINK_FIELDS:
        value = getattr(delivery.links, name)
        if value is not None:
            if PLAIN_LINK.fullmatch(value) is None:
                return None
            names.append(name)
    return names


def _filled(stencil: _MailStencil, values: Slots, eight_bit: bool) -> bytes | None:
    assert stencil.head is not None and stencil.text is not None and stencil.html is not None
    text = stencil.text.encoding(values, eight_bit)
    html = stencil.html.encoding(values, eight_bit)
    if text is None or html is None:
        return None
    whole = stencil.wholes.get((text, html))
    if whole is None:
        whole = stencil.wholes[text, html] = _whole(stencil, text, html)
    return whole.joined(values)


def _whole(stencil: _MailStencil, text: str, html: str) -> _Whole:
    """The stencil's head and bodies in the multipart structure ``assemble`` gives them."""
    assert stencil.head is not None and stencil.text is not None and stencil.html is not None
    parts = {b"\0head\0": stencil.head, b"\0text\0": stencil.text.pieces,
             b"\0html\0": stencil.html.pieces}  # fmt: skip
    structure = assemble(b"\0head\0", (text, b"\0text\0"), (html, b"\0html\0"))
    template: list[bytes | None] = []
    slots: list[tuple[int, str]] = []
    for piece in _cut(structure, {mark: mark.decode() for mark in parts}):
        for part in parts[piece.encode()] if isinstance(piece, str) else [piece]:
            if isinstance(part, str):
                slots.append((len(template), part))
                template.append(None)
            elif template and template[-1] is not None:
                template[-1] += part  # fewer, longer pieces: one join of fewer parts
            else:
                template.append(part)
    boundary = BOUNDARY.search(structure)
    assert boundary is not None
    return _Whole(template, slots, boundary[1])


def _cut(data: bytes, marks: dict[bytes, str]) -> list[bytes | str]:
    """``data`` split at each mark: bytes, then the mark's name, then bytes, and so on."""
    pieces: list[bytes | str] = [data]
    for mark, name in marks.items():
        split: list[bytes | str] = []
        for piece in pieces:
            if isinstance(piece, str):
                split.append(piece)
                continue
            parts = piece.split(mark)
            for index, part in enumerate(parts):
                if index:
                    split.append(name)
                split.append(part)
        pieces = split
    return pieces


def _body(pieces: list[bytes | str], ascii_only: bool) -> _Body:
    """A body's pieces with the lengths of its lines, counted without the links."""
    lines: list[tuple[int, tuple[str, ...]]] = []
    fixed = 0
    names: tuple[str, ...] = ()
    for piece in pieces:
        if isinstance(piece, str):
            names += (piece,)
            continue
        parts = piece.split(b"\r\n")
        for part in parts[:-1]:
            lines.append((fixed + len(part), names))
            fixed, names = 0, ()
        fixed += len(parts[-1])
    lines.append((fixed, names))
    longest_fixed = max((length for length, linked in lines if not linked), default=0)
    return _Body(pieces, ascii_only, longest_fixed, [line for line in lines if line[1]])
