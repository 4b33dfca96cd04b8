"""Rendering a delivery: the subject, the plain text and the HTML from Jinja2 templates.

Each notice kind has one small template per language and format (``en/page.html``,
``ja/page.txt``) extending ``section.html`` / ``section.txt``; ``layout.html`` / ``layout.txt``
put the sections (Japanese first when both languages go out) and the footer together. HTML is
rendered with autoescape; text by a second environment without it, so it holds no entities.
A ``templates_dir`` in config is searched before the shipped templates.

A fan-out sends one notice to many subscribers whose mails differ only in their links (each
carries its own unsubscribe and manage tokens). So from the second delivery of a notice in a
language on, the Renderer renders it once with placeholder links and fills each recipient's
links in (HTML-escaped in the HTML, as autoescape would); it uses this stencil only after it
gave exactly the real rendering of two deliveries, and renders each one fully otherwise (a
template that inspects or transforms a link, or links holding whitespace).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from markupsafe import Markup, escape

from monitor.notices import Links, Notice
from notifiers.channel import Delivery
from notifiers.email.context import section_context
from notifiers.email.stencils import Stencils

LANGUAGES = ("ja", "en")
LINK_FIELDS = tuple(f.name for f in fields(Links))
STENCILS = 64  # events × languages × link sets remembered (a fan-out has one or two)
VERIFIED = 2  # real renderings a stencil must match before it is trusted
SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A mail's words: one-line subject, plain text and HTML."""

    subject: str
    text: str
    html: str


class Renderer:
    """Renders deliveries from the override directory's templates, then the shipped ones."""

    def __init__(self, templates_dir: str | None = None, zone: str = "Asia/Tokyo") -> None:
        loader = _loader(templates_dir)
        options: dict[str, Any] = {
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "auto_reload": False,
        }
        self._html = Environment(loader=loader, autoescape=True, lstrip_blocks=True, **options)
        self._text = Environment(loader=loader, autoescape=False, lstrip_blocks=True, **options)
        self._zone = ZoneInfo(zone)
        self._mark = secrets.token_hex(8)
        # By event, languages and which links are set; the notice itself is compared on use.
        self._stencils: Stencils[_Stencil] = Stencils(STENCILS)

    def render(self, delivery: Delivery) -> Rendered:
        """Render ``delivery`` in the recipient's language, or both (ja first) when None."""
        links = delivery.links
        set_links = tuple(name for name in LINK_FIELDS if getattr(links, name) is not None)
        if any(_has_space(getattr(links, name)) for name in set_links):
            return self._render(delivery)
        notice = delivery.notice
        key = (notice.event_id, languages(delivery), set_links)
        stencil = self._stencils.find(key, notice)
        if stencil is None:
            self._stencils.keep(key, _Stencil(notice))  # seen once: nothing to reuse yet
            return self._render(delivery)
        if stencil.verified >= VERIFIED:
            return stencil.fill(links)
        real = self._render(delivery)
        if stencil.rendered is None and stencil.verified == 0:
            placeholders = Links(**{n: f"https://{self._mark}.invalid/{n}" for n in set_links})
            stencil.rendered = self._render(replace(delivery, links=placeholders))
            stencil.placeholders = placeholders
        if stencil.rendered is not None and stencil.fill(links) == real:
            stencil.verified += 1
        else:
            stencil.rendered = None  # this notice's mails are rendered one by one
            stencil.verified = -1
        return real

    def _render(self, delivery: Delivery) -> Rendered:
        kind = delivery.notice.kind
        contexts = [section_context(delivery, lang, self._zone) for lang in languages(delivery)]
        subjects = self._sections(self._text, f"{kind}.txt", contexts, "subject")
        texts = self._sections(self._text, f"{kind}.txt", contexts, "body")
        htmls = self._sections(self._html, f"{kind}.html", contexts, "body")
        subject = f"[{delivery.notice.site_name}] " + " / ".join(subjects)
        return Rendered(
            subject=" ".join(subject.split()),
            text=_tidy(self._layout(self._text, "layout.txt", texts, contexts)),
            html=self._layout(self._html, "layout.html", htmls, contexts),
        )

    def _sections(
        self, env: Environment, name: str, contexts: list[dict[str, Any]], part: str
    ) -> list[str]:
        """Render ``part`` of each language's ``{language}/{name}`` template."""
        return [
            env.get_template(f"{c['language']}/{name}").render(c, part=part).strip()
            for c in contexts
        ]

    def _layout(
        self, env: Environment, name: str, sections: list[str], contexts: list[dict[str, Any]]
    ) -> str:
        footer = env.get_template("footer" + name.removeprefix("layout"))
        parts = [
            {"language": c["language"], "body": Markup(body), "footer": Markup(footer.render(c))}
            for c, body in zip(contexts, sections, strict=True)
        ]
        return env.get_template(name).render(contexts[0], parts=parts)


@dataclass(slots=True)
class _Stencil:
    """One notice rendered with placeholder links, and how many real renderings it matched."""

    notice: Notice  # the notice it was rendered from: another notice of the event re-renders
    rendered: Rendered | None = None
    placeholders: Links | None = None
    verified: int = 0  # -1: did not match; never used
    # subject, text and HTML split at the placeholders: odd items name the link that goes there
    _pieces: tuple[list[str], list[str], list[str]] | None = None

    def fill(self, links: Links) -> Rendered:
        """The stencil with ``links`` in place of the placeholders."""
        if self._pieces is None:
            self._pieces = self._split()
        subject, text, html = self._pieces
        values = {name: str(getattr(links, name)) for name in self._names()}
        return Rendered(
            _joined(subject, values),
            _joined(text, values),
            _joined(html, {name: str(escape(value)) for name, value in values.items()}),
        )

    def _names(self) -> list[str]:
        """The links this stencil has placeholders for."""
        assert self.placeholders is not None
        return [name for name in LINK_FIELDS if getattr(self.placeholders, name) is not None]

    def _split(self) -> tuple[list[str], list[str], list[str]]:
        assert self.rendered is not None and self.placeholders is not None
        names = {getattr(self.placeholders, name): name for name in self._names()}
        rendered = self.rendered
        if not names:
            return [rendered.subject], [rendered.text], [rendered.html]
        pattern = re.compile("(" + "|".join(map(re.escape, names)) + ")")

        def split(value: str) -> list[str]:
            pieces = pattern.split(value)
            return [names[p] if i % 2 else p for i, p in enumerate(pieces)]

        return split(rendered.subject), split(rendered.text), split(rendered.html)


def _joined(pieces: list[str], values: dict[str, str]) -> str:
    """The pieces with each link's value at the odd (placeholder) places."""
    return "".join(values[p] if i % 2 else p for i, p in enumerate(pieces))


def _has_space(value: str | None) -> bool:
    return value is not None and (not value or SPACE.search(value) is not None)


def languages(delivery: Delivery) -> tuple[str, ...]:
    """Return the languages a delivery is written in: the recipient's, or all (ja first)."""
    language = delivery.recipient.language
    return (language,) if language in LANGUAGES else LANGUAGES


def _loader(templates_dir: str | None) -> BaseLoader:
    shipped = PackageLoader("notifiers.email", "templates")
    if templates_dir is None:
        return shipped
    return ChoiceLoader([FileSystemLoader(templates_dir), shipped])


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
