"""Shortening text to a weight: a prefix cut at a sentence or word boundary, plus "…".

The cut never falls inside a user-perceived character (an emoji sequence, a base with its
combining marks; ``str`` holds whole code points, so never half a surrogate pair) nor inside a link. It prefers, in
order, the end of a sentence (``。．.!?！？`` or a line break), a word boundary (a space, or any
boundary next to a CJK character, where words are not spaced), and, as a last resort for one
very long word, any character boundary. A boundary is only preferred when it keeps at least half
of what fits, so a single early full stop does not throw most of the text away.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from notifiers.x.length import plain_weight, weighted_length
from notifiers.x.segments import clusters
from notifiers.x.urls import find_links

ELLIPSIS = "…"
_SENTENCE_ENDS = frozenset("。．！？")
_ASCII_SENTENCE_ENDS = frozenset(".!?")  # only when a space or a line break follows


@dataclass(frozen=True, slots=True)
class _Atom:
    """An uncuttable piece of text (a character cluster or a whole link) and its weight."""

    start: int
    end: int
    weight: int


def cut(text: str, limit: int) -> str:
    """Return ``text`` if it weighs at most ``limit``, else its best prefix + "…" that does.

    Returns "" when not even the ellipsis fits. ``text`` is expected in NFC (``compose``
    normalises); the result then is too. Only the part of ``text`` that can fit is looked at,
    so a huge text costs no more than a short one.
    """
    ends, complete = _fitting_ends(_atoms(text), limit)
    if complete:
        return text
    ends, _ = _fitting_ends(_atoms(text), limit - weighted_length(ELLIPSIS))
    for end in _preferred(text, ends):
        candidate = text[:end].rstrip() + ELLIPSIS
        if weighted_length(candidate) <= limit:
            return candidate
    return ""


def window(text: str, limit: int) -> str:
    """``text``, or the prefix of it holding everything a cut to ``limit`` can keep, and more.

    The prefix weighs more than ``limit`` (so it is cut exactly as ``text`` would be); use it to
    keep the work on a very long text small.
    """
    total = 0
    for atom in _atoms(text):
        total += atom.weight
        if total > limit:
            return text[: atom.end]
    return text


def _atoms(text: str) -> Iterator[_Atom]:
    """Split ``text`` into atoms, lazily: each link whole, every other cluster on its own."""
    position = 0
    for link in find_links(text):
        yield from _cluster_atoms(text, position, link.start)
        yield _Atom(link.start, link.end, link.weight)
        position = link.end
    yield from _cluster_atoms(text, position, len(text))


def _cluster_atoms(text: str, start: int, end: int) -> Iterator[_Atom]:
    """The clusters of ``text[start:end]`` as atoms."""
    piece = text[start:end]
    for c in clusters(piece):
        yield _Atom(start + c.start, start + c.end, plain_weight(piece[c.start : c.end]))


def _fitting_ends(atoms: Iterator[_Atom], budget: int) -> tuple[list[int], bool]:
    """Every boundary whose prefix weighs at most ``budget``, and whether that is all the text."""
    ends, total = [0], 0
    for atom in atoms:
        total += atom.weight
        if total > budget:
            return ends, False
        ends.append(atom.end)
    return ends, True


def _preferred(text: str, ends: list[int]) -> list[int]:
    """The boundaries to try, best first: sentence ends, word boundaries, then all, longest first."""
    longest = ends[-1]
    keep = [end for end in reversed(ends) if end > 0]
    sentences = [e for e in keep if _ends_sentence(text, e) and 2 * e >= longest]
    words = [e for e in keep if _between_words(text, e) and 2 * e >= longest]
    return sentences + words + keep + [0]


def _ends_sentence(text: str, end: int) -> bool:
    """Whether a sentence ends just before ``end`` (or a line starts there)."""
    before = text[end - 1]
    after = text[end] if end < len(text) else "\n"
    if after == "\n" or before in _SENTENCE_ENDS:
        return True
    return before in _ASCII_SENTENCE_ENDS and after.isspace()


def _between_words(text: str, end: int) -> bool:
    """Whether ``end`` is a word boundary: next to a space or to a CJK character."""
    before, after = text[end - 1], text[end]
    return before.isspace() or after.isspace() or _is_cjk(before) or _is_cjk(after)


def _is_cjk(char: str) -> bool:
    """Whether ``char`` belongs to a script written without spaces (or is wide punctuation)."""
    return unicodedata.east_asian_width(char) in ("W", "F")
