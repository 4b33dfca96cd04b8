"""Finding the links in a post, which X counts as 23 whatever their length (t.co wrapping).

twitter-text's URL extractor relies on the full IANA list of top-level domains and a large
regular expression; this module is a conservative approximation of it. Counting a link that X
does not see as one as 23 would under-count a long "link" (and X would refuse the post), so a
candidate weighs 23 only when X certainly sees a link; when in doubt it weighs
``max(23, its literal length)``, which is never less than what X counts:

- certain: an explicit ``http://`` or ``https://`` scheme, not glued to a preceding letter, digit,
  ``@``, ``$`` or ``#``, on an ASCII host whose top-level domain is in ``KNOWN_TLDS``;
- in doubt: any other domain-like run (``example.com/path``, an unknown TLD such as ``.internal``).

The characters a candidate may hold are a subset of those twitter-text allows, and it ends on the
same characters twitter-text lets a URL end on, so a candidate is never longer than X's link.
IP-address hosts and ``localhost`` are not candidates (twitter-text does not link them either).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

URL_WEIGHT = 23
"""What every link counts, whatever its length (twitter-text ``transformedURLLength``)."""

KNOWN_TLDS = frozenset(
    (
        "com", "net", "org", "info", "biz", "io", "co", "jp", "uk", "de", "fr", "eu", "nl", "be", "ch",
        "at", "es", "it", "pt", "se", "no", "fi", "dk", "pl", "cz", "ru", "ua", "us", "ca", "mx", "br",
        "ar", "au", "nz", "in", "cn", "hk", "tw", "kr", "sg", "my", "th", "vn", "id", "ph", "tr", "ae",
        "sa", "il", "za", "ie", "lu", "li", "is", "me", "tv", "cc", "ws", "ly", "gg", "gl", "ai", "so",
        "to", "app", "dev", "page", "link", "xyz", "site", "online", "tech", "cloud", "live", "news",
        "exchange", "finance", "money", "global", "network", "systems",
    )
)  # fmt: skip
"""Top-level domains that X certainly links (all are in twitter-text's list)."""

_PATH = r"[A-Za-z0-9!*';:=+,.$/%#\[\]\-_~|&@]"
_QUERY = r"[A-Za-z0-9!?*'@;:&=+$/%#\[\]\-_.,~|]"
_CANDIDATE = re.compile(
    rf"""
    (?P<scheme>(?i:https?)://)?
    (?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{{2,63}}))
    (?![A-Za-z0-9@+-])
    (?::[0-9]{{1,5}})?
    (?:/{_PATH}*)?
    (?:\?{_QUERY}*)?
    """,
    re.VERBOSE,
)
_PATH_END = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=_#/-+")
_QUERY_END = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_&=#/")
_GLUED_BEFORE = frozenset("@＠$#＃\u202a\u202b\u202c\u202d\u202e")


@dataclass(frozen=True, slots=True)
class Link:
    """A link candidate ``text[start:end]`` and what it weighs."""

    start: int
    end: int
    weight: int


def find_links(text: str) -> Iterator[Link]:
    """Yield the link candidates in ``text``, in order, not overlapping."""
    for match in _CANDIDATE.finditer(text):
        start = match.start()
        end = _trim(text, match.end("host"), match.end())
        certain = (
            match.group("scheme") is not None
            and match.group("tld").lower() in KNOWN_TLDS
            and not _glued(text, start)
        )
        yield Link(start, end, URL_WEIGHT if certain else max(URL_WEIGHT, end - start))


def _trim(text: str, host_end: int, end: int) -> int:
    """Drop trailing characters a link may not end on (``.``, ``,``, ``!``, ``?``...)."""
    while end > host_end:
        in_query = "?" in text[host_end:end]
        if text[end - 1] in (_QUERY_END if in_query else _PATH_END):
            break
        end -= 1
    return end


def _glued(text: str, start: int) -> bool:
    """Whether the character before ``start`` stops X from seeing a link there."""
    if start == 0:
        return False
    before = text[start - 1]
    return (before.isascii() and before.isalnum()) or before in _GLUED_BEFORE
