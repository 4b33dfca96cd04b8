"""The text of a post: a headline, the update's words and the link, within 280 weighted.

A post in one language reads::

    [障害] 取引エンジン: 大規模障害 — 調査中
    <the update's text>
    <incident link>

With "both", the Japanese headline and text come first, then a blank line, then the English ones,
then the link. The link is always kept whole. When the post is too long, the update texts are
cut (``cut``: at a sentence or word boundary, never inside a character, plus "…"), sharing the
room fairly between the languages; only if the headlines alone do not fit are they cut too.
All text is NFC-normalised, as X counts it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from monitor.notices import Notice
from notifiers.x.cut import cut, window
from notifiers.x.length import MAX_WEIGHTED_LENGTH, weighted_length
from notifiers.x.wording import headline

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def languages(setting: str) -> tuple[str, ...]:
    """The languages of a post for an account's ``language`` setting (ja | en | both)."""
    return ("ja", "en") if setting == "both" else (("ja",) if setting == "ja" else ("en",))


def clean(text: str) -> str:
    """``text`` as posted: NFC, without surrounding blanks or unpaired surrogates."""
    return unicodedata.normalize("NFC", _LONE_SURROGATE.sub("\ufffd", text)).strip()


def link_of(notice: Notice) -> str:
    """The link a post about ``notice`` carries: the incident, the maintenance, or the site."""
    source = notice.incident or notice.maintenance
    return clean(notice.site_url if source is None else source.url)


def compose(notice: Notice, language: str, *, limit: int = MAX_WEIGHTED_LENGTH) -> str:
    """The post about ``notice`` for an account posting in ``language`` (ja | en | both)."""
    langs = languages(language)
    heads = [window(clean(headline(notice, lang)), limit) for lang in langs]
    bodies = [window(clean(notice.body.get(lang)), limit) for lang in langs]
    return fit(heads, bodies, link_of(notice), limit=limit)


def render(heads: list[str], bodies: list[str], link: str) -> str:
    """Lay out the post: each language's headline and text, a blank line between, the link."""
    sections = ["\n".join(p for p in pair if p) for pair in zip(heads, bodies, strict=True)]
    return "\n".join(p for p in ("\n\n".join(s for s in sections if s), link) if p)


def fit(heads: list[str], bodies: list[str], link: str, *, limit: int) -> str:
    """The post within ``limit``: the texts cut first, then the headlines, the link never."""
    post = render(heads, bodies, link)
    if weighted_length(post) <= limit:
        return post
    kept = _shrink(lambda parts: render(heads, parts, link), bodies, limit)
    if kept is not None:
        return render(heads, kept, link)
    empty = ["" for _ in bodies]
    heads = _shrink(lambda parts: render(parts, empty, link), heads, limit) or empty
    return render(heads, empty, link)


def _shrink(layout: Callable[[list[str]], str], parts: list[str], limit: int) -> list[str] | None:
    """Cut ``parts`` so that ``layout(parts)`` weighs at most ``limit``; None if it cannot."""
    allowance = limit - weighted_length(layout(["" for _ in parts])) - len(parts)
    while allowance >= 0:
        shrunk = share(parts, allowance)
        excess = weighted_length(layout(shrunk)) - limit
        if excess <= 0:
            return shrunk
        allowance -= excess
    return None


def share(parts: list[str], allowance: int) -> list[str]:
    """Cut ``parts`` to weigh ``allowance`` together, fairly: short ones whole, long ones evenly."""
    weights = [weighted_length(part) for part in parts]
    result = list(parts)
    left = allowance
    for rank, index in enumerate(sorted(range(len(parts)), key=weights.__getitem__)):
        result[index] = cut(parts[index], min(weights[index], left // (len(parts) - rank)))
        left -= weighted_length(result[index])
    return result
