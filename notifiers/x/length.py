"""X's weighted length of a post (twitter-text v3 ``parseTweet``), in whole characters.

Why not a library: the Python port of twitter-text (``twitter-text-parser`` on PyPI) has had no
release since 3.0.0 in May 2023, ships no type information (mypy --strict), needs ``attrs``, and
its emoji table is frozen at an old twemoji version; so exwatch counts by itself, following the v3
configuration:

- the text is counted in NFC, as X does (``compose`` sends NFC text, so both agree);
- a code point in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F or U+2032-U+2037 weighs 1,
  anything else 2 (so kana, kanji and hangul weigh 2);
- an emoji, even a sequence of several code points (skin tone, ZWJ family, flag, keycap),
  weighs 2 (see ``segments`` for how emoji are recognised);
- a link weighs 23 whatever its length (see ``urls`` for how links are recognised);
- a post may weigh at most 280.

Where the approximations differ from X they over-count (the post is cut a little more than
needed) rather than under-count (X would refuse it), except for rare non-standard ZWJ chains.
"""

from __future__ import annotations

import unicodedata

from notifiers.x.segments import clusters
from notifiers.x.urls import find_links

MAX_WEIGHTED_LENGTH = 280
"""The most a post may weigh."""

EMOJI_WEIGHT = 2
"""What one emoji (sequence) weighs."""

_LIGHT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x10FF),
    (0x2000, 0x200D),
    (0x2010, 0x201F),
    (0x2032, 0x2037),
)


def char_weight(char: str) -> int:
    """The weight of one code point: 1 in the light ranges, 2 elsewhere."""
    cp = ord(char)
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def plain_weight(text: str) -> int:
    """The weight of ``text`` holding no link: emoji count 2, other code points their weight."""
    return sum(
        EMOJI_WEIGHT if c.emoji else sum(map(char_weight, text[c.start : c.end]))
        for c in clusters(text)
    )


def weighted_length(text: str) -> int:
    """What X counts for ``text`` (at most ``MAX_WEIGHTED_LENGTH`` for a valid post)."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for link in find_links(text):
        total += plain_weight(text[position : link.start]) + link.weight
        position = link.end
    return total + plain_weight(text[position:])


def fits(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    """Whether ``text`` weighs at most ``limit``."""
    return weighted_length(text) <= limit
