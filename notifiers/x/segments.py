"""User-perceived characters: text split into clusters that must never be cut apart.

The standard library has no grapheme segmentation and no Emoji property, so this is a careful
approximation of Unicode's extended grapheme clusters (UAX #29), good for the texts exwatch
posts, with the emoji sequences X counts as one character flagged:

- CR LF stays together;
- a base character keeps every following combining mark (Mn, Mc, Me), variation selector,
  emoji modifier (skin tone), tag character and zero-width joiner;
- Hangul jamo sequences (L, V, T and precomposed syllables) stay together;
- an emoji is a pictographic character (the emoji blocks and the scattered pictographs listed in
  ``_PICTOGRAPHS``) with its extenders, chained with more emoji by ZWJ (👩‍💻, 👨‍👩‍👧),
  a regional-indicator pair (a flag), or a keycap (``1️⃣``); ``©``, ``®`` and keycaps count as
  emoji only with their emoji-presentation selector, and a text-presentation selector (U+FE0E)
  makes any of them plain characters.

Known gap: a ZWJ chain is taken as one emoji even when it is not a sequence X knows (RGI), where
X would count its parts separately; such chains are vanishingly rare in incident text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

ZWJ = 0x200D
VS15 = 0xFE0E  # text presentation
VS16 = 0xFE0F  # emoji presentation
KEYCAP = 0x20E3

_PICTOGRAPHS: tuple[tuple[int, int], ...] = (
    (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122), (0x2139, 0x2139),
    (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2),
    (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE),
    (0x2600, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3297), (0x3299, 0x3299), (0x1F000, 0x1F1E5), (0x1F200, 0x1FAFF),
)  # fmt: skip
"""Characters that start an emoji on their own (an approximation of Extended_Pictographic)."""

_EMOJI_WITH_VS16 = frozenset({0x00A9, 0x00AE})
"""Light characters that are emoji only when followed by U+FE0F."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """``text[start:end]`` is one user-perceived character; ``emoji`` if X counts it as one."""

    start: int
    end: int
    emoji: bool


def is_pictograph(cp: int) -> bool:
    """Whether ``cp`` starts an emoji by itself."""
    return any(lo <= cp <= hi for lo, hi in _PICTOGRAPHS)


def is_regional_indicator(cp: int) -> bool:
    """Whether ``cp`` is one half of a flag."""
    return 0x1F1E6 <= cp <= 0x1F1FF


def is_extender(cp: int) -> bool:
    """Whether ``cp`` attaches to the character before it (never a place to cut)."""
    return (
        unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0100 <= cp <= 0xE01EF
        or 0xE0020 <= cp <= 0xE007F  # tags (subdivision flags)
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tones
        or cp in (ZWJ, 0x200C)
    )


def clusters(text: str) -> Iterator[Cluster]:
    """Split ``text`` into clusters, in order, covering it whole."""
    i = 0
    while i < len(text):
        end, emoji = _cluster_at(text, i)
        yield Cluster(i, end, emoji)
        i = end


def _cluster_at(text: str, i: int) -> tuple[int, bool]:
    """Return the end of the cluster starting at ``i`` and whether it is an emoji."""
    cp = ord(text[i])
    if text.startswith("\r\n", i):
        return i + 2, False
    if is_regional_indicator(cp):
        pair = i + 1 < len(text) and is_regional_indicator(ord(text[i + 1]))
        return _extend(text, i + (2 if pair else 1), chain=False), True
    if _hangul_type(cp):
        return _extend(text, _hangul_end(text, i), chain=False), False
    end = _extend(text, i + 1, chain=is_pictograph(cp))
    return end, _is_emoji(text, i, end)


def _extend(text: str, j: int, *, chain: bool) -> int:
    """Skip extenders from ``j``; with ``chain`` (an emoji), a ZWJ takes the next pictograph too."""
    while j < len(text) and is_extender(ord(text[j])):
        joined = (
            chain and ord(text[j]) == ZWJ and j + 1 < len(text) and is_pictograph(ord(text[j + 1]))
        )
        j += 2 if joined else 1
    return j


def _is_emoji(text: str, start: int, end: int) -> bool:
    """Whether the cluster ``text[start:end]`` is shown (and counted by X) as one emoji."""
    body = [ord(c) for c in text[start:end]]
    if VS15 in body:
        return False
    first = body[0]
    if is_pictograph(first):
        return True
    if first in _EMOJI_WITH_VS16:
        return len(body) > 1 and body[1] == VS16
    return chr(first) in "0123456789#*" and KEYCAP in body[1:3]


def _hangul_type(cp: int) -> str:
    """The Hangul syllable type of ``cp`` (L, V, T, LV, LVT) or "" for other characters."""
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_NEXT = {"L": ("L", "V", "LV", "LVT"), "V": ("V", "T"), "LV": ("V", "T"), "T": ("T",)}
_HANGUL_NEXT["LVT"] = ("T",)


def _hangul_end(text: str, i: int) -> int:
    """The end of the Hangul syllable starting at ``i`` (UAX #29 rules GB6-GB8)."""
    kind = _hangul_type(ord(text[i]))
    j = i + 1
    while j < len(text):
        following = _hangul_type(ord(text[j]))
        if following not in _HANGUL_NEXT[kind]:
            break
        kind, j = following, j + 1
    return j
